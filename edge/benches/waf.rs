//! WAF + rate decision throughput, natively, on the CRS regression corpus (when the read-only
//! corpus folder is present) and on the platform's benign corpus. Target (issue 10): ≥ 50 k
//! requests/s per core. Criterion runs single-threaded, so its throughput is per core.
//! Run: `cargo bench -p edge --bench waf`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

fn measure(c: &mut Criterion, name: &str, requests: &[WafRequest]) {
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
        Some(requests) => measure(c, "benign", &requests),
        None => panic!("edge/corpora/benign.jsonl is part of the repository and missing"),
    }
}

criterion_group!(waf, benches);
criterion_main!(waf);
