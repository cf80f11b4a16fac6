# The edge: the Rust Worker (edge/, built to wasm with worker-build) in front of the function
# URLs. It is reachable only through the zone's routes below — the workers.dev subdomain and
# preview URLs are off, so the WAF and rate limiting in rulesets.tf cannot be bypassed.

resource "cloudflare_worker" "edge" {
  account_id = var.account_id
  name       = var.script_name

  subdomain = {
    enabled          = false
    previews_enabled = false
  }

  observability = {
    enabled = true
    logs = {
      enabled = true
      # Invocation logs would record request metadata (client addresses included) outside our
      # control; the Worker logs what it needs itself, with addresses hashed.
      invocation_logs = false
    }
  }
}

resource "cloudflare_worker_version" "edge" {
  account_id         = var.account_id
  worker_id          = cloudflare_worker.edge.id
  compatibility_date = var.compatibility_date
  main_module        = var.worker_main_module

  modules = [
    {
      name         = var.worker_main_module
      content_type = "application/javascript+module"
      content_file = "${var.worker_bundle_dir}/${var.worker_main_module}"
    },
    {
      name         = var.worker_wasm_module
      content_type = "application/wasm"
      content_file = "${var.worker_bundle_dir}/${var.worker_wasm_module}"
    },
  ]

  # The Durable Object namespace of the per-client rate limiter: created by this migration on the
  # first deployment (SQLite-backed class RateLimiter). Add a new tag for any later class change.
  migrations = {
    new_tag            = "v1"
    new_sqlite_classes = ["RateLimiter"]
  }

  # Secrets are bindings whose values come from sensitive variables (CI secret store, TF_VAR_...),
  # never from a file in the repository.
  bindings = [
    {
      type = "secret_text"
      name = "ORIGIN_SECRET"
      text = var.origin_secret
    },
    {
      type = "secret_text"
      name = "IP_HASH_KEY"
      text = var.ip_hash_key
    },
    {
      type       = "durable_object_namespace"
      name       = "RATE_LIMITER"
      class_name = "RateLimiter"
    },
    {
      type = "plain_text"
      name = "JWKS"
      text = var.jwks
    },
    {
      type = "plain_text"
      name = "ENVIRONMENT"
      text = var.environment
    },
    {
      type = "plain_text"
      name = "ORIGIN_INCIDENTS"
      text = var.origin_urls["incidents"]
    },
    {
      type = "plain_text"
      name = "ORIGIN_STRIPE_WEBHOOK"
      text = var.origin_urls["stripe-webhook"]
    },
    {
      type = "plain_text"
      name = "ORIGIN_AUTH"
      text = var.origin_urls["auth"]
    },
    {
      type = "plain_text"
      name = "ORIGIN_SLA"
      text = var.origin_urls["sla"]
    },
    {
      type = "plain_text"
      name = "ORIGIN_PORTAL"
      text = var.origin_urls["portal"]
    },
    {
      type = "plain_text"
      name = "ORIGIN_CONSOLE"
      text = var.origin_urls["console"]
    },
    # The issuer the functions sign with (their default: regrooter-<environment>).
    {
      type = "plain_text"
      name = "TOKEN_ISSUER"
      text = "regrooter-${var.environment}"
    },
    {
      type = "plain_text"
      name = "TOKEN_AUDIENCE"
      text = "regrooter-api"
    },
    # security.txt: Contact, Policy (the disclosure policy the edge serves), Canonical.
    {
      type = "plain_text"
      name = "SECURITY_CONTACT"
      text = var.security_contact
    },
    {
      type = "plain_text"
      name = "POLICY_URL"
      text = "https://${var.public_hostname}/security/policy"
    },
    {
      type = "plain_text"
      name = "CANONICAL_URL"
      text = "https://${var.public_hostname}/.well-known/security.txt"
    },
    # The second uptime vantage: the same targets the sla-probe function checks.
    {
      type = "plain_text"
      name = "PROBE_TARGETS"
      text = join(",", [for t in var.probe_targets : "${t.name}=${t.url}"])
    },
  ]
}

resource "cloudflare_workers_deployment" "edge" {
  account_id  = var.account_id
  script_name = cloudflare_worker.edge.name
  strategy    = "percentage"

  versions = [
    {
      version_id = cloudflare_worker_version.edge.id
      percentage = 100
    },
  ]
}

# Every minute the Worker probes the product from Cloudflare's network (the second uptime
# vantage) and reports the minute to the sla function.
resource "cloudflare_workers_cron_trigger" "edge_probe" {
  account_id  = var.account_id
  script_name = cloudflare_worker.edge.name
  schedules   = [{ cron = "* * * * *" }]

  depends_on = [cloudflare_workers_deployment.edge]
}

resource "cloudflare_workers_route" "edge" {
  for_each = toset(var.route_patterns)

  zone_id = var.zone_id
  pattern = each.value
  script  = cloudflare_worker.edge.name

  depends_on = [cloudflare_workers_deployment.edge]
}

# Transport: HTTPS only, TLS 1.2 at least, and Cloudflare verifies the origin's certificate.
resource "cloudflare_zone_setting" "tls" {
  for_each = {
    always_use_https = "on"
    min_tls_version  = "1.2"
    ssl              = "strict"
    tls_1_3          = "on"
  }

  zone_id    = var.zone_id
  setting_id = each.key
  value      = each.value
}
