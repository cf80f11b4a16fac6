//! WAF + rate decision throughput, natively, on the CRS regression corpus (when the read-only
//! corpus folder is present) and on the platform's benign corpus. Target (issue 10): ≥ 50 k
//! requests/s per core. Criterion runs single-threaded, so its throughput is per core.
//! Run: `cargo bench -p edge --bench waf`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use edge::waf::{Waf, WafConfig, WafRequest};

fn load(path: &str) -> Option<Vec<WafRequest>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut requests = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        if let Some(raw) = v["raw_request_b64"].as_str() {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw.split_whitespace().collect::<String>())
                .ok()?;
            requests.push(WafRequest::from_raw(&bytes));
            continue;
        }
        let mut headers: Vec<(String, String)> = v["headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let body = v["body"].as_str().unwrap_or_default().as_bytes().to_vec();
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            headers.push(("Host".into(), "localhost".into()));
        }
        if !body.is_empty()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        requests.push(WafRequest::new(
            v["method"].as_str().unwrap_or("GET"),
            v["uri"].as_str().unwrap_or("/"),
            headers,
            body,
        ));
    }
    Some(requests)
}

fn corpus(c: &mut Criterion, name: &str, requests: &[WafRequest]) {
    let waf = Waf::new(WafConfig::default());
    let limiter = edge::rate::Gcra::new(edge::rate::Quota::per_minute(600, 60));
    let mut group = c.benchmark_group("waf");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.bench_function(
        format!(
            "{name} corpus, WAF + rate decision ({} requests)",
            requests.len()
        ),
        |b| {
            let mut state = edge::rate::GcraState::default();
            let mut now = 0u64;
            b.iter(|| {
                for request in requests {
                    now += 1_000;
                    let verdict = waf.inspect(black_box(request));
                    let decision = limiter.check(&mut state, now);
                    black_box((verdict, decision));
                }
            })
        },
    );
    group.finish();
}

fn benches(c: &mut Criterion) {
    match load("../../shared/corpora/crs/crs-regression.jsonl")
        .or_else(|| load("../shared/corpora/crs/crs-regression.jsonl"))
    {
        Some(requests) => corpus(c, "CRS", &requests),
        None => eprintln!(
            "notice: ../shared/corpora/crs/crs-regression.jsonl not found; the CRS corpus benchmark is skipped"
        ),
    }
    if let Some(requests) =
        load("corpora/benign.jsonl").or_else(|| load("edge/corpora/benign.jsonl"))
    {
        corpus(c, "benign", &requests);
    }
}

criterion_group!(waf, benches);
criterion_main!(waf);
