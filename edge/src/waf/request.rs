//! The request as the WAF sees it, and the places (targets) where attacks hide: path, query and
//! body arguments (form, JSON, XML, multipart), cookies, file names and headers.

use super::normalize;

/// Problems found while reading the request itself (protocol rules score them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolIssue {
    MalformedRequestLine,
    ConflictingLength,
    InvalidContentLength,
    MultipleContentLength,
    BadTransferEncoding,
    MissingHost,
    NulInHeaders,
    MalformedHeader,
    UnparseableBody,
}

#[derive(Debug, Clone, Default)]
pub struct WafRequest {
    pub method: String,
    /// The request target as sent: path and query, still percent-encoded.
    pub uri: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub issues: Vec<ProtocolIssue>,
}

impl WafRequest {
    pub fn new(method: &str, uri: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self {
            method: method.to_string(),
            uri: uri.to_string(),
            version: "HTTP/1.1".into(),
            headers,
            body,
            issues: Vec::new(),
        }
    }

    /// Reads a request from its bytes on the wire, noting everything malformed on the way.
    pub fn from_raw(raw: &[u8]) -> Self {
        let mut request = WafRequest::default();
        let head_end = find(raw, b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| find(raw, b"\n\n").map(|i| (i, 2)));
        let (head, body) = match head_end {
            Some((i, sep)) => (&raw[..i], &raw[i + sep..]),
            None => (raw, &raw[raw.len()..]),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let request_line = lines.next().unwrap_or_default();
        let parts: Vec<&str> = request_line.split(' ').collect();
        match parts.as_slice() {
            [method, uri, version] if version.starts_with("HTTP/") => {
                request.method = method.to_string();
                request.uri = uri.to_string();
                request.version = version.to_string();
            }
            _ => {
                request.issues.push(ProtocolIssue::MalformedRequestLine);
                request.method = parts.first().copied().unwrap_or_default().to_string();
                request.uri = parts.get(1).copied().unwrap_or_default().to_string();
                request.version = parts.get(2..).map(|p| p.join(" ")).unwrap_or_default();
            }
        }
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.contains('\0') {
                request.issues.push(ProtocolIssue::NulInHeaders);
            }
            match line.split_once(':') {
                Some((name, value)) if !name.is_empty() && !name.contains(' ') => {
                    request
                        .headers
                        .push((name.to_string(), value.trim().to_string()));
                }
                _ => request.issues.push(ProtocolIssue::MalformedHeader),
            }
        }
        request.body = body.to_vec();
        request
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }

    pub fn query(&self) -> Option<&str> {
        self.uri.split_once('?').map(|(_, q)| q)
    }

    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("application/x-www-form-urlencoded")
            .to_ascii_lowercase()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    ArgName,
    ArgValue,
    Cookie,
    Header,
    Filename,
    /// A body the WAF could not split into arguments (plain text, broken JSON).
    RawBody,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub location: Location,
    /// The argument's name (for exclusions), e.g. `description` or `json.user.name`.
    pub name: String,
    /// The value, decoded from its transport encoding (percent, JSON) but not further.
    pub value: String,
}

/// Headers whose values are structured and carry no free input worth scanning.
const UNSCANNED_HEADERS: &[&str] = &[
    "host",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-charset",
    "connection",
    "content-length",
    "content-type",
    "cache-control",
    "pragma",
    "if-modified-since",
    "if-none-match",
    "authorization",
    "stripe-signature",
    "x-request-id",
    "x-regrooter-origin",
    "cookie",
    "origin",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-user",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "upgrade-insecure-requests",
    "te",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "dnt",
];

/// Headers that carry an uploaded file's name.
const FILENAME_HEADERS: &[&str] = &["x-filename", "x_filename", "x.filename", "x-file-name"];

fn split_pairs(
    input: &str,
    separator: char,
    plus_is_space: bool,
    name_loc: Location,
    value_loc: Location,
    out: &mut Vec<Target>,
) {
    for pair in input.split(separator) {
        let pair = pair.trim_start();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = normalize::url_decode_repeated(name, plus_is_space);
        let value = normalize::url_decode_repeated(value, plus_is_space);
        out.push(Target {
            location: name_loc,
            name: name.clone(),
            value: name.clone(),
        });
        if !value.is_empty() {
            out.push(Target {
                location: value_loc,
                name,
                value,
            });
        }
    }
}

fn walk_json(value: &serde_json::Value, path: &str, out: &mut Vec<Target>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let name = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out.push(Target {
                    location: Location::ArgName,
                    name: name.clone(),
                    value: key.clone(),
                });
                walk_json(child, &name, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_json(item, path, out);
            }
        }
        Value::String(s) => out.push(Target {
            location: Location::ArgValue,
            name: path.to_string(),
            value: s.clone(),
        }),
        Value::Number(n) => out.push(Target {
            location: Location::ArgValue,
            name: path.to_string(),
            value: n.to_string(),
        }),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Text nodes and attribute values of an XML document (a tolerant scan, not a parser: broken
/// XML is exactly what attackers send).
fn walk_xml(body: &str, out: &mut Vec<Target>) {
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let text = rest[..open].trim();
        if !text.is_empty() {
            out.push(Target {
                location: Location::ArgValue,
                name: "xml".into(),
                value: normalize::html_entity_decode(text),
            });
        }
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open + 1..];
            continue;
        };
        let tag = &rest[open + 1..open + close];
        let mut attrs = tag;
        while let Some(eq) = attrs.find('=') {
            let after = attrs[eq + 1..].trim_start();
            let quote = after.chars().next();
            match quote {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    out.push(Target {
                        location: Location::ArgValue,
                        name: "xml".into(),
                        value: normalize::html_entity_decode(&inner[..end]),
                    });
                    attrs = &inner[(end + 1).min(inner.len())..];
                }
                _ => attrs = &attrs[eq + 1..],
            }
        }
        rest = &rest[open + close + 1..];
    }
    let tail = rest.trim();
    if !tail.is_empty() {
        out.push(Target {
            location: Location::ArgValue,
            name: "xml".into(),
            value: normalize::html_entity_decode(tail),
        });
    }
}

fn walk_multipart(body: &[u8], boundary: &str, out: &mut Vec<Target>) -> bool {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    if !text.contains(&delimiter) {
        return false;
    }
    for part in text.split(&delimiter).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part
            .strip_prefix("\r\n")
            .or_else(|| part.strip_prefix('\n'))
            .unwrap_or(part);
        let (head, content) = match part.find("\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match part.find("\n\n") {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => (part, ""),
            },
        };
        let content = content
            .strip_suffix("\r\n")
            .or_else(|| content.strip_suffix('\n'))
            .unwrap_or(content);
        let mut name = String::new();
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition") {
                for field in line.split(';').skip(1) {
                    let field = field.trim();
                    if let Some((key, value)) = field.split_once('=') {
                        let value = value.trim().trim_matches('"').to_string();
                        match key.trim().to_ascii_lowercase().as_str() {
                            "name" => name = value,
                            "filename" | "filename*" => out.push(Target {
                                location: Location::Filename,
                                name: name.clone(),
                                value,
                            }),
                            _ => {}
                        }
                    }
                }
            }
        }
        out.push(Target {
            location: Location::ArgName,
            name: name.clone(),
            value: name.clone(),
        });
        if !content.is_empty() {
            out.push(Target {
                location: Location::ArgValue,
                name,
                value: content.to_string(),
            });
        }
    }
    true
}

/// Every target of a request. Returns whether the body could be read as its content type says.
pub fn targets(request: &WafRequest) -> (Vec<Target>, bool) {
    let mut out = Vec::new();
    out.push(Target {
        location: Location::Path,
        name: "path".into(),
        value: normalize::url_decode_repeated(request.path(), false),
    });
    if let Some(query) = request.query() {
        split_pairs(
            query,
            '&',
            true,
            Location::ArgName,
            Location::ArgValue,
            &mut out,
        );
    }
    for cookie in request.headers_named("cookie") {
        split_pairs(
            cookie,
            ';',
            false,
            Location::Cookie,
            Location::Cookie,
            &mut out,
        );
    }
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if FILENAME_HEADERS.contains(&lower.as_str()) {
            out.push(Target {
                location: Location::Filename,
                name: lower,
                value: value.clone(),
            });
        } else if !UNSCANNED_HEADERS.contains(&lower.as_str()) {
            out.push(Target {
                location: Location::Header,
                name: lower,
                value: value.clone(),
            });
        }
    }
    let mut body_ok = true;
    if !request.body.is_empty() {
        let content_type = request.content_type();
        let text = String::from_utf8_lossy(&request.body);
        if content_type.contains("json") {
            match serde_json::from_slice::<serde_json::Value>(&request.body) {
                Ok(json) => walk_json(&json, "json", &mut out),
                Err(_) => {
                    body_ok = false;
                    out.push(Target {
                        location: Location::RawBody,
                        name: "body".into(),
                        value: text.to_string(),
                    });
                }
            }
        } else if content_type.contains("xml") {
            walk_xml(&text, &mut out);
            out.push(Target {
                location: Location::RawBody,
                name: "body".into(),
                value: text.to_string(),
            });
        } else if content_type.starts_with("multipart/") {
            let boundary = content_type
                .split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
                .map(|b| b.trim_matches('"').to_string());
            // The boundary keeps its case in the header; find it there.
            let boundary = request
                .header("content-type")
                .and_then(|ct| {
                    ct.split(';')
                        .find_map(|p| p.trim().strip_prefix("boundary="))
                        .map(|b| b.trim_matches('"').to_string())
                })
                .or(boundary);
            let parsed = boundary.is_some_and(|b| walk_multipart(&request.body, &b, &mut out));
            if !parsed {
                body_ok = false;
                out.push(Target {
                    location: Location::RawBody,
                    name: "body".into(),
                    value: text.to_string(),
                });
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            split_pairs(
                &text,
                '&',
                true,
                Location::ArgName,
                Location::ArgValue,
                &mut out,
            );
        } else {
            out.push(Target {
                location: Location::RawBody,
                name: "body".into(),
                value: text.to_string(),
            });
        }
    }
    (out, body_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(request: &WafRequest) -> Vec<String> {
        targets(request).0.into_iter().map(|t| t.value).collect()
    }

    #[test]
    fn query_form_json_xml_multipart_cookies() {
        let r = WafRequest::new(
            "GET",
            "/get?a=1%202&b",
            vec![("Cookie".into(), "s=x%3Cy; t=z".into())],
            vec![],
        );
        let v = values(&r);
        assert!(
            v.contains(&"1 2".to_string())
                && v.contains(&"b".to_string())
                && v.contains(&"x<y".to_string())
        );

        let json = WafRequest::new(
            "POST",
            "/p",
            vec![("Content-Type".into(), "application/json".into())],
            br#"{"k":{"deep":["$\u007Bjndi"]}}"#.to_vec(),
        );
        assert!(values(&json).contains(&"${jndi".to_string()));

        let xml = WafRequest::new(
            "POST",
            "/p",
            vec![("Content-Type".into(), "application/xml".into())],
            br#"<root><a probe="1 OR 1=1">t&lt;x</a></root>"#.to_vec(),
        );
        let v = values(&xml);
        assert!(v.contains(&"1 OR 1=1".to_string()) && v.contains(&"t<x".to_string()));

        let multipart = WafRequest::new(
            "POST",
            "/p",
            vec![("Content-Type".into(), "multipart/form-data; boundary=XyZ".into())],
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../a.php\"\r\n\r\n<?php\r\n--XyZ--\r\n".to_vec(),
        );
        let t = targets(&multipart).0;
        assert!(
            t.iter()
                .any(|t| t.location == Location::Filename && t.value == "../a.php")
        );
        assert!(t.iter().any(|t| t.value == "<?php"));
    }

    #[test]
    fn raw_requests_and_their_flaws() {
        let r = WafRequest::from_raw(b"GET /x?y=1 HTTP/1.1\r\nHost: a\r\nX-Test: b\r\n\r\nbody");
        assert_eq!(
            (r.method.as_str(), r.uri.as_str(), r.body.as_slice()),
            ("GET", "/x?y=1", &b"body"[..])
        );
        assert!(r.issues.is_empty());
        let bad = WafRequest::from_raw(b"GARBAGE\r\nNoColonHere\r\n\r\n");
        assert!(bad.issues.contains(&ProtocolIssue::MalformedRequestLine));
        assert!(bad.issues.contains(&ProtocolIssue::MalformedHeader));
    }
}
