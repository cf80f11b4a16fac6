//! `regrooter waf check`: the edge's WAF over JSONL requests, one verdict line per request.
//! Input lines follow the CRS regression corpus format (see `edge::waf::corpus`).

use std::io::{BufRead, Write};

use edge::waf::corpus::{Line, request_of};
use edge::waf::{Waf, WafConfig};
use serde_json::{Value, json};

use crate::cli::CliError;

pub fn check(paranoia: u8, timing: bool) -> Result<(), CliError> {
    if !(1..=4).contains(&paranoia) {
        return Err(CliError::Usage(format!(
            "--paranoia must be 1 to 4, not {paranoia}"
        )));
    }
    let waf = Waf::new(WafConfig {
        paranoia,
        ..WafConfig::default()
    });
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Line>(&line)
            .map_err(|e| {
                (
                    Value::Null,
                    format!("line {}: not a request object: {e}", number + 1),
                )
            })
            .and_then(request_of);
        let verdict = match parsed {
            Ok((id, request)) => {
                let started = std::time::Instant::now();
                let v = waf.inspect(&request);
                let micros = started.elapsed().as_secs_f64() * 1e6;
                let mut verdict = json!({
                    "id": id, "action": v.action.as_str(), "score": v.score, "rules": v.rules
                });
                if timing {
                    verdict["micros"] = json!((micros * 10.0).round() / 10.0);
                }
                verdict
            }
            Err((id, error)) => {
                failures += 1;
                eprintln!("error: {error}");
                json!({ "id": id, "error": error })
            }
        };
        writeln!(out, "{verdict}")?;
    }
    out.flush()?;
    if failures > 0 {
        return Err(CliError::Usage(format!(
            "{failures} line(s) could not be read as requests"
        )));
    }
    Ok(())
}
