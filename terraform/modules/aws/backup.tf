# AWS Backup: a daily backup of the table, kept 7 days (the trust page), in a vault encrypted
# with the CMK. Together with point-in-time recovery (also 7 days) no copy holding a shredded
# data key outlives the promise.

resource "aws_backup_vault" "main" {
  name        = local.name
  kms_key_arn = aws_kms_key.main.arn
}

# Governance-mode lock: recovery points in this vault can be kept neither shorter nor longer than
# 7 days, whatever a later plan says.
resource "aws_backup_vault_lock_configuration" "main" {
  backup_vault_name  = aws_backup_vault.main.name
  min_retention_days = 7
  max_retention_days = 7
}

resource "aws_backup_plan" "main" {
  name = local.name

  rule {
    rule_name                    = "daily-kept-7-days"
    target_vault_name            = aws_backup_vault.main.name
    schedule                     = "cron(0 3 * * ? *)"
    schedule_expression_timezone = "UTC"
    start_window                 = 60
    completion_window            = 180

    lifecycle {
      delete_after = 7
    }
  }
}

resource "aws_backup_selection" "table" {
  name         = "${local.name}-table"
  plan_id      = aws_backup_plan.main.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = [aws_dynamodb_table.main.arn]
}
