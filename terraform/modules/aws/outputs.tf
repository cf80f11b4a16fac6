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
