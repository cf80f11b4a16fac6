//! The OpenAPI 3.1 document of every route the functions serve, built from the routers
//! themselves: each API handler's `#[utoipa::path]` annotation routes it and describes it (method,
//! path, input, answers, the permission it needs as the security scope), and each page is listed
//! with its methods. The committed copy (`functions/openapi.json`) is what `GET /api/openapi.json`
//! serves; a test holds it equal to this document, so it cannot go stale.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, ResponseBuilder, Tag,
};
use utoipa::{PartialSchema, ToSchema};

/// Where the document is served (to anyone signed in: the edge lets no token-less request into
/// `/api/`).
pub const PATH: &str = "/api/openapi.json";

/// The document as committed, served as it is (rebuilt by `regrooter openapi`).
pub const COMMITTED: &str = include_str!("../openapi.json");

/// The security scheme of the API's bearer tokens; an operation's scopes are the permissions
/// (any one of its requirements suffices).
pub const BEARER: &str = "bearer";

/// The tags (one per area of the API), in the document's order, with what they hold.
const TAGS: &[(&str, &str)] = &[
    (
        "reports",
        "Security reports: the public intake, the reporter's status and messages, triage",
    ),
    (
        "incidents",
        "Personal data breaches (GDPR Art. 33/34): the file, measures, the assessment, notices, the register, the audit trail",
    ),
    (
        "sla",
        "Uptime reports, claims and their verification, outages and exclusions",
    ),
    ("billing", "Credits and the Stripe account"),
    (
        "retention",
        "Retention plans, service end, legal holds, exports, final deletion and its certificates",
    ),
    ("tenants", "Customers, their users and roles"),
    (
        "auth",
        "Sign-in, tokens, the second factor, staff accounts, signing keys",
    ),
    ("subprocessors", "Sub-processors and announced changes"),
    ("trust", "The trust page's signed statement"),
    ("operations", "Health and the edge's internal reports"),
    (
        "pages",
        "The portal's and console's web pages (HTML, session cookie, form token)",
    ),
    ("public pages", "Pages anyone may read (HTML)"),
];

/// The whole document.
pub fn document() -> OpenApi {
    let mut document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("regrooter trust platform")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(concat!(
                    "Every route the platform serves. API calls carry `Authorization: Bearer <token>`; ",
                    "an operation's security scopes are the permissions it needs (one requirement ",
                    "suffices; a customer's permissions hold in their own company only). Errors are ",
                    "RFC 9457 problem documents naming the failing fields by their JSON Pointers, all ",
                    "at once: first every place where a body does not fit its schema (a wrong type or ",
                    "value, an unknown or missing field; up to 16), then, once it fits, every field ",
                    "that breaks the input's rules. Pages use the session cookie and a form token instead."
                )))
                .build(),
        )
        .build();
    document.merge(crate::routes::every_route().operations().clone());
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(roles_and_permissions()))
                .build(),
        ),
    );
    components.schemas.insert(
        kernel::Problem::name().into_owned(),
        kernel::Problem::schema(),
    );
    components.schemas.insert(
        kernel::FieldError::name().into_owned(),
        kernel::FieldError::schema(),
    );
    document.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                let mut tag = Tag::new(*name);
                tag.description = Some((*description).to_string());
                tag
            })
            .collect(),
    );
    // Pages answer mistakes with the page itself; every API operation also with a problem.
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            let page = operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t.ends_with("pages")));
            if !page {
                add_problem_answer(operation);
            }
        }
    }
    document
}

/// Which built-in role holds which permission (a company's own roles combine the permissions
/// its administrators may grant): the answer to "who may do this operation".
fn roles_and_permissions() -> String {
    use kernel::rbac::BuiltinRole;
    let mut text = String::from(
        "An access token (JWT). The scopes of an operation are the permissions it needs; the built-in roles hold:",
    );
    for role in BuiltinRole::ALL {
        let permissions: Vec<&str> = role.permissions().iter().map(|p| p.as_str()).collect();
        text.push_str(&format!(
            "\n- `{}` ({}): {}",
            role.as_str(),
            if role.is_staff() {
                "staff, with a second factor"
            } else {
                "a customer's user, in their company"
            },
            permissions.join(", ")
        ));
    }
    text
}

/// Every API operation may answer with a problem document.
fn add_problem_answer(operation: &mut Operation) {
    let problem = ResponseBuilder::new()
        .description(
            "A problem (RFC 9457): what went wrong, the failing fields with their JSON Pointers",
        )
        .content(
            kernel::Problem::CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(kernel::Problem::name())))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .entry("default".to_string())
        .or_insert_with(|| problem.into());
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The document as pretty JSON with a final newline (the committed file's form).
pub fn to_json() -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&document()).map(|json| json + "\n")
}

/// This document.
#[utoipa::path(
    get,
    path = PATH,
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of every route")),
    security(("bearer" = []))
)]
pub async fn served() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        COMMITTED,
    )
        .into_response()
}
