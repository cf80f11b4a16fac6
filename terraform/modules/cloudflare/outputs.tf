output "worker_name" {
  description = "Name of the edge Worker."
  value       = cloudflare_worker.edge.name
}

output "worker_version_id" {
  description = "The deployed version of the edge Worker."
  value       = cloudflare_worker_version.edge.id
}

output "routes" {
  description = "Route patterns that run the edge Worker."
  value       = sort([for r in cloudflare_workers_route.edge : r.pattern])
}
