//! `regrooter waf check`: the edge's WAF over JSONL requests, one verdict line per request.
//!
//! Input lines follow the CRS regression corpus format: `id`, `method`, `uri` (percent-encoded
//! as sent), optional `version`, `headers` (object or list of pairs) and `body`; or
//! `raw_request_b64`, the exact bytes on the wire. As CRS's test runner does, `Host` and
//! `Content-Length` are added when missing, and a body without `Content-Type` is form-encoded.

use std::io::{BufRead, Write};

use base64::Engine as _;
use edge::waf::{Waf, WafConfig, WafRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::CliError;

#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    raw_request_b64: Option<String>,
}

fn request_of(line: Line) -> Result<(Value, WafRequest), (Value, String)> {
    let id = line.id.clone();
    if let Some(raw) = &line.raw_request_b64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.split_whitespace().collect::<String>())
            .map_err(|e| (id.clone(), format!("raw_request_b64 is not base64: {e}")))?;
        return Ok((id, WafRequest::from_raw(&bytes)));
    }
    let method = line
        .method
        .ok_or_else(|| (id.clone(), "missing 'method'".to_string()))?;
    let uri = line
        .uri
        .ok_or_else(|| (id.clone(), "missing 'uri'".to_string()))?;
    let mut headers: Vec<(String, String)> = match line.headers {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .into_iter()
            .filter_map(|p| match p {
                Value::Array(kv) if kv.len() == 2 => Some((
                    kv[0].as_str().unwrap_or_default().to_string(),
                    kv[1].as_str().unwrap_or_default().to_string(),
                )),
                _ => None,
            })
            .collect(),
        Some(_) => return Err((id, "'headers' must be an object or a list of pairs".into())),
    };
    let body = line.body.unwrap_or_default().into_bytes();
    let has = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if !has(&headers, "host") {
        headers.push(("Host".into(), "localhost".into()));
    }
    if !body.is_empty() && !has(&headers, "content-length") && !has(&headers, "transfer-encoding") {
        headers.push(("Content-Length".into(), body.len().to_string()));
    }
    if !body.is_empty() && !has(&headers, "content-type") {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    let mut request = WafRequest::new(&method, &uri, headers, body);
    if let Some(version) = line.version {
        request.version = version;
    }
    Ok((id, request))
}

pub fn check(paranoia: u8) -> Result<(), CliError> {
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
                let v = waf.inspect(&request);
                json!({ "id": id, "action": v.action.as_str(), "score": v.score, "rules": v.rules })
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
