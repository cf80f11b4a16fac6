//! The WAF's worst cost per KB of hostile input (issue 15: ≤ 2 µs of CPU per KB).
//!
//! Every family of `edge::waf::hostile` (each normaliser's openers and escapes repeated in each
//! content type, deep nesting, many fields, long keys over long arrays) and the exact requests
//! of the attack report, at 64 KB, 256 KB and 1 MiB (the body limit). Each is inspected a few
//! times and the fastest run counts; cost per KB = that time / request size. The per-request
//! floor (an empty POST) is printed too: small requests are dominated by it, not by their bytes.
//!
//! Run: `cargo bench -p edge --bench waf_hostile` (single-threaded, so per core).

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use edge::waf::hostile;
use edge::waf::{Waf, WafConfig, WafRequest};

const TARGET_US_PER_KB: f64 = 2.0;

/// The fastest of `runs` inspections, and the automata's work in the first (bytes searched,
/// bytes of states built).
fn best(waf: &Waf, request: &WafRequest, runs: usize) -> (Duration, usize, usize) {
    let first = waf.inspect(request);
    let fastest = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(waf.inspect(black_box(request)));
            start.elapsed()
        })
        .min()
        .unwrap_or_default();
    (fastest, first.scanned_bytes, first.state_bytes)
}

fn size_of(request: &WafRequest) -> usize {
    request.uri.len() + request.body.len()
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters case names.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let waf = Waf::new(WafConfig::default());
    let (floor, _, _) = best(&waf, &hostile::atom_body("x", "application/json", 16), 200);
    println!("per-request floor (empty JSON POST): {floor:?}");
    let mut worst: Option<(f64, String)> = None;
    let mut rows = Vec::new();
    for kb in [64usize, 256, 1024] {
        let mut cases = hostile::families(kb * 1024);
        if kb == 64 {
            cases.extend(hostile::reported());
        }
        for case in cases {
            if filter
                .as_ref()
                .is_some_and(|f| !case.name.contains(f.as_str()))
            {
                continue;
            }
            // The fastest of a few runs: one run alone can catch a page-fault storm or a neighbour.
            let runs = if kb >= 1024 { 3 } else { 4 };
            let (t, scanned, built) = best(&waf, &case.request, runs);
            let size = size_of(&case.request).max(1);
            let per_kb = t.as_secs_f64() * 1e6 / (size as f64 / 1024.0);
            let label = format!("{} [{} B]", case.name, size);
            let searched_per_byte = scanned as f64 / size as f64;
            let built_per_byte = built as f64 / size as f64;
            rows.push((per_kb, label.clone(), t, searched_per_byte, built_per_byte));
            if worst.as_ref().is_none_or(|(w, _)| per_kb > *w) {
                worst = Some((per_kb, label));
            }
        }
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "\nthe 15 costliest inputs (µs per KB, time, automata's bytes searched and bytes of \
         states built per byte, on first sight):"
    );
    for (per_kb, label, t, searched, built) in rows.iter().take(15) {
        println!("  {per_kb:8.2} µs/KB  {t:>10.2?}  {searched:5.2}/B  {built:6.2}/B  {label}");
    }
    println!("\n{} inputs measured", rows.len());
    if let Some((per_kb, label)) = worst {
        let met = if per_kb <= TARGET_US_PER_KB {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "worst: {per_kb:.2} µs per KB ({label}); target ≤ {TARGET_US_PER_KB} µs/KB: {met}"
        );
    }
}
