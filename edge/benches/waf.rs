//! WAF + rate decision throughput, natively, on the CRS regression corpus (when the read-only
//! corpus folder is present) and on the platform's benign corpus; and the whole edge
//! (`EdgeService::handle`) on the benign corpus. Target (issue 10): ≥ 50 k requests/s per core.
//! Criterion runs single-threaded, so its throughput is per core. After criterion's report each
//! figure is measured once more and printed against the target (exit 1 when one is missed).
//! Run: `cargo bench -p edge --bench waf`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/bench_target.rs"]
mod bench_target;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use edge::waf::{Waf, WafConfig, WafRequest, corpus};

/// The corpus at the first of `paths` that exists; `None` when none does. A line that is no
/// request stops the benchmark (a silently shorter corpus would measure something else).
fn load(paths: &[&str]) -> Option<Vec<WafRequest>> {
    let (path, text) = paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().map(|t| (*p, t)))?;
    let requests = corpus::read_all(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    Some(requests.into_iter().map(|(_, r)| r).collect())
}

/// The WAF and the rate decision over a corpus, as the benchmark runs them.
struct WafAndRate {
    waf: Waf,
    limiter: edge::rate::Gcra,
    state: edge::rate::GcraState,
    now: u64,
}

impl WafAndRate {
    fn new() -> Self {
        Self {
            waf: Waf::new(WafConfig::default()),
            limiter: edge::rate::Gcra::new(edge::rate::Quota::per_minute(600, 60)),
            state: edge::rate::GcraState::default(),
            now: 0,
        }
    }

    fn decide(&mut self, request: &WafRequest) {
        self.now += 1_000;
        let verdict = self.waf.inspect(black_box(request));
        let decision = self.limiter.check(&mut self.state, self.now);
        black_box((verdict, decision));
    }
}

/// Requests per second per core of each measured path, for the target check after criterion.
static MEASURED: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

fn measured(what: String, per_second: f64) {
    MEASURED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((what, per_second));
}

const ROUND: Duration = Duration::from_millis(400);
const TARGET_PER_SECOND: f64 = 50_000.0;

fn measure(c: &mut Criterion, name: &str, requests: &[WafRequest]) {
    let mut decider = WafAndRate::new();
    let mut next = requests.iter().cycle();
    measured(
        format!("{name} corpus, WAF + rate decision"),
        bench_target::per_second(ROUND, || {
            if let Some(request) = next.next() {
                decider.decide(request);
            }
        }),
    );
    let mut group = c.benchmark_group("waf");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function(
        format!(
            "{name} corpus, WAF + rate decision ({} requests)",
            requests.len()
        ),
        |b| {
            // The WAF is built once (criterion calls this for every sample): its lazy automata
            // stay warm, as in a running isolate.
            b.iter(|| {
                for request in requests {
                    decider.decide(request);
                }
            })
        },
    );
    group.finish();
}

/// Answers at once, as the fastest function would: the measurement is the edge's own work.
struct InstantOrigin;

impl edge::pipeline::Origin for InstantOrigin {
    async fn forward(
        &self,
        _request: http::Request<Vec<u8>>,
        _verified: Option<&kernel::token::VerifiedToken>,
    ) -> http::Response<Vec<u8>> {
        http::Response::new(b"{}".to_vec())
    }
}

fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the memory store and origin never wait"),
    }
}

/// The whole edge per request, as the Worker runs it minus the host's glue: HTTPS check, the
/// client's keyed hash and rate limit in the store, the WAF, the brute-force guard, the token
/// gate verifying a real token, the origin signature, security headers and events.
fn measure_pipeline(c: &mut Criterion, requests: &[WafRequest]) {
    use kernel::rbac::{Actor, Principal};
    use kernel::time::{SignedDuration, Timestamp};
    use kernel::token::{SigningKey, TokenAudience, TokenIssuer, TokenVerifier};
    let key = SigningKey::generate("bench");
    let audience = TokenAudience {
        issuer: "https://bench.example".into(),
        audience: "regrooter".into(),
    };
    let verifier = TokenVerifier::new(
        vec![key.verification_key()],
        audience.clone(),
        SignedDuration::from_secs(30),
    );
    let start: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    let principal = Principal {
        subject: "user-1".into(),
        actor: Actor::Customer {
            tenant: kernel::ids::TenantId::new("acme").unwrap(),
        },
        roles: vec!["customer_admin".into()],
        amr: vec!["pwd".into(), "otp".into()],
    };
    let token = TokenIssuer::new(key, audience)
        .issue(&principal, start, SignedDuration::from_hours(12))
        .unwrap();
    let service = edge::pipeline::EdgeService::new(
        edge::pipeline::EdgeSettings {
            require_https: true,
            security_contact: "mailto:security@bench.example".into(),
            policy_url: "https://bench.example/security".into(),
            canonical_url: "https://bench.example/.well-known/security.txt".into(),
            hash_key: b"bench-hash-key".to_vec(),
            origin_secret: b"bench-origin-secret-bench-origin".to_vec(),
            waf: WafConfig::default(),
        },
        verifier,
    );
    // The corpus's bearer tokens are placeholders: every one becomes the real token.
    let requests: Vec<http::Request<Vec<u8>>> = requests
        .iter()
        .map(|r| {
            let mut builder = http::Request::builder()
                .method(r.method.as_str())
                .uri(&r.uri);
            for (name, value) in &r.headers {
                let value = if name.eq_ignore_ascii_case("authorization") {
                    format!("Bearer {token}")
                } else {
                    value.clone()
                };
                builder = builder.header(name.as_str(), value);
            }
            builder.body(r.body.clone()).unwrap()
        })
        .collect();
    // Each pass starts with an empty store and gives every request its own client, so no rate
    // limit or lockout cuts a request short: every one is inspected and forwarded (or answered
    // by the edge's own routes). The statuses of one pass are printed so the figure can be read.
    let clients: Vec<edge::pipeline::Client> = (0..requests.len())
        .map(|i| edge::pipeline::Client {
            ip: format!("198.51.{}.{}", i / 250, i % 250),
            tls: true,
        })
        .collect();
    let pass = |statuses: Option<&mut std::collections::BTreeMap<u16, usize>>| {
        let store = edge::pipeline::MemoryStore::default();
        let mut statuses = statuses;
        for (request, client) in requests.iter().zip(&clients) {
            let handled = ready(service.handle(
                black_box(request.clone()),
                client,
                start,
                &store,
                &InstantOrigin,
            ));
            if let Some(statuses) = statuses.as_deref_mut() {
                *statuses
                    .entry(handled.response.status().as_u16())
                    .or_insert(0) += 1;
            }
            black_box(handled);
        }
    };
    let mut statuses = std::collections::BTreeMap::new();
    pass(Some(&mut statuses));
    println!("statuses of one pass through the edge: {statuses:?}");
    let passes = bench_target::per_second(ROUND, || pass(None));
    measured(
        "benign corpus through EdgeService::handle".into(),
        passes * requests.len() as f64,
    );
    let mut group = c.benchmark_group("edge");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function(
        format!(
            "benign corpus through EdgeService::handle ({} requests)",
            requests.len()
        ),
        |b| b.iter(|| pass(None)),
    );
    group.finish();
}

fn benches(c: &mut Criterion) {
    match load(&[
        "../../shared/corpora/crs/crs-regression.jsonl",
        "../shared/corpora/crs/crs-regression.jsonl",
    ]) {
        Some(requests) => measure(c, "CRS", &requests),
        None => eprintln!(
            "notice: ../shared/corpora/crs/crs-regression.jsonl not found; the CRS corpus benchmark is skipped"
        ),
    }
    match load(&["corpora/benign.jsonl", "edge/corpora/benign.jsonl"]) {
        Some(requests) => {
            measure(c, "benign", &requests);
            measure_pipeline(c, &requests);
        }
        None => panic!("edge/corpora/benign.jsonl is part of the repository and missing"),
    }
}

criterion_group!(waf, benches);

fn main() {
    waf();
    Criterion::default().configure_from_args().final_summary();
    println!();
    let mut met = true;
    for (what, per_second) in MEASURED.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        met &= bench_target::at_least(what, *per_second, TARGET_PER_SECOND, "requests/s per core");
    }
    if !met {
        std::process::exit(1);
    }
}
