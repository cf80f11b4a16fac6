output "table_name" {
  description = "The environment's DynamoDB table."
  value       = module.aws.table_name
}

output "function_urls" {
  description = "Origins behind the edge (reachable only with the edge's signature)."
  value       = module.aws.function_urls
}

output "schedules" {
  description = "Deployed schedule expressions by job."
  value       = module.aws.schedules
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.aws.alarm_topic_arn
}

output "worker_routes" {
  description = "Routes running the edge Worker."
  value       = module.cloudflare.routes
}

output "mail_dkim_records" {
  description = "The CNAME records to publish in the mail domain's DNS (SES Easy DKIM) before SES sends."
  value       = module.aws.mail_dkim_records
}
