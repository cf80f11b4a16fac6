# The customer-managed key of this environment: the table, the data keys the functions wrap
# (envelope encryption, shared/kernel/src/crypto), the functions' environment, logs, queues, the alarm
# topic, the schedules and the backup vault are all encrypted with it.
resource "aws_kms_key" "main" {
  description              = "${local.name}: table, data keys, function environment, logs, queues, schedules, backups"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  rotation_period_in_days  = 365
  deletion_window_in_days  = 30
  multi_region             = false
  policy                   = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}

locals {
  # Administration only, action by action: the account (and through it the release role's IAM
  # policy) can manage the key but not use it; use is granted statement by statement below.
  kms_admin_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  # Services that encrypt with the key on the deployer's behalf (grants at create time).
  kms_via_services = [for s in ["backup", "dynamodb", "lambda", "scheduler", "sns", "sqs"] : "${s}.${var.region}.amazonaws.com"]

  log_group_arns = [for k, n in local.function_names : "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${n}"]
}

# In a key policy the resource "*" means "this key" — the only form AWS documents for key
# policies — so every statement below names "*" and narrows by principal and condition instead.
# tests/e2e/terraform.rs knows this document is a key policy and checks its actions, not "*".
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policy: resource "*" is this key only; administration is limited to the account root, which AWS requires so the key stays manageable.
  #checkov:skip=CKV_AWS_111:Key policy: resource "*" is this key only; every write is bound to named principals and conditions.
  #checkov:skip=CKV_AWS_356:Key policy: resource "*" is the only documented form and means this key, not all resources.

  statement {
    sid       = "AccountAdministersTheKey"
    actions   = local.kms_admin_actions
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "DeployersUseTheKeyOnlyThroughIntegratedServices"
    actions = [
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }

    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account_id]
    }
  }

  # Envelope encryption: the functions wrap and unwrap data keys, always with the encryption
  # context {tenant, purpose} (infra/src/kms.rs) and never without one.
  statement {
    sid       = "FunctionsWrapDataKeys"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [for k, r in aws_iam_role.function : r.arn]
    }

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

  # Each function decrypts its own environment (Lambda's encryption context names the function).
  dynamic "statement" {
    for_each = local.function_names
    content {
      actions   = ["kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = [aws_iam_role.function[statement.key].arn]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:LambdaFunctionName"
        values   = [statement.value]
      }
    }
  }

  # Dead-letter queues are SSE-KMS: senders need a data key, through SQS only.
  statement {
    sid       = "DeadLetterQueueSenders"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = concat([for k, r in aws_iam_role.function : r.arn], [aws_iam_role.scheduler.arn])
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.region}.amazonaws.com"]
    }
  }

  # Schedules are encrypted with the key; the scheduler's execution role reads them.
  statement {
    sid       = "SchedulerReadsItsSchedules"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.scheduler.arn]
    }
  }

  # CloudWatch Logs encrypts the functions' log groups, and only those.
  statement {
    sid = "CloudWatchLogsEncryptsTheFunctionLogGroups"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.log_group_arns
    }
  }

  # SES publishes the configuration set's delivery events to the encrypted mail events topic.
  statement {
    sid       = "SesPublishesToTheEncryptedMailEventsTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic.
  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

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
