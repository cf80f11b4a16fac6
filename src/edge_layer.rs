//! The edge pipeline in front of the local platform: the same pipeline the Worker runs in
//! production (`edge::pipeline`), with state in this process and the functions' router as the
//! origin — called afresh for every request the edge sends on, as the Worker fetches its
//! origin (the status page asks more than once, and at other paths than the client's).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use edge::pipeline::{Client, EdgeService, MemoryStore, Origin};
use kernel::Clock;
use kernel::token::VerifiedToken;
use tower::ServiceExt;

struct EdgeState {
    service: EdgeService,
    store: MemoryStore,
    clock: Arc<dyn Clock>,
    /// The functions' router: the origin.
    app: Router,
}

/// The largest request or response body the local edge passes on.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Every request goes through the edge first; what it sends on reaches `app`.
pub fn wrap(app: Router, service: EdgeService, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(EdgeState {
        service,
        store: MemoryStore::default(),
        clock,
        app,
    });
    Router::new().fallback(run_edge).with_state(state)
}

/// The origin in this process: the functions' router, routing each forwarded request by its
/// own method and path.
struct InProcess {
    app: Router,
}

impl Origin for InProcess {
    async fn forward(
        &self,
        request: http::Request<Vec<u8>>,
        verified: Option<&VerifiedToken>,
    ) -> http::Response<Vec<u8>> {
        let mut request = request.map(Body::from);
        if let Some(verified) = verified {
            request
                .extensions_mut()
                .insert(functions::http::EdgeVerified {
                    principal: verified.principal.clone(),
                    issued_at: verified.issued_at,
                });
        }
        let Ok(response) = self.app.clone().oneshot(request).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        http::Response::from_parts(parts, bytes)
    }
}

async fn run_edge(State(state): State<Arc<EdgeState>>, request: Request) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let problem = kernel::Error::TooLarge { limit: MAX_BODY }.to_problem(None);
        return functions::http::problem_response(&problem);
    };
    let request = http::Request::from_parts(parts, bytes.to_vec());
    let origin = InProcess {
        app: state.app.clone(),
    };
    let handled = state
        .service
        .handle(
            request,
            &Client { ip, tls: false },
            state.clock.now(),
            &state.store,
            &origin,
        )
        .await;
    for event in &handled.events {
        let json = serde_json::to_string(event).unwrap_or_default();
        match event.event {
            edge::events::EventKind::WafAllow => {
                tracing::debug!(target: "regrooter::security", event = %json, "edge decision")
            }
            _ => tracing::warn!(target: "regrooter::security", event = %json, "edge decision"),
        }
    }
    handled.response.map(Body::from).into_response()
}
