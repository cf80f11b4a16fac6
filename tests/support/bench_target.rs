//! A benchmark's target, measured and judged: each benchmark prints the figure the README names,
//! its target and whether it was met (included with `#[path]` by the benches of several crates).

use std::time::{Duration, Instant};

/// Operations per second of `operation` on this thread: the best of five rounds of about
/// `round` each (the best round is the one least disturbed by the rest of the machine).
pub fn per_second(round: Duration, mut operation: impl FnMut()) -> f64 {
    // Calibrate: how many calls fill about a tenth of a round.
    let mut batch = 1u64;
    loop {
        let started = Instant::now();
        for _ in 0..batch {
            operation();
        }
        if started.elapsed() >= round / 10 || batch >= 1 << 30 {
            break;
        }
        batch *= 2;
    }
    (0..5)
        .map(|_| {
            let started = Instant::now();
            let mut calls = 0u64;
            while started.elapsed() < round {
                for _ in 0..batch {
                    operation();
                }
                calls += batch;
            }
            calls as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

/// Prints `what: measured per second; target ≥ minimum per second: met / NOT met` and returns
/// whether it was met.
pub fn at_least(what: &str, measured: f64, minimum: f64, unit: &str) -> bool {
    let met = measured >= minimum;
    println!(
        "target {what}: {measured:.0} {unit}; target ≥ {minimum:.0} {unit}: {}",
        if met { "met" } else { "NOT met" }
    );
    met
}
