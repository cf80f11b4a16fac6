variable "environment" {
  description = "Which deployment this is; becomes REGROOTER_ENV and part of every name (regrooter-<environment>)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be dev, staging or production."
  }
}

variable "region" {
  description = "AWS region everything is created in. Customer data stays in the EU: only AWS regions in EU member states are accepted."
  type        = string
  default     = "eu-central-1"

  validation {
    # AWS's eu-* regions inside the EU (functions::lambda::EU_REGIONS; the Rust test keeps the two
    # lists equal). London and Zurich carry the eu- prefix but are outside the EU, so they are absent.
    condition     = contains(["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"], var.region)
    error_message = "region must be an AWS region in an EU member state (eu-central-1 Frankfurt is the default)."
  }
}

variable "lambda_artifacts_dir" {
  description = "Folder holding <function>/bootstrap.zip as built by scripts/lambda-build; defaults to the repository's target/lambda."
  type        = string
  default     = null
}

variable "jwks" {
  description = "Public JWKS (JSON) the functions verify access tokens with. Public keys only, so not sensitive."
  type        = string

  validation {
    condition     = can(jsondecode(var.jwks).keys)
    error_message = "jwks must be a JSON document with a \"keys\" array."
  }
}

variable "origin_secrets" {
  description = "Origin-lock secrets the functions accept (the edge signs with the first; more than one during a rotation). From the CI secret store via TF_VAR_..., never from a file."
  type        = list(string)
  sensitive   = true

  validation {
    condition     = length(var.origin_secrets) > 0 && alltrue([for s in var.origin_secrets : length(s) >= 32 && !strcontains(s, ",")])
    error_message = "origin_secrets needs at least one secret; each at least 32 characters and without commas."
  }
}

variable "dpo_contact" {
  description = "Data protection officer's contact quoted in breach notifications (REGROOTER_DPO_CONTACT)."
  type        = string
  default     = "datenschutz@regrooter.de"
}

variable "security_contact" {
  description = "Security contact published in security.txt (REGROOTER_SECURITY_CONTACT)."
  type        = string
  default     = "mailto:security@regrooter.de"
}

variable "alert_email" {
  description = "The security team's mailbox: the deadline watch mails its alerts there (REGROOTER_ALERT_EMAIL)."
  type        = string
  default     = "security@regrooter.de"
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be one e-mail address."
  }
}

variable "rust_log" {
  description = "RUST_LOG filter of every function."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps function logs. 90: long enough to investigate an incident reported late (the 72 h duty runs from awareness, which can come weeks after the fact), short enough for data minimisation — the logs hold no personal data, the audit trail lives in the table."
  type        = number
  default     = 90

  validation {
    condition     = contains([30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention between 30 and 365 days."
  }
}

variable "reserved_concurrency" {
  description = "Per-function overrides of the reserved concurrency in locals.tf (e.g. lower in dev, where the account quota is small)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for v in values(var.reserved_concurrency) : v >= 1])
    error_message = "reserved concurrency must be at least 1 (0 would switch a function off)."
  }
}

variable "alarm_subscriptions" {
  description = "Who the alarm topic notifies: protocol (email, https, ...) and endpoint. Prefer team addresses over personal ones."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "origin_lock_rejection_threshold" {
  description = "Refused unsigned requests per 5 minutes that count as a spike of security events."
  type        = number
  default     = 25
}

variable "security_report_threshold" {
  description = "Security reports per hour that count as a spike (a wave of reports is itself an incident signal, or abuse of the form)."
  type        = number
  default     = 10
}

variable "stripe_webhook_secrets" {
  description = "Stripe webhook endpoint secrets (whsec_...) the stripe-webhook function accepts; more than one during a rotation. From the CI secret store via TF_VAR_..., never from a file."
  type        = list(string)
  sensitive   = true

  validation {
    condition     = length(var.stripe_webhook_secrets) > 0 && alltrue([for s in var.stripe_webhook_secrets : length(s) >= 16 && !strcontains(s, ",")])
    error_message = "stripe_webhook_secrets needs at least one secret; each at least 16 characters and without commas."
  }
}

variable "stripe_secret_key" {
  description = "Stripe restricted key (write access to customer balances only) for credits: rk_live_/sk_live_ in production, rk_test_/sk_test_ elsewhere. Given only to the functions that apply credits."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^(sk|rk)_(live|test)_[A-Za-z0-9]+$", var.stripe_secret_key))
    error_message = "stripe_secret_key must be a Stripe secret or restricted key."
  }
}

variable "certificate_signing_key" {
  description = "Ed25519 key that signs deletion certificates: the 64-byte secret, base64. Only the retention function receives it. From the CI secret store via TF_VAR_..., never from a file."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{86}==$", var.certificate_signing_key))
    error_message = "certificate_signing_key must be 64 bytes, base64 (88 characters ending in ==)."
  }
}

variable "certificate_jwks" {
  description = "Public JWKS (JSON) deletion certificates are verified with: the current signing key and any earlier ones, published at /.well-known/deletion-certificate-keys.json. Public keys only, so not sensitive."
  type        = string

  validation {
    condition     = can(jsondecode(var.certificate_jwks).keys)
    error_message = "certificate_jwks must be a JSON document with a \"keys\" array."
  }
}

variable "sla_targets" {
  description = "Endpoints the sla-probe job checks every minute for the monthly uptime figure: a name (letters, digits, - and _) and an https URL, normally the public hostname's /healthz, which passes the edge, a function and the table."
  type = list(object({
    name = string
    url  = string
  }))

  validation {
    condition     = length(var.sla_targets) > 0 && alltrue([for t in var.sla_targets : can(regex("^[A-Za-z0-9_-]{1,64}$", t.name)) && startswith(t.url, "https://") && !strcontains(t.url, ",")])
    error_message = "sla_targets needs at least one target; names of letters, digits, - and _; https URLs without commas."
  }
}

variable "token_signing_key" {
  description = "Ed25519 key that signs access tokens (regrooter auth new-signing-key): the 64-byte secret, base64. Only the auth function receives it; its public key must be in jwks. From the CI secret store via TF_VAR_..., never from a file."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{86}==$", var.token_signing_key))
    error_message = "token_signing_key must be 64 bytes, base64 (88 characters ending in ==)."
  }
}

variable "index_key" {
  description = "Key of the sign-in blind index (regrooter auth new-index-key): 32 bytes, base64. Only the auth function receives it. From the CI secret store via TF_VAR_..., never from a file."
  type        = string
  sensitive   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.index_key))
    error_message = "index_key must be 32 bytes, base64 (44 characters ending in =)."
  }
}

variable "public_url" {
  description = "Where the platform is reached from outside (REGROOTER_PUBLIC_URL): links in mail, such as a reporter's status page, point below it."
  type        = string

  validation {
    condition     = startswith(var.public_url, "https://") && !endswith(var.public_url, "/")
    error_message = "public_url must be an https URL without a trailing slash."
  }
}

variable "mail_domain" {
  description = "The domain mail is sent from: an SES domain identity with DKIM in this region. Its DKIM records (output mail_dkim_records) must be published in its DNS before SES sends."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.mail_domain))
    error_message = "mail_domain must be a lowercase domain name."
  }
}

variable "mail_sender" {
  description = "The local part of the sender address at mail_domain (notices, reporter acknowledgements)."
  type        = string
  default     = "security"

  validation {
    condition     = can(regex("^[a-z0-9._-]{1,64}$", var.mail_sender))
    error_message = "mail_sender must be a plain local part (letters, digits, . _ -)."
  }
}
