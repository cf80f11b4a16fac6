# One role per function, holding only what that function calls. No "*" action or resource in
# any policy written here (tests/e2e/terraform.rs checks every policy document and inline policy).

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = local.function_names

  name                 = each.value
  description          = "Runs the ${each.key} function of ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "TableItems"
    actions   = each.value.batch_write ? concat(local.table_actions, ["dynamodb:BatchWriteItem"]) : local.table_actions
    resources = [aws_dynamodb_table.main.arn]
  }

  statement {
    sid       = "IndexQueries"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.main.arn}/index/gsi1"]
  }

  statement {
    sid       = "WrapDataKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "kms:EncryptionContextKeys"
      values   = ["tenant", "purpose"]
    }

    condition {
      test     = "Null"
      variable = "kms:EncryptionContextKeys"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ReadOwnEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:LambdaFunctionName"
      values   = [local.function_names[each.key]]
    }
  }

  statement {
    sid     = "OwnLogGroup"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # The streams Lambda creates in the function's own group; the prefix is that group's ARN.
    resources = [
      aws_cloudwatch_log_group.function[each.key].arn,
      "${aws_cloudwatch_log_group.function[each.key].arn}:log-stream:*",
    ]
  }

  # The function that makes the trust statement reads whether KMS rotates the key (the
  # statement's evidence for key rotation); reading the state changes nothing.
  dynamic "statement" {
    for_each = each.value.states_trust ? ["trust"] : []
    content {
      sid       = "ReadKeyRotationState"
      actions   = ["kms:GetKeyRotationStatus"]
      resources = [aws_kms_key.main.arn]
    }
  }

  # A function that sends mail: SendEmail from the platform's identity, through its
  # configuration set (SES v2 authorises against both), and from the one sender address.
  dynamic "statement" {
    for_each = each.value.mail ? ["mail"] : []
    content {
      sid       = "SendMailFromTheIdentityOnly"
      actions   = ["ses:SendEmail"]
      resources = [aws_sesv2_email_identity.mail.arn, aws_sesv2_configuration_set.mail.arn]

      condition {
        test     = "StringEquals"
        variable = "ses:FromAddress"
        values   = [local.mail_from]
      }
    }
  }

  statement {
    sid       = "OwnDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter[each.key].arn]
  }

  statement {
    sid       = "OwnDeadLetterQueueEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [aws_sqs_queue.dead_letter[each.key].arn]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "${local.function_names[each.key]}-least-privilege"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# X-Ray's PutTraceSegments/PutTelemetryRecords exist only with resource "*" in AWS, so they are
# not written here: the AWS-managed policy that holds exactly those (and the sampling reads)
# is attached instead. tests/e2e/terraform.rs allows only the managed policies named in this module.
resource "aws_iam_role_policy_attachment" "function_xray" {
  for_each = local.function_names

  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# EventBridge Scheduler's execution role: invoke the job functions the schedules name, send
# failed events to its dead-letter queue, read the encrypted schedules.
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name                 = "${local.name}-scheduler"
  description          = "EventBridge Scheduler invoking the job functions of ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeScheduledFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = distinct([for s in local.schedules : aws_lambda_function.this[s.function].arn])
  }

  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.scheduler_dead_letter.arn]
  }

  statement {
    sid       = "EncryptedSchedulesAndQueue"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${local.name}-scheduler-least-privilege"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# AWS Backup's service role, with AWS's managed backup/restore policies (they are scoped by the
# backup selection, which names the table only).
data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  name                 = "${local.name}-backup"
  description          = "AWS Backup taking and restoring the backups of ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.backup_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "backup" {
  for_each = toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"])

  role       = aws_iam_role.backup.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/${each.value}"
}
