# Mail through Amazon SES v2 in this (EU) region: a domain identity with DKIM, a configuration
# set that requires TLS to the receiving server and publishes delivery, bounce, complaint and
# reject events to an encrypted SNS topic, and that topic's one subscriber, the incidents
# function (functions/src/mail.rs). The functions the registry marks "mail" (functions.json)
# may send, from that identity through that configuration set only, and get the mail settings.

locals {
  mail_functions = { for k, f in local.functions : k => f if f.mail }
  mail_from      = "${var.mail_sender}@${var.mail_domain}"

  # What a function that sends mail reads besides the common environment (functions/src/config.rs).
  # The incidents function also receives the delivery events, from this topic only.
  mail_environment = {
    for k, f in local.mail_functions : k => merge(
      {
        REGROOTER_MAIL                  = "ses"
        REGROOTER_SES_CONFIGURATION_SET = aws_sesv2_configuration_set.mail.configuration_set_name
        REGROOTER_MAIL_FROM             = local.mail_from
      },
      k == "incidents" ? { REGROOTER_MAIL_EVENTS_TOPIC = aws_sns_topic.mail_events.arn } : {},
    )
  }
}

resource "aws_sesv2_configuration_set" "mail" {
  configuration_set_name = local.name

  delivery_options {
    # Never hand a notice to a receiving server in clear.
    tls_policy = "REQUIRE"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }
}

resource "aws_sesv2_email_identity" "mail" {
  email_identity         = var.mail_domain
  configuration_set_name = aws_sesv2_configuration_set.mail.configuration_set_name

  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

resource "aws_sns_topic" "mail_events" {
  name              = "${local.name}-mail-events"
  kms_master_key_id = aws_kms_key.main.arn
}

data "aws_iam_policy_document" "mail_events_topic" {
  statement {
    sid       = "SesPublishesThisConfigurationSetsEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.mail_events.arn]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sesv2_configuration_set.mail.arn]
    }
  }
}

resource "aws_sns_topic_policy" "mail_events" {
  arn    = aws_sns_topic.mail_events.arn
  policy = data.aws_iam_policy_document.mail_events_topic.json
}

resource "aws_sesv2_configuration_set_event_destination" "mail" {
  configuration_set_name = aws_sesv2_configuration_set.mail.configuration_set_name
  event_destination_name = "delivery-events"

  event_destination {
    enabled              = true
    matching_event_types = ["DELIVERY", "BOUNCE", "COMPLAINT", "REJECT"]

    sns_destination {
      topic_arn = aws_sns_topic.mail_events.arn
    }
  }

  depends_on = [aws_sns_topic_policy.mail_events]
}

resource "aws_sns_topic_subscription" "mail_events" {
  topic_arn = aws_sns_topic.mail_events.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["incidents"].arn
}

# Only the mail events topic may invoke the incidents function this way.
resource "aws_lambda_permission" "mail_events" {
  statement_id  = "MailEventsTopicOnly"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["incidents"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.mail_events.arn
}
