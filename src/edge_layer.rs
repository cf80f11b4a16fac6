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
}

pub fn wrap(app: Router, edge: Edge, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(EdgeState { edge, clock });
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
            let response = next.run(request).await;
            state.edge.finish(response, &forwarded.request_id)
        }
    }
}
