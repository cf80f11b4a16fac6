# One EventBridge Scheduler schedule per entry of functions/schedules.json (local.schedules):
# the expression verbatim (EventBridge cron syntax, UTC), the entry's function as target, and
# the event the job Lambdas parse: {"job", "scheduled_time"} (functions/src/lambda.rs).

resource "aws_scheduler_schedule_group" "jobs" {
  name = local.name
}

resource "aws_sqs_queue" "scheduler_dead_letter" {
  # Events the scheduler could not deliver after its retries.
  name                              = "${local.name}-scheduler-dlq"
  message_retention_seconds         = 604800
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_scheduler_schedule" "job" {
  for_each = local.schedules

  name        = "${local.name}-${each.key}"
  group_name  = aws_scheduler_schedule_group.jobs.name
  description = each.value.description
  state       = "ENABLED"

  schedule_expression          = each.value.expression
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.main.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this[each.value.function].arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      job            = each.value.job
      scheduled_time = "<aws.scheduler.scheduled-time>"
    })

    # A late run is still useful for 15 minutes (the deadline watch's own interval). Jobs work
    # from the scheduled time they are given, not the clock, so a retry does the same work.
    retry_policy {
      maximum_event_age_in_seconds = 900
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.scheduler_dead_letter.arn
    }
  }
}
