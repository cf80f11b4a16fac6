# One Lambda per function, from the zips scripts/lambda-build makes
# (cargo lambda build --release --x86-64 --output-format zip). The zips must exist at plan
# time: CI builds them first, and source_code_hash makes a new build a new deployment.

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.function_names

  #checkov:skip=CKV_AWS_338:Retention is a choice, not an omission: 90 days (var.log_retention_days) for incident investigation, no longer, for data minimisation; the audit trail is kept in the table, not in logs.

  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_sqs_queue" "dead_letter" {
  for_each = local.function_names

  # Failed asynchronous invocations (the scheduled jobs) land here; HTTP invocations are
  # synchronous and answer their caller instead. Events hold a job name and a time, no
  # personal data; 7 days to investigate, like the backups.
  name                              = "${each.value}-dlq"
  message_retention_seconds         = 604800
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only AWS APIs (DynamoDB, KMS, Logs) over TLS with IAM; no resource of ours lives in a VPC, and a VPC would add NAT or endpoints without narrowing access.
  #checkov:skip=CKV_AWS_272:Code signing needs AWS Signer and an S3 upload step; the zips are built by CI from the reviewed commit and only the release role can update functions (README, Deployment).

  function_name = local.function_names[each.key]
  description   = each.value.description
  role          = aws_iam_role.function[each.key].arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = ["x86_64"]

  filename         = "${local.artifacts_dir}/${each.key}/bootstrap.zip"
  source_code_hash = filebase64sha256("${local.artifacts_dir}/${each.key}/bootstrap.zip")

  memory_size                    = each.value.memory
  timeout                        = each.value.timeout
  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, each.value.concurrency)

  # The environment (secrets included) is encrypted at rest with the CMK, not an AWS-owned key.
  kms_key_arn = aws_kms_key.main.arn

  environment {
    variables = merge(local.function_environment, lookup(local.function_secrets, each.key, {}), lookup(local.mail_environment, each.key, {}))
  }

  lifecycle {
    # Environments never touch each other's money: live Stripe keys only in production.
    precondition {
      condition     = (var.environment == "production") == can(regex("^(sk|rk)_live_", var.stripe_secret_key))
      error_message = "Production takes a live Stripe key, every other environment a test key."
    }
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter[each.key].arn
  }

  # Text: the functions already write one JSON object per line, which the metric filters in
  # alarms.tf match ($.fields.event); Lambda passes the lines through unchanged.
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  depends_on = [aws_iam_role_policy.function]
}

# The HTTP entry: a function URL per HTTP function, reached only through the edge.
#
# Origin lock: every function refuses a request that lacks the edge Worker's HMAC signature over
# method, path, time and body digest (shared/kernel/src/origin_lock.rs; REGROOTER_ORIGIN_SECRET, required
# in staging and production). That signature, not the URL's auth type, is what admits requests.
# AWS_IAM was considered and rejected: the Worker would have to hold long-lived AWS access keys to
# sign SigV4, a stronger secret to lose than the origin-lock HMAC key, which rotates without AWS.
resource "aws_lambda_function_url" "http" {
  for_each = local.http_functions

  #checkov:skip=CKV_AWS_258:Authorization is the origin lock: the function rejects every request not HMAC-signed by the edge Worker (see the comment above).

  function_name      = aws_lambda_function.this[each.key].function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# Function URLs with authorization NONE need both statements since October 2025: invoking the
# URL, and invoking the function through the URL (and nothing else).
resource "aws_lambda_permission" "url" {
  for_each = local.http_functions

  #checkov:skip=CKV_AWS_301:Public only as a function URL; the origin lock (HMAC signature of the edge) admits requests, see aws_lambda_function_url.http.

  statement_id           = "EdgeOnlyFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this[each.key].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "url_invoke" {
  for_each = local.http_functions

  #checkov:skip=CKV_AWS_301:Limited to invocations through the function URL (invoked_via_function_url), which the origin lock guards.

  statement_id             = "EdgeOnlyFunctionUrlInvoke"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this[each.key].function_name
  principal                = "*"
  invoked_via_function_url = true
}
