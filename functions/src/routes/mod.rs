//! Routers. Which function serves which routers is `functions/functions.json`; each Lambda
//! serves its own plus the health check, and the local platform merges them all behind its edge.

pub mod auth;
pub mod billing;
pub mod billing_webhook;
pub mod console;
pub mod health;
pub mod incidents;
pub mod keys;
pub mod portal;
pub mod portal_session;
pub mod retention;
pub mod sla;
pub mod subprocessors;
pub mod tenants;
pub mod trust;

use std::sync::Arc;

use axum::Router;
use axum::routing::MethodRouter;
use kernel::registry::RegistryError;

use crate::entry::{HTTP_FUNCTIONS, HttpFunction, ROUTERS};

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

    /// Adds one page (HTML): its handlers run with the page context (language, form token).
    pub fn page(self, path: &'static str, methods: MethodRouter<Arc<Services>>) -> Self {
        self.route(
            path,
            methods.layer(axum::middleware::from_fn(crate::web::page_context)),
        )
    }

    /// Adds one public page that shared caches may keep: language only, no cookies.
    pub fn public_page(self, path: &'static str, methods: MethodRouter<Arc<Services>>) -> Self {
        self.route(
            path,
            methods.layer(axum::middleware::from_fn(
                crate::web::context::public_page_context,
            )),
        )
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

/// The router the registry calls `name`.
pub fn router_named(name: &str) -> Option<Routes> {
    ROUTERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, build)| build())
}

/// An http function's routes: the health check and its routers.
pub fn routes_of(function: &HttpFunction) -> Routes {
    function
        .routers
        .iter()
        .fold(health::router(), |routes, (_, build)| routes.merge(build()))
}

/// The http function the registry calls `name`, with its routes.
pub fn routes_named(name: &str) -> Result<Routes, RegistryError> {
    HTTP_FUNCTIONS
        .iter()
        .find(|f| f.name == name)
        .map(routes_of)
        .ok_or_else(|| RegistryError(format!("no http function {name:?}")))
}

/// One HTTP Lambda's router: the health check plus the routers the registry gives it.
pub fn for_function(function: &HttpFunction, services: Arc<Services>) -> Router {
    with_plumbing(routes_of(function).router, services)
}

/// Every http function's routes in one router, as the local platform serves them.
pub fn all(services: Arc<Services>) -> Router {
    let routes = HTTP_FUNCTIONS
        .iter()
        .fold(health::router(), |routes, function| {
            function
                .routers
                .iter()
                .fold(routes, |routes, (_, build)| routes.merge(build()))
        });
    with_plumbing(routes.router, services)
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
