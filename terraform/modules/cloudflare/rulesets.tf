# Cloudflare's own firewall as the outer layer, before the Worker runs: the managed WAF ruleset
# and coarse per-client rate limits. The Worker's Durable Object limiter and the functions'
# checks stay the inner layers.

locals {
  # Cloudflare Managed Ruleset (the same identifier in every account).
  cloudflare_managed_ruleset_id = "efb7b8c949ac4650a09736fc376e9aee"

  # Rate limiting counts per client address, per data centre (Cloudflare requires cf.colo.id).
  rate_limit_characteristics = ["cf.colo.id", "ip.src"]
}

resource "cloudflare_ruleset" "waf_managed" {
  zone_id     = var.zone_id
  name        = "regrooter managed WAF"
  description = "Cloudflare Managed Ruleset in front of the edge Worker"
  kind        = "zone"
  phase       = "http_request_firewall_managed"

  rules = [
    {
      ref         = "cloudflare_managed_ruleset"
      description = "Cloudflare Managed Ruleset on every request"
      expression  = "true"
      action      = "execute"
      enabled     = true
      action_parameters = {
        id = local.cloudflare_managed_ruleset_id
      }
    },
  ]
}

resource "cloudflare_ruleset" "rate_limits" {
  zone_id     = var.zone_id
  name        = "regrooter rate limits"
  description = "Per-client limits: strict on sign-in and security reports, generous on the API"
  kind        = "zone"
  phase       = "http_ratelimit"

  rules = [
    {
      ref         = "sign_in"
      description = "Sign-in attempts (credential stuffing)"
      expression  = "(http.request.method eq \"POST\" and starts_with(http.request.uri.path, \"/auth/\"))"
      action      = "block"
      enabled     = true
      ratelimit = {
        characteristics     = local.rate_limit_characteristics
        period              = 60
        requests_per_period = var.sign_in_rate_limit
        mitigation_timeout  = var.rate_limit_mitigation_timeout
      }
    },
    {
      ref         = "security_reports"
      description = "Public security report intake (abuse of the form)"
      expression  = "(http.request.method eq \"POST\" and http.request.uri.path eq \"/security/reports\")"
      action      = "block"
      enabled     = true
      ratelimit = {
        characteristics     = local.rate_limit_characteristics
        period              = 60
        requests_per_period = var.report_rate_limit
        mitigation_timeout  = var.rate_limit_mitigation_timeout
      }
    },
    {
      ref         = "api"
      description = "Everything under /api/"
      expression  = "(starts_with(http.request.uri.path, \"/api/\"))"
      action      = "block"
      enabled     = true
      ratelimit = {
        characteristics     = local.rate_limit_characteristics
        period              = 60
        requests_per_period = var.api_rate_limit
        mitigation_timeout  = 60
      }
    },
  ]
}
