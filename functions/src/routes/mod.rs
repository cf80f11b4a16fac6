//! Routers. Each function contributes one; the local platform merges them all behind its edge,
//! and each Lambda serves its own plus the health check.

pub mod health;

use std::sync::Arc;

use axum::Router;

use crate::services::Services;

/// Every function's routes, as the local platform serves them.
pub fn all(services: Arc<Services>) -> Router {
    with_plumbing(health::router(), services)
}

/// Adds the request context and the problem+json fallback around a function's routes.
pub fn with_plumbing(routes: Router<Arc<Services>>, services: Arc<Services>) -> Router {
    routes
        .fallback(crate::http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::http::request_context,
        ))
        .with_state(services)
}
