//! Routers. Which function serves which routers is `functions/functions.json`; each Lambda
//! serves its own plus the health check, and the local platform merges them all behind its edge.

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
use axum::routing::MethodRouter;
use kernel::registry::{FunctionEntry, Kind, Registry, RegistryError};

use crate::services::Services;

/// A router that knows its paths, so that the registry test can hold every route against the
/// function the edge sends it to.
pub struct Routes {
    paths: Vec<&'static str>,
    router: Router<Arc<Services>>,
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            paths: Vec::new(),
            router: Router::new(),
        }
    }

    /// Adds one path with its methods.
    pub fn route(mut self, path: &'static str, methods: MethodRouter<Arc<Services>>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }

    /// Every path this router serves.
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds one router.
pub type RouterFn = fn() -> Routes;

/// The routers by the names `functions/functions.json` gives them.
pub const ROUTERS: [(&str, RouterFn); 8] = [
    ("incidents", incidents::router),
    ("tenants", tenants::router),
    ("keys", keys::router),
    ("billing-webhook", billing::webhook_router),
    ("billing", billing::router),
    ("retention", retention::router),
    ("sla", sla::router),
    ("auth", auth::router),
];

/// The router the registry calls `name`.
pub fn router_named(name: &str) -> Option<Routes> {
    ROUTERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, build)| build())
}

/// `routes` with the routers the registry gives `function`.
fn with_routers_of(
    mut routes: Routes,
    function: &str,
    entry: &FunctionEntry,
) -> Result<Routes, RegistryError> {
    for name in &entry.routers {
        let router = router_named(name)
            .ok_or_else(|| RegistryError(format!("{function}: no router named {name:?}")))?;
        routes = routes.merge(router);
    }
    Ok(routes)
}

/// An http function's routes as the registry lists them, with the health check.
pub fn routes_of(function: &str) -> Result<Routes, RegistryError> {
    let entry = Registry::embedded()?
        .functions
        .get(function)
        .filter(|f| f.kind == Kind::Http)
        .ok_or_else(|| RegistryError(format!("no http function {function:?}")))?;
    with_routers_of(health::router(), function, entry)
}

/// One HTTP Lambda's router: the health check plus the routers the registry gives it.
pub fn for_function(function: &str, services: Arc<Services>) -> Result<Router, RegistryError> {
    Ok(with_plumbing(routes_of(function)?.router, services))
}

/// Every http function's routes in one router, as the local platform serves them.
pub fn all(services: Arc<Services>) -> Result<Router, RegistryError> {
    let mut routes = health::router();
    for (function, entry) in Registry::embedded()?.of_kind(Kind::Http) {
        routes = with_routers_of(routes, function, entry)?;
    }
    Ok(with_plumbing(routes.router, services))
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
