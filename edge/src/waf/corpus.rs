//! Corpus lines as requests: the format of the CRS regression corpus, read by
//! `regrooter waf check`, the benchmarks and the tests.
//!
//! A line has `id`, `method`, `uri` (percent-encoded as sent), optional `version`, `headers`
//! (object or list of pairs) and `body`; or `raw_request_b64`, the exact bytes on the wire. As
//! CRS's test runner does, `Host` and `Content-Length` are added when missing, and a body without
//! `Content-Type` is form-encoded.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::WafRequest;

#[derive(Debug, Deserialize)]
pub struct Line {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub headers: Option<Value>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub raw_request_b64: Option<String>,
}

/// The request a corpus line describes, with its id; or the id and why it is no request.
pub fn request_of(line: Line) -> Result<(Value, WafRequest), (Value, String)> {
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

/// Every request of a JSONL corpus, in order; the first line that is no request is an error
/// naming its line number.
pub fn read_all(text: &str) -> Result<Vec<(Value, WafRequest)>, String> {
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line)
            .map_err(|e| format!("line {}: not a request object: {e}", number + 1))?;
        out.push(request_of(parsed).map_err(|(_, e)| format!("line {}: {e}", number + 1))?);
    }
    Ok(out)
}
