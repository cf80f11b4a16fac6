# Alarms: errors and throttles of every function, missed incident deadlines, and spikes of
# security events, all notifying one encrypted SNS topic.

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = { for s in var.alarm_subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]

  # Errors and Throttles of every function: any in 5 minutes is worth a look.
  function_alarms = {
    for pair in setproduct(keys(local.functions), ["Errors", "Throttles"]) :
    "${pair[0]}-${lower(pair[1])}" => { function = pair[0], metric = pair[1] }
  }

  # Events the functions log as JSON lines (tracing's JSON: the fields under "fields"):
  # functions/src/jobs.rs (incident_deadline_alert, kind Missed, DueSoon or Undelivered — the last
  # also from functions/src/mail.rs),
  # functions/src/http.rs (origin_lock_rejected), functions/src/routes/incidents.rs (report_received).
  log_events = {
    missed-incident-deadlines = {
      metric      = "MissedIncidentDeadlines"
      pattern     = "{ $.fields.event = \"incident_deadline_alert\" && $.fields.kind = \"Missed\" }"
      functions   = ["deadline-watch"]
      period      = 900
      threshold   = 1
      description = "An incident notification deadline (48 h customers, 72 h authority) was missed."
    }
    incident-deadlines-due-soon = {
      metric      = "IncidentDeadlinesDueSoon"
      pattern     = "{ $.fields.event = \"incident_deadline_alert\" && $.fields.kind = \"DueSoon\" }"
      functions   = ["deadline-watch"]
      period      = 900
      threshold   = 1
      description = "An incident notification deadline is due within 12 hours."
    }
    undelivered-notices = {
      metric      = "UndeliveredIncidentNotices"
      pattern     = "{ $.fields.event = \"incident_deadline_alert\" && $.fields.kind = \"Undelivered\" }"
      functions   = ["incidents", "deadline-watch"]
      period      = 300
      threshold   = 1
      description = "A customer notice did not reach the customer (refused, bounced or interrupted): the 48 h duty is open again."
    }
    origin-lock-rejections = {
      metric      = "OriginLockRejected"
      pattern     = "{ $.fields.event = \"origin_lock_rejected\" }"
      functions   = keys(local.http_functions)
      period      = 300
      threshold   = var.origin_lock_rejection_threshold
      description = "Spike of requests reaching a function URL without the edge's signature (someone bypassing the edge)."
    }
    security-reports = {
      metric      = "SecurityReportsReceived"
      pattern     = "{ $.fields.event = \"report_received\" }"
      functions   = ["incidents"]
      period      = 3600
      threshold   = var.security_report_threshold
      description = "Spike of security reports received."
    }
  }

  log_event_filters = merge([
    for event, e in local.log_events : {
      for f in e.functions : "${event}-${f}" => { event = event, function = f }
    }
  ]...)

  metric_namespace = "Regrooter/${var.environment}"
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = local.function_alarms

  alarm_name          = "${local.function_names[each.value.function]}-${lower(each.value.metric)}"
  alarm_description   = "${each.value.metric} of the ${each.value.function} function."
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.this[each.value.function].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_log_metric_filter" "event" {
  for_each = local.log_event_filters

  name           = "${local.name}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.function[each.value.function].name
  pattern        = local.log_events[each.value.event].pattern

  metric_transformation {
    name      = local.log_events[each.value.event].metric
    namespace = local.metric_namespace
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "event" {
  for_each = local.log_events

  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.metric_namespace
  metric_name         = each.value.metric
  statistic           = "Sum"
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_cloudwatch_log_metric_filter.event]
}
