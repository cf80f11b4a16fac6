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
  # (functions/src/schedule.rs), so the two can never disagree; tests/e2e/terraform.rs checks that
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

  # The deployed functions: one Lambda per entry of functions/functions.json (the registry the
  # edge routes by and the functions build their routers from), one binary each in
  # functions/src/bin. http: function URL behind the edge; job: invoked by EventBridge Scheduler
  # only. Kind and description come from the registry; the sizing is Terraform's: memory
  # 128-256 MB (Rust; the cold-start bench measures the zips), timeouts sized to the work,
  # reserved concurrency so one function cannot starve the others and a flood stays bounded.
  registry = jsondecode(file("${path.module}/../../../functions/functions.json"))

  function_sizing = {
    incidents = {
      memory      = 256
      timeout     = 10
      concurrency = 20
      batch_write = false
    }
    stripe-webhook = {
      memory      = 256
      timeout     = 10
      concurrency = 10
      batch_write = false
    }
    auth = {
      memory      = 256
      timeout     = 10
      concurrency = 20
      batch_write = false
    }
    sla = {
      memory      = 256
      timeout     = 10
      concurrency = 10
      batch_write = false
    }
    portal = {
      memory      = 256
      timeout     = 10
      concurrency = 20
      batch_write = false
    }
    console = {
      memory      = 256
      timeout     = 10
      concurrency = 10
      batch_write = false
    }
    deadline-watch = {
      memory      = 128
      timeout     = 60
      concurrency = 1
      batch_write = false
    }
    retention = {
      memory      = 256
      timeout     = 300
      concurrency = 1
      # The only function deleting in batches (a tenant's partition after 30 days).
      batch_write = true
    }
    sla-probe = {
      memory      = 128
      timeout     = 30
      concurrency = 2
      batch_write = false
    }
  }
  functions = {
    for name, f in local.registry.functions : name => merge(local.function_sizing[name], {
      kind        = f.kind
      description = f.description
      mail        = lookup(f, "mail", false)
      # Runs the trust-statement job: reads the KMS key's rotation state for the statement.
      states_trust = name == local.schedules["trust-statement"].function
    })
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
    REGROOTER_ALERT_EMAIL      = var.alert_email
    REGROOTER_PUBLIC_URL       = var.public_url
    RUST_LOG                   = var.rust_log
    # The trust statement's backup evidence: the deployed plan's own retention, not a copy.
    REGROOTER_BACKUP_RETENTION_DAYS = tostring(one(aws_backup_plan.main.rule).lifecycle[0].delete_after)
  }

  # Secrets only the functions that use them receive (least privilege): the webhook secrets for
  # verifying Stripe events; the Stripe key for carrying credits to customer balances (only the
  # credit-application job on sla-probe: decisions elsewhere leave credits pending for it); the key that
  # signs deletion certificates (the retention job); the token signing key and the sign-in
  # index key (the auth function).
  function_secrets = {
    stripe-webhook = { STRIPE_WEBHOOK_SECRET = join(",", var.stripe_webhook_secrets) }
    sla-probe      = { STRIPE_SECRET_KEY = var.stripe_secret_key }
    retention      = { REGROOTER_CERTIFICATE_KEY = var.certificate_signing_key }
    auth           = { REGROOTER_SIGNING_KEY = var.token_signing_key, REGROOTER_INDEX_KEY = var.index_key }
  }
}
