//! The Cloudflare Worker entry: converts between the `worker` crate's types and the plain
//! pipeline, and supplies the two host pieces — per-key state in the `RateLimiter` Durable Object
//! of the key's shard (exact worldwide), and fetches to the functions' URLs.
//!
//! Bindings (wrangler.toml / Terraform): secrets `ORIGIN_SECRET`, `IP_HASH_KEY`; vars `JWKS`,
//! `TOKEN_ISSUER`, `TOKEN_AUDIENCE`, `SECURITY_CONTACT`, `POLICY_URL`, `CANONICAL_URL`,
//! `REQUIRE_HTTPS`, `PARANOIA`, `ORIGIN_INCIDENTS`, `ORIGIN_STRIPE_WEBHOOK`, `ORIGIN_AUTH`,
//! `ORIGIN_SLA`, `ORIGIN_PORTAL`, `ORIGIN_CONSOLE`, `PROBE_TARGETS`; Durable Object namespace `RATE_LIMITER`; a
//! cron trigger every minute (the second uptime vantage, [`scheduled`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use kernel::time::{SignedDuration, Timestamp};
use kernel::token::{Jwks, TokenAudience, TokenVerifier, VerifiedToken};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{
    DurableObject, Env, Fetch, Headers, Method, Request, RequestInit, Response, Result, State,
    console_error, console_log, durable_object, event,
};

use crate::bruteforce::{self, GuardOp, GuardReply, GuardState};
use crate::pipeline::{
    Client, EdgeService, EdgeSettings, EdgeStore, GuardKind, Origin, origin_binding_for,
};
use crate::rate::{Gcra, GcraState, Quota, RateDecision, shard_of};
use crate::waf::{ReportOnly, WafConfig};

thread_local! {
    /// Built once per isolate: compiling the WAF's rules is the expensive part.
    static SERVICE: RefCell<Option<Rc<EdgeService>>> = const { RefCell::new(None) };
}

fn var(env: &Env, name: &str) -> Result<String> {
    Ok(env.var(name)?.to_string())
}

fn service(env: &Env) -> Result<Rc<EdgeService>> {
    if let Some(s) = SERVICE.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let jwks: Jwks = serde_json::from_str(&var(env, "JWKS")?)
        .map_err(|e| worker::Error::RustError(format!("JWKS: {e}")))?;
    let audience = TokenAudience {
        issuer: var(env, "TOKEN_ISSUER")?,
        audience: var(env, "TOKEN_AUDIENCE")?,
    };
    let verifier = TokenVerifier::from_jwks(&jwks, audience, SignedDuration::from_secs(30))
        .map_err(|e| worker::Error::RustError(format!("JWKS: {e}")))?;
    let paranoia = var(env, "PARANOIA")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let settings = EdgeSettings {
        require_https: var(env, "REQUIRE_HTTPS").map_or(true, |v| v != "false"),
        security_contact: var(env, "SECURITY_CONTACT")?,
        policy_url: var(env, "POLICY_URL")?,
        canonical_url: var(env, "CANONICAL_URL")?,
        hash_key: env.secret("IP_HASH_KEY")?.to_string().into_bytes(),
        origin_secret: env.secret("ORIGIN_SECRET")?.to_string().into_bytes(),
        waf: WafConfig {
            paranoia,
            // Rules and routes rolled out report-only (logged, not blocking); a bad entry
            // stops the Worker from starting rather than silently blocking or passing.
            report_only: ReportOnly::parse(&var(env, "WAF_REPORT_ONLY").unwrap_or_default())
                .map_err(worker::Error::RustError)?,
            ..WafConfig::default()
        },
    };
    let service = Rc::new(EdgeService::new(settings, verifier));
    SERVICE.with(|s| *s.borrow_mut() = Some(service.clone()));
    Ok(service)
}

fn now() -> Timestamp {
    let millis = i64::try_from(worker::Date::now().as_millis()).unwrap_or(0);
    Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_http(
    method: &Method,
    path_and_query: &str,
    headers: &Headers,
    body: Vec<u8>,
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder()
        .method(method.to_string().as_str())
        .uri(path_and_query);
    for (name, value) in headers.entries() {
        builder = builder.header(name, value);
    }
    builder.body(body).unwrap_or_default()
}

fn to_worker(response: http::Response<Vec<u8>>) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in response.headers() {
        if let Ok(v) = value.to_str() {
            headers.append(name.as_str(), v)?;
        }
    }
    let status = response.status().as_u16();
    Ok(Response::from_bytes(response.into_body())?
        .with_status(status)
        .with_headers(headers))
}

#[event(fetch)]
pub async fn fetch(mut req: Request, env: Env, ctx: worker::Context) -> Result<Response> {
    let service = match service(&env) {
        Ok(s) => s,
        Err(e) => {
            console_error!("edge configuration: {e}");
            return Ok(Response::error("edge misconfigured", 500)?);
        }
    };
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let client = Client {
        ip: req
            .headers()
            .get("cf-connecting-ip")?
            .unwrap_or_else(|| "unknown".into()),
        tls: url.scheme() == "https",
    };
    // Most requests (GETs) carry no body: then there is nothing to read, and no stream to wait
    // for. A GET that does carry one is read and inspected like any other. A body declared
    // larger than the edge reads is not read at all; one without a length (chunked) is read
    // only until it passes the limit. Either way the pipeline answers 413.
    let limit = service.max_body_bytes();
    let declared: Option<usize> = req
        .headers()
        .get("content-length")?
        .and_then(|l| l.trim().parse().ok());
    let mut oversize = declared.is_some_and(|l| l > limit);
    let body = if req.inner().body().is_some() && !oversize {
        match crate::body::read_bounded(req.stream()?, limit).await {
            Ok(crate::body::Bounded::Complete(body)) => body,
            Ok(crate::body::Bounded::Oversize) => {
                oversize = true;
                Vec::new()
            }
            Err(e) => {
                console_error!("reading the request body: {e}");
                let problem = http::Response::builder()
                    .status(http::StatusCode::BAD_REQUEST)
                    .header(http::header::CONTENT_TYPE, kernel::Problem::CONTENT_TYPE)
                    .body(br#"{"type":"/problems/unreadable-body","title":"The request body could not be read","status":400}"#.to_vec())
                    .unwrap_or_default();
                return to_worker(problem);
            }
        }
    } else {
        Vec::new()
    };
    // The trust page and its statement: answered from Cloudflare's cache while the origin's
    // `max-age` lasts, so a crowd of readers costs one origin request per colo and language.
    let shared = crate::pipeline::shared_cache_may_answer(
        req.method().as_ref(),
        url.path(),
        url.query(),
        req.headers().has("cookie")?,
        req.headers().has("authorization")?,
    ) && client.tls;
    if shared && let Some(hit) = worker::Cache::default().get(url.as_str(), false).await? {
        return Ok(hit);
    }
    let mut request = to_http(&req.method(), &path_and_query, req.headers(), body);
    if oversize {
        request
            .extensions_mut()
            .insert(crate::pipeline::OversizeBody);
    }
    let store = DurableStore { env: &env };
    let origin = FetchOrigin { env: &env };
    let handled = service
        .handle(request, &client, now(), &store, &origin)
        .await;
    for event in &handled.events {
        console_log!("{}", serde_json::to_string(event).unwrap_or_default());
    }
    let public = handled.response.status() == http::StatusCode::OK
        && handled
            .response
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("public"));
    let mut response = to_worker(handled.response)?;
    if shared && public {
        let stored = response.cloned()?;
        let key = url.to_string();
        ctx.wait_until(async move {
            if let Err(e) = worker::Cache::default().put(key, stored).await {
                console_error!("edge cache: {e}");
            }
        });
    }
    Ok(response)
}

/// The second uptime vantage: each minute the cron trigger checks every `PROBE_TARGETS`
/// endpoint from Cloudflare's network (2xx within the timeout is up, as in the region) and
/// reports the minute to the `sla` function, signed with the origin lock like every forwarded
/// request. A minute the report does not reach stays unknown from this vantage.
#[event(scheduled)]
pub async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    if let Err(e) = probe_from_the_edge(&event, &env).await {
        console_error!("edge probe: {e}");
    }
}

async fn probe_from_the_edge(event: &worker::ScheduledEvent, env: &Env) -> Result<()> {
    let targets = kernel::vantage::parse_targets(&var(env, "PROBE_TARGETS").unwrap_or_default())
        .map_err(worker::Error::RustError)?;
    if targets.is_empty() {
        return Ok(());
    }
    let service = service(env)?;
    // The minute the cron was scheduled for (its time in milliseconds since the epoch).
    let scheduled = Timestamp::from_millisecond(event.schedule() as i64).unwrap_or_else(|_| now());
    let mut results = Vec::with_capacity(targets.len());
    for target in targets {
        let up = check(&target.url).await;
        results.push(kernel::vantage::EdgeProbeResult {
            target: target.name,
            up,
        });
    }
    let report = kernel::vantage::EdgeProbeReport {
        minute: scheduled,
        results,
    };
    let request = service
        .edge_probe_request(&report, now())
        .map_err(worker::Error::RustError)?;
    let response = FetchOrigin { env }.forward(request, None).await;
    if !response.status().is_success() {
        return Err(worker::Error::RustError(format!(
            "the sla function answered {}",
            response.status()
        )));
    }
    console_log!(
        "{}",
        serde_json::json!({ "event": "edge_probe", "minute": report.minute, "targets": report.results.len() })
    );
    Ok(())
}

/// One check: a success status within the timeout is up; an error, a redirect (not followed),
/// no answer or a timeout is down.
async fn check(url: &str) -> bool {
    use std::future::Future as _;
    use std::task::Poll;
    // As in the region: a redirect is answered, not followed (a 3xx is not up).
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_redirect(worker::RequestRedirect::Manual);
    let Ok(request) = Request::new_with_init(url, &init) else {
        return false;
    };
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let mut answer = std::pin::pin!(fetch.send_with_signal(&signal));
    let mut timeout = std::pin::pin!(worker::Delay::from(std::time::Duration::from_secs(
        kernel::vantage::CHECK_TIMEOUT_SECS
    )));
    let outcome = std::future::poll_fn(|cx| {
        if let Poll::Ready(answer) = answer.as_mut().poll(cx) {
            return Poll::Ready(Some(answer));
        }
        if timeout.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    match outcome {
        Some(Ok(response)) => kernel::vantage::answered_up(response.status_code()),
        Some(Err(_)) => false,
        None => {
            controller.abort();
            false
        }
    }
}

/// What the Worker asks a shard's Durable Object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
enum Ask {
    Rate {
        key: String,
        interval_us: u64,
        burst: u32,
        now_us: u64,
    },
    Guard {
        key: String,
        kind: GuardKind,
        op: GuardOp,
        now_us: u64,
    },
}

struct DurableStore<'a> {
    env: &'a Env,
}

impl DurableStore<'_> {
    async fn ask<T: for<'de> Deserialize<'de>>(&self, key: &str, ask: &Ask) -> Result<T> {
        let namespace = self.env.durable_object("RATE_LIMITER")?;
        let stub = namespace
            .id_from_name(&format!("shard-{}", shard_of(key)))?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(worker::wasm_bindgen::JsValue::from_str(
                &serde_json::to_string(ask).map_err(|e| worker::Error::RustError(e.to_string()))?,
            )));
        let request = Request::new_with_init("https://rate-limiter.internal/", &init)?;
        // The stub's raw `fetch` and one `text()` of its reply: the `worker` crate's Response
        // would read the reply through a stream reader, a dozen JS round trips for a few bytes,
        // on every request the edge serves.
        let stub: worker::worker_sys::DurableObject = stub.into_rpc();
        let reply: worker::web_sys::Response =
            JsFuture::from(stub.fetch_with_request(request.inner())?)
                .await?
                .dyn_into()?;
        let text = JsFuture::from(reply.text()?)
            .await?
            .as_string()
            .ok_or_else(|| worker::Error::RustError("rate limiter: reply is not text".into()))?;
        serde_json::from_str(&text).map_err(|e| worker::Error::RustError(e.to_string()))
    }
}

impl EdgeStore for DurableStore<'_> {
    async fn rate(&self, key: &str, quota: Quota, now_us: u64) -> RateDecision {
        let ask = Ask::Rate {
            key: key.to_string(),
            interval_us: quota.emission_interval_us,
            burst: quota.burst,
            now_us,
        };
        // If the shard cannot be reached the request is let through and the failure logged:
        // the limiter must not take the platform down with it.
        self.ask(key, &ask).await.unwrap_or_else(|e| {
            console_error!("rate limiter unavailable: {e}");
            RateDecision::Allow { remaining: 0 }
        })
    }

    async fn guard(&self, key: &str, kind: GuardKind, op: GuardOp, now_us: u64) -> GuardReply {
        let ask = Ask::Guard {
            key: key.to_string(),
            kind,
            op,
            now_us,
        };
        self.ask(key, &ask).await.unwrap_or_else(|e| {
            console_error!("brute-force guard unavailable: {e}");
            GuardReply::Open
        })
    }
}

struct FetchOrigin<'a> {
    env: &'a Env,
}

impl Origin for FetchOrigin<'_> {
    async fn forward(
        &self,
        request: http::Request<Vec<u8>>,
        _verified: Option<&VerifiedToken>,
    ) -> http::Response<Vec<u8>> {
        match self.try_forward(request).await {
            Ok(response) => response,
            Err(e) => {
                console_error!("origin unreachable: {e}");
                http::Response::builder()
                    .status(http::StatusCode::BAD_GATEWAY)
                    .header(http::header::CONTENT_TYPE, kernel::Problem::CONTENT_TYPE)
                    .body(br#"{"type":"/problems/unavailable","title":"Temporarily unavailable","status":502}"#.to_vec())
                    .unwrap_or_default()
            }
        }
    }
}

impl FetchOrigin<'_> {
    async fn try_forward(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>> {
        let binding = origin_binding_for(request.uri().path())
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        let base = var(self.env, &binding)?;
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let headers = Headers::new();
        for (name, value) in request.headers() {
            if name != http::header::HOST
                && let Ok(v) = value.to_str()
            {
                headers.append(name.as_str(), v)?;
            }
        }
        let mut init = RequestInit::new();
        init.with_method(Method::from(request.method().to_string()))
            .with_headers(headers);
        if !request.body().is_empty() {
            init.with_body(Some(
                worker::js_sys::Uint8Array::from(request.body().as_slice()).into(),
            ));
        }
        let mut response = Fetch::Request(Request::new_with_init(&url, &init)?)
            .send()
            .await?;
        let mut builder = http::Response::builder().status(response.status_code());
        for (name, value) in response.headers().entries() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await?;
        builder
            .body(body)
            .map_err(|e| worker::Error::RustError(e.to_string()))
    }
}

/// One shard of rate-limit and brute-force state. A Durable Object handles its requests one at a
/// time, so the read-modify-write of a key's state is exact; the state is written through to
/// the object's storage, so an evicted object forgets nothing.
#[durable_object]
pub struct RateLimiter {
    state: State,
    rates: RefCell<HashMap<String, GcraState>>,
    guards: RefCell<HashMap<String, GuardState>>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            rates: RefCell::new(HashMap::new()),
            guards: RefCell::new(HashMap::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // Text and serde_json: `req.json()` would walk the parsed JS object field by field.
        let ask: Ask = serde_json::from_str(&req.text().await?)
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        let storage = self.state.storage();
        match ask {
            Ask::Rate {
                key,
                interval_us,
                burst,
                now_us,
            } => {
                let cached = self.rates.borrow().get(&key).copied();
                let mut state = match cached {
                    Some(s) => s,
                    None => storage
                        .get::<GcraState>(&format!("r:{key}"))
                        .await?
                        .unwrap_or_default(),
                };
                let quota = Quota {
                    emission_interval_us: interval_us,
                    burst,
                };
                let decision = Gcra::new(quota).check(&mut state, now_us);
                storage.put(&format!("r:{key}"), state).await?;
                self.rates.borrow_mut().insert(key, state);
                Response::from_json(&decision)
            }
            Ask::Guard {
                key,
                kind,
                op,
                now_us,
            } => {
                let storage_key = format!("g:{kind:?}:{key}");
                let cached = self.guards.borrow().get(&storage_key).cloned();
                let mut state = match cached {
                    Some(s) => s,
                    None => storage
                        .get::<GuardState>(&storage_key)
                        .await?
                        .unwrap_or_default(),
                };
                let reply = bruteforce::apply(&mut state, kind.limits(), &op, now_us);
                storage.put(&storage_key, &state).await?;
                self.guards.borrow_mut().insert(storage_key, state);
                Response::from_json(&reply)
            }
        }
    }
}
