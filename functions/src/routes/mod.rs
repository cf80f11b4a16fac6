//! Routers. Each function contributes one; the local platform merges them all behind its edge,
//! and each Lambda serves its own plus the health check.

pub mod auth;
pub mod billing;
pub mod health;
pub mod incidents;
pub mod keys;
pub mod retention;
pub mod sla;
pub mod tenants;

use std::sync::Arc;

use axum::Router;

use crate::services::Services;

/// Every function's routes, as the local platform serves them.
pub fn all(services: Arc<Services>) -> Router {
    let routes = health::router()
        .merge(incidents::router())
        .merge(tenants::router())
        .merge(keys::router())
        .merge(billing::webhook_router())
        .merge(billing::router())
        .merge(retention::router())
        .merge(sla::router())
        .merge(auth::router());
    with_plumbing(routes, services)
}

// One router per HTTP Lambda. Each serves the health check plus its own routes, which join as
// the function's issue lands.

/// The `incidents` function: security reports, incidents, notifications.
pub fn incidents(services: Arc<Services>) -> Router {
    with_plumbing(health::router().merge(incidents::router()), services)
}

/// The `stripe-webhook` function: verified Stripe events.
pub fn stripe_webhook(services: Arc<Services>) -> Router {
    with_plumbing(health::router().merge(billing::webhook_router()), services)
}

/// The `auth` function: sign-in, tokens, JWKS, tenant users and roles.
pub fn auth(services: Arc<Services>) -> Router {
    with_plumbing(
        health::router()
            .merge(tenants::router())
            .merge(retention::router())
            .merge(keys::router())
            .merge(auth::router()),
        services,
    )
}

/// The `sla` function: uptime reports, claims, credits.
pub fn sla(services: Arc<Services>) -> Router {
    with_plumbing(
        health::router()
            .merge(billing::router())
            .merge(sla::router()),
        services,
    )
}

/// Adds idempotent creates, the problem+json fallbacks (unknown route, wrong method) and the
/// guards around a function's routes.
pub fn with_plumbing(routes: Router<Arc<Services>>, services: Arc<Services>) -> Router {
    guarded(
        routes
            .fallback(crate::http::not_found)
            .with_state(services.clone()),
        services,
    )
}

/// What every route the platform serves runs behind, its own or not (the local platform's
/// development routes too): from the inside out, the origin lock, the request limits, no caching,
/// and the request context — outermost, so even a refused request gets its id.
pub fn guarded(routes: Router, services: Arc<Services>) -> Router {
    routes
        .method_not_allowed_fallback(crate::http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::idempotency::idempotent,
        ))
        .layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::http::origin_lock,
        ))
        .layer(axum::middleware::from_fn(crate::http::request_limits))
        .layer(axum::middleware::from_fn(crate::http::no_store))
        .layer(axum::middleware::from_fn_with_state(
            services,
            crate::http::request_context,
        ))
}
