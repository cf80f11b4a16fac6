terraform {
  required_version = ">= 1.10.0"

  required_providers {
    cloudflare = {
      source = "cloudflare/cloudflare"
      # Provider v5 schema throughout (attributes, not blocks: rules = [...], bindings = [...]);
      # cloudflare_worker / cloudflare_worker_version / cloudflare_workers_deployment upload the
      # Rust Worker's JavaScript shim and its wasm as separate modules.
      version = ">= 5.12.0, < 6.0.0"
    }
  }
}
