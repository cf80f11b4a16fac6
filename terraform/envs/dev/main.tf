# Development: small reserved concurrency (new accounts have a small quota).
# The hostname must be served by this environment's Cloudflare zone (var.cloudflare_zone_id).
locals {
  environment = "dev"
  hostname    = "trust.dev.regrooter.de"
  reserved_concurrency = {
    incidents      = 2
    stripe-webhook = 2
    auth           = 2
    sla            = 2
  }
}

module "aws" {
  source = "../../modules/aws"

  environment             = local.environment
  region                  = var.region
  lambda_artifacts_dir    = var.lambda_artifacts_dir
  jwks                    = var.jwks
  origin_secrets          = compact([var.origin_secret, var.origin_secret_previous])
  stripe_webhook_secrets  = compact([var.stripe_webhook_secret, var.stripe_webhook_secret_previous])
  stripe_secret_key       = var.stripe_secret_key
  certificate_signing_key = var.certificate_signing_key
  certificate_jwks        = var.certificate_jwks
  token_signing_key       = var.token_signing_key
  index_key               = var.index_key
  sla_targets             = var.product_targets
  public_url              = "https://${local.hostname}"
  mail_domain             = "notify.dev.regrooter.de"
  reserved_concurrency    = local.reserved_concurrency
  alarm_subscriptions     = var.alarm_subscriptions
}

module "cloudflare" {
  source = "../../modules/cloudflare"

  environment       = local.environment
  account_id        = var.cloudflare_account_id
  zone_id           = var.cloudflare_zone_id
  route_patterns    = ["${local.hostname}/*"]
  public_hostname   = local.hostname
  probe_targets     = var.product_targets
  worker_bundle_dir = coalesce(var.worker_bundle_dir, "${path.root}/../../../edge/build")
  origin_urls       = module.aws.function_urls
  jwks              = var.jwks
  origin_secret     = var.origin_secret
  ip_hash_key       = var.ip_hash_key
}
