//! The edge pipeline in front of the local platform, as an axum middleware: the same decisions
//! the Worker makes in production, made natively.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use edge::{Decision, Edge, Inbound};
use shared::Clock;

struct EdgeState {
    edge: Edge,
    clock: Arc<dyn Clock>,
    /// Signs what the edge forwards (the origin lock), as the Worker does in production.
    origin_secret: Vec<u8>,
}

/// The largest request body the edge forwards.
const MAX_FORWARDED_BODY: usize = 1024 * 1024;

pub fn wrap(app: Router, edge: Edge, clock: Arc<dyn Clock>, origin_secret: Vec<u8>) -> Router {
    let state = Arc::new(EdgeState {
        edge,
        clock,
        origin_secret,
    });
    app.layer(axum::middleware::from_fn_with_state(state, run_edge))
}

async fn run_edge(
    State(state): State<Arc<EdgeState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let decision = state.edge.inspect(
        &Inbound {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            tls: false,
        },
        state.clock.now(),
    );
    match decision {
        Decision::Respond(response) => response.map(Body::from).into_response(),
        Decision::Forward(forwarded) => {
            let id = forwarded.request_id.to_string();
            if let Ok(value) = HeaderValue::from_str(&id) {
                request.headers_mut().insert(edge::REQUEST_ID_HEADER, value);
            }
            if let Some(principal) = forwarded.principal {
                request
                    .extensions_mut()
                    .insert(functions::http::EdgeVerified(principal));
            }
            let (mut parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_FORWARDED_BODY).await else {
                let problem = shared::Error::TooLarge {
                    limit: MAX_FORWARDED_BODY,
                }
                .to_problem(Some(id));
                return state.edge.finish(
                    functions::http::problem_response(&problem),
                    &forwarded.request_id,
                );
            };
            let path = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let signature = shared::origin_lock::sign(
                &state.origin_secret,
                parts.method.as_str(),
                &path,
                state.clock.now(),
                &bytes,
            );
            if let Ok(value) = HeaderValue::from_str(&signature) {
                parts.headers.insert(shared::origin_lock::HEADER, value);
            }
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            state.edge.finish(response, &forwarded.request_id)
        }
    }
}
