data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "regrooter-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The regions the functions accept (REGROOTER_ALLOWED_REGIONS): the same EU list the region
  # variable is validated against. The functions refuse to start anywhere else.
  eu_regions = ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"]

  artifacts_dir = coalesce(var.lambda_artifacts_dir, "${path.module}/../../../target/lambda")

  # The one definition of the scheduled jobs. The local scheduler reads the same file
  # (functions/src/schedule.rs), so the two can never disagree; tests/terraform.rs checks that
  # this path resolves to it and that every schedule below is derived from it.
  schedules_file = jsondecode(file("${path.module}/../../../functions/schedules.json"))
  schedules      = { for s in local.schedules_file.schedules : s.job => s }

  # What the DynamoDB store (infra/src/dynamodb.rs) calls: GetItem, UpdateItem (every put is a
  # conditional update), DeleteItem, Query, TransactWriteItems (with Update, Delete and
  # ConditionCheck inside, each needing its own action). No PutItem, no Scan.
  table_actions = [
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:TransactWriteItems",
    "dynamodb:UpdateItem",
  ]

  # One Lambda per binary in functions/src/bin. http: function URL behind the edge; job: invoked
  # by EventBridge Scheduler only. Memory 128-256 MB (Rust; the cold-start bench measures the
  # zips), timeouts sized to the work, reserved concurrency so one function cannot starve the
  # others and a flood stays bounded.
  functions = {
    incidents = {
      kind        = "http"
      description = "Security reports, incidents, notifications, audit trail"
      memory      = 256
      timeout     = 10
      concurrency = 20
      batch_write = false
    }
    stripe-webhook = {
      kind        = "http"
      description = "Verified Stripe events"
      memory      = 256
      timeout     = 10
      concurrency = 10
      batch_write = false
    }
    auth = {
      kind        = "http"
      description = "Sign-in, tokens, JWKS, tenant users and roles"
      memory      = 256
      timeout     = 10
      concurrency = 20
      batch_write = false
    }
    sla = {
      kind        = "http"
      description = "Uptime reports, claims, credits"
      memory      = 256
      timeout     = 10
      concurrency = 10
      batch_write = false
    }
    deadline-watch = {
      kind        = "job"
      description = "Incident notification deadline alerts (48 h / 72 h)"
      memory      = 128
      timeout     = 60
      concurrency = 1
      batch_write = false
    }
    retention = {
      kind        = "job"
      description = "Deletion stages after service end"
      memory      = 256
      timeout     = 300
      concurrency = 1
      # The only function deleting in batches (a tenant's partition after 30 days).
      batch_write = true
    }
    sla-probe = {
      kind        = "job"
      description = "Uptime probes and the monthly SLA close"
      memory      = 128
      timeout     = 30
      concurrency = 2
      batch_write = false
    }
  }

  function_names = { for k, f in local.functions : k => "${local.name}-${k}" }
  http_functions = { for k, f in local.functions : k => f if f.kind == "http" }
  job_functions  = { for k, f in local.functions : k => f if f.kind == "job" }

  # Everything a function reads from its environment (functions/src/config.rs and lambda.rs).
  # AWS_REGION is set by Lambda. Encrypted at rest with the CMK (kms_key_arn on each function).
  function_environment = {
    REGROOTER_ENV              = var.environment
    REGROOTER_STORE            = "dynamodb"
    REGROOTER_TABLE            = aws_dynamodb_table.main.name
    REGROOTER_KMS_KEY_ID       = aws_kms_key.main.arn
    REGROOTER_JWKS             = var.jwks
    REGROOTER_CERTIFICATE_JWKS = var.certificate_jwks
    REGROOTER_SLA_TARGETS      = join(",", [for t in var.sla_targets : "${t.name}=${t.url}"])
    REGROOTER_ORIGIN_SECRET    = join(",", var.origin_secrets)
    REGROOTER_ALLOWED_REGIONS  = join(",", local.eu_regions)
    REGROOTER_DPO_CONTACT      = var.dpo_contact
    REGROOTER_SECURITY_CONTACT = var.security_contact
    RUST_LOG                   = var.rust_log
  }

  # Secrets only the functions that use them receive (least privilege): the webhook secrets for
  # verifying Stripe events; the Stripe key for carrying credits to customer balances (the sla
  # function right after a decision, the credit-application job on sla-probe); the key that
  # signs deletion certificates (the retention job); the token signing key and the sign-in
  # index key (the auth function).
  function_secrets = {
    stripe-webhook = { STRIPE_WEBHOOK_SECRET = join(",", var.stripe_webhook_secrets) }
    sla            = { STRIPE_SECRET_KEY = var.stripe_secret_key }
    sla-probe      = { STRIPE_SECRET_KEY = var.stripe_secret_key }
    retention      = { REGROOTER_CERTIFICATE_KEY = var.certificate_signing_key }
    auth           = { REGROOTER_SIGNING_KEY = var.token_signing_key, REGROOTER_INDEX_KEY = var.index_key }
  }
}
