//! A stand-in for the Lambda Runtime API (the HTTP interface a Lambda function polls for events),
//! so the real function binaries can be started, fed events and timed outside AWS. It implements
//! the documented endpoints of the 2018-06-01 API that the Rust runtime uses.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;

#[derive(Default)]
struct Inner {
    events: VecDeque<(String, Value)>,
    responses: HashMap<String, Value>,
    errors: HashMap<String, Value>,
    init_error: Option<Value>,
    first_poll: Option<Instant>,
}

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
}

pub struct FakeRuntime {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

/// What happened to one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

impl FakeRuntime {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            _runtime: runtime,
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    pub fn push(&self, request_id: &str, event: Value) {
        let mut inner = self.shared.inner.lock().expect("lock");
        inner.events.push_back((request_id.to_string(), event));
        self.shared.changed.notify_all();
    }

    /// When the function first asked for an event: the end of its init phase.
    pub fn wait_first_poll(&self, timeout: Duration) -> Option<Instant> {
        self.wait(timeout, |inner| inner.first_poll)
    }

    pub fn wait_outcome(&self, request_id: &str, timeout: Duration) -> Option<Outcome> {
        self.wait(timeout, |inner| {
            inner
                .responses
                .get(request_id)
                .map(|v| Outcome::Response(v.clone()))
                .or_else(|| {
                    inner
                        .errors
                        .get(request_id)
                        .map(|v| Outcome::Error(v.clone()))
                })
        })
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.inner.lock().expect("lock").init_error.clone()
    }

    fn wait<T>(&self, timeout: Duration, mut probe: impl FnMut(&Inner) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.shared.inner.lock().expect("lock");
        loop {
            if let Some(found) = probe(&inner) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            inner = self
                .shared
                .changed
                .wait_timeout(inner, left)
                .expect("wait")
                .0;
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    {
        let mut inner = shared.inner.lock().expect("lock");
        inner.first_poll.get_or_insert_with(Instant::now);
        shared.changed.notify_all();
    }
    loop {
        let event = shared.inner.lock().expect("lock").events.pop_front();
        if let Some((id, event)) = event {
            let mut headers = HeaderMap::new();
            // The Lambda runtime API's deadline header is wall-clock milliseconds, as AWS sends it.
            #[allow(clippy::disallowed_methods)]
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or(0);
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).expect("id"),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline.to_string()).expect("ms"),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:eu-central-1:123456789012:function:test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            return (StatusCode::OK, headers, event.to_string());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let mut inner = shared.inner.lock().expect("lock");
    inner.responses.insert(id, body_json(&body));
    shared.changed.notify_all();
    StatusCode::ACCEPTED
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let mut inner = shared.inner.lock().expect("lock");
    inner.errors.insert(id, body_json(&body));
    shared.changed.notify_all();
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: String) -> StatusCode {
    let mut inner = shared.inner.lock().expect("lock");
    inner.init_error = Some(body_json(&body));
    shared.changed.notify_all();
    StatusCode::ACCEPTED
}

/// A function URL (API Gateway v2 payload) event for `GET path`.
pub fn function_url_get(path: &str) -> Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "abcdefghij.lambda-url.eu-central-1.on.aws",
            "x-forwarded-proto": "https",
            "user-agent": "regrooter-test"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.eu-central-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "regrooter-test"
            },
            "requestId": "test-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795860000000u64
        },
        "isBase64Encoded": false
    })
}

/// A Lambda function URL event for `POST path` with a JSON body.
pub fn function_url_post_json(path: &str, body: &Value) -> Value {
    let mut event = function_url_get(path);
    event["requestContext"]["http"]["method"] = "POST".into();
    event["headers"]["content-type"] = "application/json".into();
    event["body"] = body.to_string().into();
    event
}

/// A security report posted to the incidents function (its first sealed write).
pub fn security_report_post() -> Value {
    function_url_post_json(
        "/security/reports",
        &serde_json::json!({
            "description": "The export endpoint returns other customers' records.",
            "affected_parties": "ACME GmbH employees",
            "personal_data_kind": "names",
            "scope": "about 10 people",
            "impact_assessment": "Disclosure",
            "language": "en"
        }),
    )
}

/// Peak resident memory of a process in KiB (Linux `VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
