# The single table of this environment (layout: ARCHITECTURE.md, "Storage layout").
resource "aws_dynamodb_table" "main" {
  name                        = local.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  # Rate and idempotency records expire; the store also treats expired items as absent.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  # The trust page: backups kept 7 days. Continuous backups reach back exactly that far, so a
  # crypto-shredded data key survives in no restorable copy for longer.
  point_in_time_recovery {
    enabled                 = true
    recovery_period_in_days = 7
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }

  lifecycle {
    prevent_destroy = true
  }
}
