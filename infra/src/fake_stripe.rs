//! A small fake of Stripe's API for tests (no stripe-mock can be installed here): the customer
//! balance transaction endpoints, with Stripe's authentication, error shapes and idempotency
//! semantics (same key and parameters: the stored response again, marked
//! `Idempotent-Replayed: true`; same key, other parameters: an `idempotency_error`), and fault
//! injection to lose a response after the transaction was made, as a dropped connection would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// A failure to inject into the next creating request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Make the transaction, then drop the connection before the response is complete.
    LoseResponse,
    /// Answer 503 without doing anything (an overloaded front end).
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: String,
    pub customer: String,
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: HashMap<String, String>,
    pub idempotency_key: Option<String>,
}

/// What Stripe remembers of an idempotent request: its parameters and its response.
struct StoredResponse {
    params: Vec<(String, String)>,
    status: StatusCode,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    customers: Vec<String>,
    transactions: Vec<Transaction>,
    idempotent: HashMap<String, StoredResponse>,
    faults: Vec<Fault>,
    creating_requests: usize,
}

#[derive(Clone)]
pub struct FakeStripe {
    state: Arc<Mutex<FakeState>>,
    pub addr: SocketAddr,
}

type Shared = Arc<Mutex<FakeState>>;

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.starts_with("sk_test_") || key.starts_with("rk_test_"))
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, FakeState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn transaction_json(t: &Transaction, ending_balance: i64) -> Value {
    json!({
        "id": t.id,
        "object": "customer_balance_transaction",
        "amount": t.amount,
        "checkout_session": null,
        "created": 1_764_000_000,
        "credit_note": null,
        "currency": t.currency,
        "customer": t.customer,
        "customer_account": null,
        "description": t.description,
        "ending_balance": ending_balance,
        "invoice": null,
        "livemode": false,
        "metadata": t.metadata,
        "type": "adjustment",
    })
}

async fn create(
    State(state): State<Shared>,
    Path(customer): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided",
        );
    }
    let mut params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    params.sort();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut s = lock(&state);
    s.creating_requests += 1;
    if let Some(key) = &key
        && let Some(stored) = s.idempotent.get(key)
    {
        if stored.params != params {
            return error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            );
        }
        let mut response = (stored.status, axum::Json(stored.body.clone())).into_response();
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
        return response;
    }
    let fault = if s.faults.is_empty() {
        None
    } else {
        Some(s.faults.remove(0))
    };
    if fault == Some(Fault::Unavailable) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            None,
            "The service is temporarily unavailable.",
        );
    }
    if !s.customers.contains(&customer) {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such customer: '{customer}'"),
        );
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (Some(amount), Some(currency)) = (
        get("amount").and_then(|a| a.parse::<i64>().ok()),
        get("currency"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "Missing required param: amount or currency.",
        );
    };
    let metadata: HashMap<String, String> = params
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect();
    let transaction = Transaction {
        id: format!("cbtxn_fake{:08}", s.transactions.len() + 1),
        customer: customer.clone(),
        amount,
        currency,
        description: get("description"),
        metadata,
        idempotency_key: key.clone(),
    };
    let balance: i64 = s
        .transactions
        .iter()
        .filter(|t| t.customer == customer)
        .map(|t| t.amount)
        .sum::<i64>()
        + amount;
    let body = transaction_json(&transaction, balance);
    s.transactions.push(transaction);
    if let Some(key) = key {
        s.idempotent.insert(
            key,
            StoredResponse {
                params,
                status: StatusCode::OK,
                body: body.clone(),
            },
        );
    }
    drop(s);
    if fault == Some(Fault::LoseResponse) {
        // The transaction exists; the client never learns it.
        let broken = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("connection lost"))
        });
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from_stream(broken))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn list(
    State(state): State<Shared>,
    Path(customer): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided",
        );
    }
    let s = lock(&state);
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    // Newest first, as Stripe lists.
    let mine: Vec<&Transaction> = s
        .transactions
        .iter()
        .rev()
        .filter(|t| t.customer == customer)
        .collect();
    let start = match query.get("starting_after") {
        Some(after) => mine
            .iter()
            .position(|t| &t.id == after)
            .map_or(mine.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<Value> = mine
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| transaction_json(t, 0))
        .collect();
    let has_more = start + page.len() < mine.len();
    axum::Json(json!({
        "object": "list",
        "url": format!("/v1/customers/{customer}/balance_transactions"),
        "has_more": has_more,
        "data": page,
    }))
    .into_response()
}

impl FakeStripe {
    /// Serves on an ephemeral port of 127.0.0.1, knowing `customers`.
    pub async fn start(customers: &[&str]) -> std::io::Result<Self> {
        let state: Shared = Arc::new(Mutex::new(FakeState {
            customers: customers.iter().map(|c| c.to_string()).collect(),
            ..FakeState::default()
        }));
        let app = Router::new()
            .route(
                "/v1/customers/{customer}/balance_transactions",
                get(list).post(create),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { state, addr })
    }

    /// The base URL to hand the Stripe client.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    pub fn transactions(&self) -> Vec<Transaction> {
        lock(&self.state).transactions.clone()
    }

    /// How many creating requests arrived (replays included).
    pub fn creating_requests(&self) -> usize {
        lock(&self.state).creating_requests
    }
}
