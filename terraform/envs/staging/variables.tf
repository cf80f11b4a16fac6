variable "region" {
  description = "AWS region of this environment. Customer data stays in the EU: only AWS regions in EU member states are accepted."
  type        = string
  default     = "eu-central-1"

  validation {
    condition     = contains(["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"], var.region)
    error_message = "region must be an AWS region in an EU member state (eu-central-1 Frankfurt is the default)."
  }
}

variable "aws_account_id" {
  description = "The AWS account of this environment (each environment has its own). Set by the pipeline's environment configuration."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id."
  }
}

variable "cloudflare_account_id" {
  description = "The Cloudflare account of this environment."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "The Cloudflare zone serving this environment's hostname."
  type        = string
}

variable "jwks" {
  description = "Public JWKS (JSON) access tokens are verified with, at the edge and in the functions."
  type        = string
}

variable "origin_secret" {
  description = "Current origin-lock secret (>= 32 characters): the Worker signs with it, the functions accept it. TF_VAR_origin_secret from the CI secret store."
  type        = string
  sensitive   = true
}

variable "origin_secret_previous" {
  description = "The previous origin-lock secret, still accepted by the functions while a rotation is under way; empty otherwise."
  type        = string
  sensitive   = true
  default     = ""
}

variable "ip_hash_key" {
  description = "Key the Worker hashes client addresses with (>= 32 characters). TF_VAR_ip_hash_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "alarm_subscriptions" {
  description = "Who is notified of alarms (protocol and endpoint)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "lambda_artifacts_dir" {
  description = "Folder with <function>/bootstrap.zip (scripts/lambda-build); the repository's target/lambda when null."
  type        = string
  default     = null
}

variable "worker_bundle_dir" {
  description = "Folder with the built edge Worker (JavaScript shim and wasm); the edge crate's build/ when null."
  type        = string
  default     = null
}

variable "stripe_webhook_secret" {
  description = "Current Stripe webhook endpoint secret (whsec_...). TF_VAR_stripe_webhook_secret from the CI secret store."
  type        = string
  sensitive   = true
}

variable "stripe_webhook_secret_previous" {
  description = "The previous Stripe webhook secret, still accepted while Stripe rolls the endpoint secret; empty otherwise."
  type        = string
  sensitive   = true
  default     = ""
}

variable "stripe_secret_key" {
  description = "Stripe restricted key with write access to customer balances (credits). TF_VAR_stripe_secret_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "certificate_signing_key" {
  description = "Ed25519 key (64 bytes, base64) that signs deletion certificates; only the retention function gets it. TF_VAR_certificate_signing_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "certificate_jwks" {
  description = "Public JWKS (JSON) of the deletion-certificate keys, current and earlier: published for customers to verify their certificates."
  type        = string
}

variable "token_signing_key" {
  description = "Ed25519 key (64 bytes, base64) that signs access tokens; only the auth function gets it. TF_VAR_token_signing_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "index_key" {
  description = "Sign-in blind index key (32 bytes, base64); only the auth function gets it. TF_VAR_index_key from the CI secret store."
  type        = string
  sensitive   = true
}

variable "product_targets" {
  description = "The product customers use, as the SLA measures it every minute from both vantages (the sla-probe function in the region, the Worker's cron at the edge): name and https URL of each endpoint's health check. Set per environment; not the trust page's host, whose uptime is not the product's."
  type = list(object({
    name = string
    url  = string
  }))
}

