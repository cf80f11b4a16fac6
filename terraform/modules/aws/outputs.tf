output "table_name" {
  description = "The environment's DynamoDB table."
  value       = aws_dynamodb_table.main.name
}

output "kms_key_arn" {
  description = "The customer-managed key."
  value       = aws_kms_key.main.arn
}

output "function_names" {
  description = "Lambda function name by function."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "function_urls" {
  description = "Function URL by HTTP function: the origins the edge Worker forwards to."
  value       = { for k, u in aws_lambda_function_url.http : k => u.function_url }
}

output "schedules" {
  description = "Schedule expression by job, as deployed (from functions/schedules.json)."
  value       = { for k, s in aws_scheduler_schedule.job : k => s.schedule_expression }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "backup_vault_name" {
  description = "The backup vault (7-day recovery points)."
  value       = aws_backup_vault.main.name
}

output "mail_dkim_records" {
  description = "SES Easy DKIM: publish each as a CNAME <token>._domainkey.<mail_domain> -> <token>.dkim.amazonses.com."
  value = {
    for token in aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens :
    "${token}._domainkey.${var.mail_domain}" => "${token}.dkim.amazonses.com"
  }
}

output "mail_events_topic_arn" {
  description = "SNS topic of SES's delivery, bounce, complaint and reject events (subscribed: the incidents function)."
  value       = aws_sns_topic.mail_events.arn
}
