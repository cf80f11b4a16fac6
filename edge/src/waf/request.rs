//! The request as the WAF sees it, and the places (targets) where attacks hide: path, query and
//! body arguments (form, JSON, XML, multipart), cookies, file names and headers.

use super::normalize;
use serde::de::DeserializeSeed;

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
    /// An argument value that is a secret (a password): only the rules made for secrets read it.
    Secret,
}

/// One place to inspect, borrowed for the time of the visit: the walk hands each target to the
/// caller and keeps none, so memory stays bounded by the request and the deepest JSON path.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub location: Location,
    /// The argument's name (for exclusions), e.g. `description` or `json.user.name`.
    pub name: &'a str,
    /// The value, decoded from its transport encoding (percent, JSON) but not further.
    pub value: &'a str,
    /// From the URI's query string, where a value never has lines of its own (a form or JSON
    /// body's text may).
    pub in_query: bool,
}

/// Hard caps on what one request may make the WAF read. Past a cap the walk stops (it never
/// reads on) and says which cap was hit; the WAF scores that as a limit violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Arguments (names and values: query, form, JSON keys and strings, XML nodes, parts).
    pub max_args: usize,
    /// Nesting of JSON objects and arrays.
    pub max_depth: usize,
    /// Bytes of one argument name or JSON path (`json.a.b.c`).
    pub max_name_bytes: usize,
    /// The rule automata's work on one request, in bytes searched (a value searched by three
    /// pattern groups costs three times its length; a walk that ends early, as anchored ones
    /// do, is paid for the whole value and gives back what it did not search): at most this
    /// many per byte of the request, plus `scan_floor`. Ordinary requests need a fraction of
    /// it (most groups are skipped by their gates); a request built to make every group search
    /// every byte is stopped here and scored, so the worst input costs a bounded time per byte.
    pub scan_per_byte: usize,
    /// The work every request may do whatever its size (a short request's values are searched
    /// by every group its bytes open without coming near it).
    pub scan_floor: usize,
    /// Bytes of lazy-DFA states one request may make the automata build: at most this many per
    /// byte of the request, plus `states_floor`. A byte of new states costs about what
    /// searching five to ten bytes does. Ordinary traffic builds its few states once and then
    /// finds them built; a request made to need a new state at every byte is stopped here and
    /// scored.
    pub states_per_byte: usize,
    /// What any request may build: the first requests after a start build the states ordinary
    /// traffic needs (at most ~230 KB for one request of the corpora, on fresh automata).
    pub states_floor: usize,
    /// Fresh automata have no states: what a request builds past its own state budget is
    /// taken from this allowance, one per WAF (per Worker isolate), while it lasts; every
    /// request refills 1/256 of it. A 50 KB body of a thousand odd ordinary texts needs
    /// ~800 KB of states on fresh automata and none after; the whole ordinary corpus in turn
    /// ~1 MB. Spent at ~4 ns per byte, the whole allowance is ~20 ms of CPU, whoever spends it.
    pub warm_up_states: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            max_args: 1024,
            max_depth: 32,
            max_name_bytes: 256,
            scan_per_byte: 8,
            scan_floor: 64 * 1024,
            states_per_byte: 1,
            states_floor: 512 * 1024,
            warm_up_states: 4 * 1024 * 1024,
        }
    }
}

/// Which cap stopped a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    Args,
    Depth,
    NameLength,
    /// The rule automata's work (`Caps::scan_per_byte`).
    ScanWork,
}

/// What the walk over a request found besides its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Walked {
    /// The body could be read as its content type says.
    pub body_parsed: bool,
    pub cap_hit: Option<CapHit>,
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

/// The walk's state: the caps, the count so far, and the caller's visitor.
struct Walker<'v> {
    caps: Caps,
    args: usize,
    cap_hit: Option<CapHit>,
    /// Returns false when the caller's scan budget is spent: the walk stops there.
    visit: &'v mut dyn FnMut(Target<'_>) -> bool,
    /// The query string is being walked.
    in_query: bool,
}

impl Walker<'_> {
    /// Hands one argument to the visitor; false once a cap stops the walk.
    fn arg(&mut self, location: Location, name: &str, value: &str) -> bool {
        if self.cap_hit.is_some() {
            return false;
        }
        if name.len() > self.caps.max_name_bytes {
            self.cap_hit = Some(CapHit::NameLength);
            return false;
        }
        self.args += 1;
        if self.args > self.caps.max_args {
            self.cap_hit = Some(CapHit::Args);
            return false;
        }
        self.visit(location, name, value)
    }

    /// Not an argument (path, header): no cap on the count, the request's limits bound them.
    fn other(&mut self, location: Location, name: &str, value: &str) {
        if self.cap_hit != Some(CapHit::ScanWork) {
            self.visit(location, name, value);
        }
    }

    /// Hands a target to the visitor; false (and the walk stops) when the visitor's scan budget
    /// is spent.
    fn visit(&mut self, location: Location, name: &str, value: &str) -> bool {
        let go_on = (self.visit)(Target {
            location,
            name,
            value,
            in_query: self.in_query,
        });
        if !go_on {
            self.cap_hit = Some(CapHit::ScanWork);
        }
        go_on
    }

    fn split_pairs(
        &mut self,
        input: &str,
        separator: char,
        plus_is_space: bool,
        name_loc: Location,
        value_loc: Location,
    ) {
        for pair in input.split(separator) {
            let pair = pair.trim_start();
            if pair.is_empty() {
                continue;
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name.len() > self.caps.max_name_bytes {
                self.cap_hit = Some(CapHit::NameLength);
                return;
            }
            let name = normalize::url_decode_repeated(name, plus_is_space);
            if !self.arg(name_loc, &name, &name) {
                return;
            }
            if !value.is_empty() {
                let value = normalize::url_decode_repeated(value, plus_is_space);
                if !self.arg(value_loc, &name, &value) {
                    return;
                }
            }
        }
    }
}

/// JSON, walked as it is parsed (serde's visitor, no tree): one path buffer for the whole
/// walk, numbers and literals skipped (they cannot carry an attack), caps checked on the way.
mod json {
    use std::fmt;

    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

    use super::{CapHit, Location, Walker};

    pub(super) struct Node<'w, 'v> {
        pub walker: &'w mut Walker<'v>,
        pub path: &'w mut String,
        pub depth: usize,
    }

    fn stop<E: de::Error>(walker: &Walker<'_>) -> E {
        E::custom(match walker.cap_hit {
            Some(CapHit::Depth) => "nesting cap",
            Some(CapHit::NameLength) => "name cap",
            Some(CapHit::ScanWork) => "scan budget",
            _ => "argument cap",
        })
    }

    impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node<'_, '_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
            if self.walker.arg(Location::ArgValue, self.path, value) {
                Ok(())
            } else {
                Err(stop(self.walker))
            }
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            if self.depth >= self.walker.caps.max_depth {
                self.walker.cap_hit = Some(CapHit::Depth);
                return Err(stop(self.walker));
            }
            while seq
                .next_element_seed(Node {
                    walker: &mut *self.walker,
                    path: &mut *self.path,
                    depth: self.depth + 1,
                })?
                .is_some()
            {}
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            if self.depth >= self.walker.caps.max_depth {
                self.walker.cap_hit = Some(CapHit::Depth);
                return Err(stop(self.walker));
            }
            let parent = self.path.len();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                self.path.truncate(parent);
                self.path.push('.');
                self.path.push_str(&key);
                if !self.walker.arg(Location::ArgName, self.path, &key) {
                    return Err(stop(self.walker));
                }
                map.next_value_seed(Node {
                    walker: &mut *self.walker,
                    path: &mut *self.path,
                    depth: self.depth + 1,
                })?;
            }
            self.path.truncate(parent);
            Ok(())
        }
    }
}

impl Walker<'_> {
    /// False when the body is not JSON; a cap that stopped the walk is in `cap_hit`.
    fn json(&mut self, body: &[u8]) -> bool {
        let mut path = String::from("json");
        let mut de = serde_json::Deserializer::from_slice(body);
        let walked = DeserializeSeed::deserialize(
            json::Node {
                walker: self,
                path: &mut path,
                depth: 0,
            },
            &mut de,
        );
        walked.is_ok() && de.end().is_ok()
    }

    /// Text nodes and attribute values of an XML document (a tolerant scan, not a parser: broken
    /// XML is exactly what attackers send), each as an argument; then the markup — tags with
    /// their attributes, declarations, comments, CDATA openers, each text node cut to one space
    /// — as one raw target, for what only markup carries (`<!ENTITY … SYSTEM`, `<script>`,
    /// `<!--#exec`). Text is searched once, not again with the whole document; a quoted attribute
    /// value twice, alone and in its tag.
    fn xml(&mut self, body: &str) {
        let mut markup = String::with_capacity(body.len().min(4096));
        let mut rest = body;
        let mut go_on = true;
        while go_on && let Some(open) = rest.find('<') {
            let text = rest[..open].trim();
            if !text.is_empty() {
                markup.push(' ');
                go_on = self.xml_value(text);
            }
            // No `>` after this `<` means none after any later `<` either: the rest is text.
            let Some(close) = rest[open..].find('>') else {
                markup.push('<');
                rest = &rest[open + 1..];
                break;
            };
            let tag = &rest[open + 1..open + close];
            markup.push('<');
            markup.push_str(tag);
            markup.push('>');
            go_on = go_on && self.xml_attributes(tag);
            rest = &rest[open + close + 1..];
        }
        let tail = rest.trim();
        if go_on && !tail.is_empty() {
            self.xml_value(tail);
        }
        let markup = markup.trim();
        if !markup.is_empty() {
            self.other(Location::RawBody, "body", markup);
        }
    }

    /// The quoted attribute values of a tag, each as an argument; false when a cap stopped the
    /// walk.
    fn xml_attributes(&mut self, tag: &str) -> bool {
        let mut attrs = tag;
        while let Some(eq) = attrs.find('=') {
            let after = attrs[eq + 1..].trim_start();
            match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    if !self.xml_value(&inner[..end]) {
                        return false;
                    }
                    attrs = &inner[(end + 1).min(inner.len())..];
                }
                _ => attrs = &attrs[eq + 1..],
            }
        }
        true
    }

    /// A text node or attribute value, its entities decoded, as an argument.
    fn xml_value(&mut self, value: &str) -> bool {
        self.arg(
            Location::ArgValue,
            "xml",
            &normalize::html_entity_decode(value),
        )
    }

    fn multipart(&mut self, text: &str, boundary: &str) -> bool {
        let delimiter = format!("--{boundary}");
        if boundary.is_empty() || !text.contains(&delimiter) {
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
            let mut name = "";
            for line in head.lines() {
                if !line
                    .get(..19)
                    .is_some_and(|p| p.eq_ignore_ascii_case("content-disposition"))
                {
                    continue;
                }
                for field in line.split(';').skip(1) {
                    if let Some((key, value)) = field.trim().split_once('=') {
                        let value = value.trim().trim_matches('"');
                        let key = key.trim();
                        if key.eq_ignore_ascii_case("name") {
                            name = value;
                        } else if (key.eq_ignore_ascii_case("filename")
                            || key.eq_ignore_ascii_case("filename*"))
                            && !self.arg(Location::Filename, name, value)
                        {
                            return true;
                        }
                    }
                }
            }
            if !self.arg(Location::ArgName, name, name) {
                return true;
            }
            if !content.is_empty() && !self.arg(Location::ArgValue, name, content) {
                return true;
            }
        }
        true
    }
}

/// What of a request to walk: the WAF leaves out what is over its size limits (never reading
/// past them) and bodies a route passes on uninspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub uri: bool,
    pub headers: bool,
    pub body: bool,
}

impl Parts {
    /// The bytes of `request` these parts cover.
    pub fn bytes(&self, request: &WafRequest) -> usize {
        let uri = if self.uri { request.uri.len() } else { 0 };
        let headers = if self.headers {
            request.headers.iter().map(|(n, v)| n.len() + v.len()).sum()
        } else {
            0
        };
        let body = if self.body { request.body.len() } else { 0 };
        uri + headers + body
    }
}

/// Hands every target of a request to `visit`, within `caps`.
pub fn walk(
    request: &WafRequest,
    caps: Caps,
    parts: Parts,
    visit: &mut dyn FnMut(Target<'_>) -> bool,
) -> Walked {
    let mut walker = Walker {
        caps,
        args: 0,
        cap_hit: None,
        visit,
        in_query: false,
    };
    let mut body_parsed = true;
    if parts.uri {
        let path = normalize::url_decode_repeated(request.path(), false);
        walker.other(Location::Path, "path", &path);
        if let Some(query) = request.query() {
            walker.in_query = true;
            walker.split_pairs(query, '&', true, Location::ArgName, Location::ArgValue);
            walker.in_query = false;
        }
    }
    if parts.headers {
        for cookie in request.headers_named("cookie") {
            walker.split_pairs(cookie, ';', false, Location::Cookie, Location::Cookie);
        }
        for (name, value) in &request.headers {
            let lower = name.to_ascii_lowercase();
            if FILENAME_HEADERS.contains(&lower.as_str()) {
                walker.other(Location::Filename, &lower, value);
            } else if !UNSCANNED_HEADERS.contains(&lower.as_str()) {
                walker.other(Location::Header, &lower, value);
            }
        }
    }
    if parts.body && !request.body.is_empty() && walker.cap_hit.is_none() {
        let content_type = request.content_type();
        // Validation alone is much faster than the lossy decoder, and most bodies are UTF-8.
        let text = match std::str::from_utf8(&request.body) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&request.body),
        };
        if content_type.contains("json") {
            let parsed = walker.json(&request.body);
            if !parsed && walker.cap_hit.is_none() {
                body_parsed = false;
                walker.other(Location::RawBody, "body", &text);
            }
        } else if content_type.contains("xml") {
            walker.xml(&text);
        } else if content_type.starts_with("multipart/") {
            // The boundary keeps its case in the header; find it there.
            let boundary = request.header("content-type").and_then(|ct| {
                ct.split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
                    .map(|b| b.trim_matches('"'))
            });
            let parsed = boundary.is_some_and(|b| walker.multipart(&text, b));
            if !parsed {
                body_parsed = false;
                walker.other(Location::RawBody, "body", &text);
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            walker.split_pairs(&text, '&', true, Location::ArgName, Location::ArgValue);
        } else {
            walker.other(Location::RawBody, "body", &text);
        }
    }
    Walked {
        body_parsed,
        cap_hit: walker.cap_hit,
    }
}

/// Every target of a request as owned values (tests and tools; the WAF itself visits).
pub fn targets(request: &WafRequest) -> (Vec<(Location, String, String)>, Walked) {
    let mut out = Vec::new();
    let walked = walk(
        request,
        Caps::default(),
        Parts {
            uri: true,
            headers: true,
            body: true,
        },
        &mut |t| {
            out.push((t.location, t.name.to_string(), t.value.to_string()));
            true
        },
    );
    (out, walked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(request: &WafRequest) -> Vec<String> {
        targets(request).0.into_iter().map(|t| t.2).collect()
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
        // The markup once more, each text node cut to a space: the text is not searched twice.
        let raw: Vec<String> = targets(&xml)
            .0
            .into_iter()
            .filter(|t| t.0 == Location::RawBody)
            .map(|t| t.2)
            .collect();
        assert_eq!(raw, [r#"<root><a probe="1 OR 1=1"> </a></root>"#]);

        let multipart = WafRequest::new(
            "POST",
            "/p",
            vec![("Content-Type".into(), "multipart/form-data; boundary=XyZ".into())],
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../a.php\"\r\n\r\n<?php\r\n--XyZ--\r\n".to_vec(),
        );
        let t = targets(&multipart).0;
        assert!(
            t.iter()
                .any(|t| t.0 == Location::Filename && t.2 == "../a.php")
        );
        assert!(t.iter().any(|t| t.2 == "<?php"));
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
