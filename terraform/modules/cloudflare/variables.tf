variable "environment" {
  description = "Which deployment this is (dev, staging, production); passed to the Worker as ENVIRONMENT."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be dev, staging or production."
  }
}

variable "account_id" {
  description = "Cloudflare account of this environment (one account per environment)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.account_id))
    error_message = "account_id must be a 32-character Cloudflare account identifier."
  }
}

variable "zone_id" {
  description = "Cloudflare zone the Worker's routes, WAF and rate limiting belong to."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.zone_id))
    error_message = "zone_id must be a 32-character Cloudflare zone identifier."
  }
}

variable "route_patterns" {
  description = "Route patterns of the zone that run the Worker, e.g. [\"trust.example.com/*\"]."
  type        = list(string)

  validation {
    condition     = length(var.route_patterns) > 0 && alltrue([for p in var.route_patterns : endswith(p, "/*")])
    error_message = "Give at least one route pattern, each ending in /* so every path passes the edge."
  }
}

variable "script_name" {
  description = "Name of the Worker."
  type        = string
  default     = "regrooter-edge"
}

variable "worker_bundle_dir" {
  description = "Folder of the built Worker bundle (worker-build's output: the JavaScript shim and the wasm module)."
  type        = string
}

variable "worker_main_module" {
  description = "File name of the bundle's JavaScript entry module inside worker_bundle_dir."
  type        = string
  default     = "index.js"
}

variable "worker_wasm_module" {
  description = "File name of the compiled wasm module inside worker_bundle_dir, imported by the entry module."
  type        = string
  default     = "index_bg.wasm"
}

variable "compatibility_date" {
  description = "Workers runtime compatibility date the edge is tested against."
  type        = string
  default     = "2025-09-01"
}

variable "origin_urls" {
  description = "Function URL of each HTTP function (module aws output function_urls): incidents, stripe-webhook, auth, sla."
  type        = map(string)

  validation {
    condition     = toset(keys(var.origin_urls)) == toset(["incidents", "stripe-webhook", "auth", "sla", "portal", "console"]) && alltrue([for u in values(var.origin_urls) : startswith(u, "https://")])
    error_message = "origin_urls needs exactly incidents, stripe-webhook, auth, sla, portal and console, each an https:// URL."
  }
}

variable "jwks" {
  description = "Public JWKS (JSON) the edge verifies access tokens with."
  type        = string

  validation {
    condition     = can(jsondecode(var.jwks).keys)
    error_message = "jwks must be a JSON document with a \"keys\" array."
  }
}

variable "origin_secret" {
  description = "Secret the Worker signs forwarded requests with (the origin lock). From the CI secret store via TF_VAR_origin_secret, never from a file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.origin_secret) >= 32
    error_message = "origin_secret must be at least 32 characters."
  }
}

variable "ip_hash_key" {
  description = "Key the Worker hashes client IP addresses with before rate limiting or logging them. From the CI secret store via TF_VAR_ip_hash_key."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.ip_hash_key) >= 32
    error_message = "ip_hash_key must be at least 32 characters."
  }
}

variable "sign_in_rate_limit" {
  description = "Sign-in requests (POST /auth/...) per minute and client before Cloudflare blocks for the mitigation timeout."
  type        = number
  default     = 10
}

variable "report_rate_limit" {
  description = "Security reports (POST /security/reports) per minute and client before Cloudflare blocks."
  type        = number
  default     = 5
}

variable "api_rate_limit" {
  description = "Requests to /api/ per minute and client before Cloudflare blocks (the Worker's own Durable Object limiter is finer)."
  type        = number
  default     = 300
}

variable "rate_limit_mitigation_timeout" {
  description = "Seconds a client stays blocked after exceeding a rate limit (600 needs the Business plan; Pro allows 60)."
  type        = number
  default     = 600

  validation {
    condition     = contains([60, 120, 300, 600, 3600], var.rate_limit_mitigation_timeout)
    error_message = "rate_limit_mitigation_timeout must be one of Cloudflare's values: 60, 120, 300, 600, 3600."
  }
}

variable "public_hostname" {
  description = "The hostname the Worker serves (the trust page, security.txt, the portal): security.txt's Policy and Canonical point there."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.public_hostname))
    error_message = "public_hostname must be a lower-case DNS name."
  }
}

variable "security_contact" {
  description = "Security contact published in security.txt (the same as the functions' REGROOTER_SECURITY_CONTACT)."
  type        = string
  default     = "mailto:security@regrooter.de"
}

variable "probe_targets" {
  description = "The endpoints the Worker's cron probes every minute from Cloudflare's network: the same list as the aws module's sla_targets, so both vantages check the same product."
  type = list(object({
    name = string
    url  = string
  }))

  validation {
    condition     = length(var.probe_targets) > 0 && alltrue([for t in var.probe_targets : can(regex("^[A-Za-z0-9_-]{1,64}$", t.name)) && startswith(t.url, "https://") && !strcontains(t.url, ",")])
    error_message = "probe_targets needs at least one target; names of letters, digits, - and _; https URLs without commas."
  }
}
