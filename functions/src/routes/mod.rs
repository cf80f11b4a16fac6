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
use axum::handler::Handler;
use axum::routing::MethodRouter;
use kernel::registry::RegistryError;
use utoipa::PartialSchema;
use utoipa::openapi::Required;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::{ContentBuilder, OpenApi, ResponseBuilder};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::entry::{HTTP_FUNCTIONS, HttpFunction, ROUTERS};

use crate::services::Services;

/// A router that knows its operations: the API's from each handler's `#[utoipa::path]`
/// annotation (which also routes it, so path and method are written once), the pages' from
/// [`PageMethods`]. The registry test holds every path against the function the edge sends it to; the
/// OpenAPI document (`crate::openapi`) is these operations.
pub struct Routes {
    paths: Vec<String>,
    router: Router<Arc<Services>>,
    operations: OpenApi,
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            paths: Vec::new(),
            router: Router::new(),
            operations: OpenApi::default(),
        }
    }

    /// Adds API operations made by `utoipa_axum::routes!` from annotated handlers (one path).
    pub fn api(mut self, (schemas, paths, methods): UtoipaMethodRouter<Arc<Services>>) -> Self {
        // `routes!` gives every handler one method router: all of them must share one path.
        debug_assert_eq!(paths.paths.len(), 1, "one path per routes!(…)");
        for (path, item) in paths.paths {
            self.router = self.router.route(&path, methods.clone());
            self.paths.push(path.clone());
            self.add(path, item);
        }
        self.operations
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(schemas);
        self
    }

    /// Adds one page (HTML): its handlers run with the page context (language, form token).
    pub fn page(self, path: &'static str, page: PageMethods) -> Self {
        let PageMethods { router, methods } = page;
        self.html(
            path,
            &methods,
            router.layer(axum::middleware::from_fn(crate::web::page_context)),
            "pages",
        )
    }

    /// Adds one public page that shared caches may keep: language only, no cookies.
    pub fn public_page(self, path: &'static str, page: PageMethods) -> Self {
        let PageMethods { router, methods } = page;
        self.html(
            path,
            &methods,
            router.layer(axum::middleware::from_fn(
                crate::web::context::public_page_context,
            )),
            "public pages",
        )
    }

    /// The page every other address below `path` (a `{*rest}` pattern) gets: "no such page".
    /// Not an operation, so not in the OpenAPI document.
    pub fn unknown_pages<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Services>>,
        T: 'static,
    {
        self.paths.push(path.to_string());
        self.router = self.router.route(
            path,
            axum::routing::any(handler).layer(axum::middleware::from_fn(crate::web::page_context)),
        );
        self
    }

    fn html(
        mut self,
        path: &'static str,
        methods: &[HttpMethod],
        router: MethodRouter<Arc<Services>>,
        tag: &str,
    ) -> Self {
        self.paths.push(path.to_string());
        self.router = self.router.route(path, router);
        let item = PathItem::new(methods[0].clone(), page_operation(path, &methods[0], tag));
        let item = methods[1..].iter().fold(item, |mut item, method| {
            item.merge_operations(PathItem::new(
                method.clone(),
                page_operation(path, method, tag),
            ));
            item
        });
        self.add(path.to_string(), item);
        self
    }

    fn add(&mut self, path: String, item: PathItem) {
        match self.operations.paths.paths.get_mut(&path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                self.operations.paths.paths.insert(path, item);
            }
        }
    }

    /// Every path this router serves.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// This router's operations and the schemas they name.
    pub fn operations(&self) -> &OpenApi {
        &self.operations
    }

    fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self.operations.merge(other.operations);
        self
    }
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

/// A page's handlers by method, as `axum::routing::{get, post}` make them, remembering the
/// methods for the OpenAPI document.
pub struct PageMethods {
    router: MethodRouter<Arc<Services>>,
    methods: Vec<HttpMethod>,
}

/// A page answering GET.
pub fn get<H, T>(handler: H) -> PageMethods
where
    H: Handler<T, Arc<Services>>,
    T: 'static,
{
    PageMethods {
        router: axum::routing::get(handler),
        methods: vec![HttpMethod::Get],
    }
}

/// A form posted to a page's address.
pub fn post<H, T>(handler: H) -> PageMethods
where
    H: Handler<T, Arc<Services>>,
    T: 'static,
{
    PageMethods {
        router: axum::routing::post(handler),
        methods: vec![HttpMethod::Post],
    }
}

impl PageMethods {
    /// The same address also takes a form.
    pub fn post<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<T, Arc<Services>>,
        T: 'static,
    {
        self.router = self.router.post(handler);
        self.methods.push(HttpMethod::Post);
        self
    }
}

/// A page in the document: HTML for a GET, a form post answered by a redirect (or the page again
/// with the mistakes); sessions and form tokens as every page has them.
fn page_operation(path: &str, method: &HttpMethod, tag: &str) -> utoipa::openapi::path::Operation {
    let html = ContentBuilder::new().build();
    let responses = if *method == HttpMethod::Get {
        utoipa::openapi::ResponsesBuilder::new().response(
            "200",
            ResponseBuilder::new()
                .description("The page (HTML)")
                .content("text/html; charset=utf-8", html),
        )
    } else {
        utoipa::openapi::ResponsesBuilder::new()
            .response(
                "303",
                ResponseBuilder::new().description("Done: on to the next page"),
            )
            .response(
                "4XX",
                ResponseBuilder::new()
                    .description("The form again, each mistake next to its field (400, 409 or 422)")
                    .content("text/html; charset=utf-8", html),
            )
    };
    // The address's own parts (`/console/incidents/{incident}`): each a required path parameter.
    let parameters = path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(String::schema()))
                .build()
        });
    OperationBuilder::new()
        .tag(tag)
        .parameters(Some(parameters))
        .summary(Some(if *method == HttpMethod::Get {
            "A page of the web interface"
        } else {
            "A form of the web interface (application/x-www-form-urlencoded, with the form token)"
        }))
        .responses(responses.build())
        .build()
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

/// Every http function's routes, as the local platform serves them and the OpenAPI document
/// describes them.
pub fn every_route() -> Routes {
    HTTP_FUNCTIONS
        .iter()
        .fold(health::router(), |routes, function| {
            function
                .routers
                .iter()
                .fold(routes, |routes, (_, build)| routes.merge(build()))
        })
}

/// Every http function's routes in one router, as the local platform serves them.
pub fn all(services: Arc<Services>) -> Router {
    with_plumbing(every_route().router, services)
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
