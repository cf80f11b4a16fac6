//! The edge: what runs in front of every request, in plain Rust.
//!
//! The same code runs natively inside `regrooter serve` (as an axum middleware) and as wasm in
//! Cloudflare Workers (the thin `worker` entry in `worker.rs`). Nothing here touches a platform
//! API: inputs are `http` types and the current time; per-key state and the way to the functions
//! are supplied by the host through the traits of [`pipeline`].

pub mod body;
pub mod bruteforce;
pub mod events;
pub mod gate;
pub mod headers;
pub mod intake;
pub mod pipeline;
pub mod rate;
pub mod waf;
#[cfg(target_arch = "wasm32")]
mod worker;

use http::{HeaderValue, Response, StatusCode, header};
use kernel::ids::RequestId;

pub use gate::GateError;

/// Header carrying the request id to the origin and back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An RFC 9457 problem response produced at the edge.
pub(crate) fn problem_response(error: &kernel::Error, request_id: &RequestId) -> Response<String> {
    let problem = error.to_problem(Some(request_id.to_string()));
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| String::from("{}"));
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kernel::Problem::CONTENT_TYPE),
    );
    response
}
