//! Hostile inputs for the WAF's cost: the requests that once made inspection quadratic or blew
//! up its memory (from the attack on the running platform), and families of adversarial bodies
//! built to any size. The bounds test (`edge/tests/waf_bounds.rs`) and the cost benchmark
//! (`edge/benches/waf_hostile.rs`) both read them, so what is measured is what is tested.

use super::WafRequest;

/// A body with its content type.
fn post(path: &str, content_type: &str, body: Vec<u8>) -> WafRequest {
    WafRequest::new(
        "POST",
        path,
        vec![
            ("Host".into(), "trust.example".into()),
            ("Content-Type".into(), content_type.into()),
        ],
        body,
    )
}

/// `{"<key>": [1, 1, …]}`: a long key over a long array (the JSON walk once copied the key's
/// path for every element: 78 KB → 482 MB).
pub fn long_key_over_array(key_bytes: usize, elements: usize) -> WafRequest {
    let mut body = Vec::with_capacity(key_bytes + 2 * elements + 8);
    body.extend_from_slice(b"{\"");
    body.resize(body.len() + key_bytes, b'k');
    body.extend_from_slice(b"\":[");
    for i in 0..elements {
        if i > 0 {
            body.push(b',');
        }
        body.push(b'1');
    }
    body.extend_from_slice(b"]}");
    post("/healthz", "application/json", body)
}

/// `unit` repeated until the body is `bytes` long, then `tail`.
fn repeated(unit: &str, bytes: usize, tail: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes + tail.len());
    while !unit.is_empty() && body.len() + unit.len() <= bytes.saturating_sub(tail.len()) {
        body.extend_from_slice(unit.as_bytes());
    }
    body.extend_from_slice(tail.as_bytes());
    body
}

/// The openers and escapes every normaliser looks for: each, repeated, is a family.
pub const ATOMS: &[&str] = &[
    "\\u{",
    "\\u",
    "\\x",
    "\\",
    "<",
    "<!--",
    "/*",
    "*/",
    "/**/",
    "&#",
    "&#x",
    "&lt",
    "&",
    "%",
    "%u",
    "%25",
    "%c0",
    "%e0%80",
    "%f0%80%80",
    "${",
    "$",
    "'",
    "\"",
    "`",
    ";",
    "|",
    "\r\n",
    "=",
    "&a=",
    "--",
    "#",
    "{{",
    "<%",
    "..",
    "../",
    "..\\",
    "%2e%2e%2f",
    "{\"a\":",
    "[",
    "<a b=\"",
    "'or'1'='1",
    "<script>",
    "\u{ff0e}",
    "\u{2215}",
    "%uff0e",
    "e",
];

/// Every atom, in an order without a period: a pseudo-random draw (fixed seed) until `bytes`.
/// Where one atom repeated shows what one normaliser or rule group costs, this opens them
/// all at once, and repeats itself only every few kilobytes.
pub fn shuffled_atoms(bytes: usize) -> String {
    let mut draws = draws(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        let draw = draws.next().unwrap_or(0);
        let index = usize::try_from(draw % ATOMS.len() as u64).unwrap_or(0);
        out.push_str(ATOMS.get(index).copied().unwrap_or("e"));
    }
    out
}

/// Pseudo-random numbers from `seed` (xorshift64: enough to leave no short period, and the
/// same inputs on every run).
fn draws(seed: u64) -> impl Iterator<Item = u64> {
    std::iter::successors(Some(seed), |state| {
        let mut state = *state;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(state)
    })
    .skip(1)
}

/// `atom` and filler drawn at random (fixed seed) until `bytes`: each atom opens a match that a
/// rule's bounded repetition then counts through (`{{[^}]{0,200}`, the form 934200 once had),
/// and the random spacing makes the set of open counts new at nearly every byte. A lazy DFA
/// builds a state per new set.
pub fn scattered(atom: &str, bytes: usize) -> String {
    scattered_from(atom, bytes, 0x2545_f491_4f6c_dd1d)
}

/// `scattered` from another seed: the same kind of text, other places.
pub fn scattered_from(atom: &str, bytes: usize, seed: u64) -> String {
    scattered_mix(&[atom], bytes, seed)
}

/// Several atoms scattered in text at once: one in four draws is an atom (any of them), the
/// rest filler.
pub fn scattered_mix(atoms: &[&str], bytes: usize, seed: u64) -> String {
    let mut draws = draws(seed);
    let longest = atoms.iter().map(|a| a.len()).max().unwrap_or(0);
    let mut out = String::with_capacity(bytes + longest);
    while !atoms.is_empty() && out.len() < bytes {
        let draw = draws.next().unwrap_or(0);
        out.push_str(match draw % 4 {
            0 => {
                let index = usize::try_from((draw >> 2) % atoms.len() as u64).unwrap_or(0);
                atoms.get(index).copied().unwrap_or(" ")
            }
            1 => " ",
            _ => "a",
        });
    }
    out
}

/// The content types a body may claim (each parses differently).
pub const CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
];

/// `atom` repeated to `bytes`, sent as `content_type`; for JSON inside one string value.
pub fn atom_body(atom: &str, content_type: &str, bytes: usize) -> WafRequest {
    let body = if content_type == "application/json" {
        let escaped = serde_json::to_string(atom).unwrap_or_default();
        let inner = escaped.trim_matches('"');
        let mut body = b"{\"v\":\"".to_vec();
        body.extend(repeated(inner, bytes.saturating_sub(8), ""));
        body.extend_from_slice(b"\"}");
        body
    } else if content_type.starts_with("multipart/") {
        let mut body = b"--x\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\n".to_vec();
        body.extend(repeated(atom, bytes.saturating_sub(60), ""));
        body.extend_from_slice(b"\r\n--x--\r\n");
        body
    } else {
        repeated(atom, bytes, "")
    };
    post("/api/incidents", content_type, body)
}

/// Nested arrays or objects, `depth` deep.
pub fn deep_json(depth: usize, objects: bool) -> WafRequest {
    let (open, close) = if objects {
        ("{\"a\":", "}")
    } else {
        ("[", "]")
    };
    let mut body = open.repeat(depth).into_bytes();
    body.extend_from_slice(b"1");
    body.extend(close.repeat(depth).into_bytes());
    post("/api/incidents", "application/json", body)
}

/// Many short distinct fields (`{"a0":"x0","a1":"x1",…}` or `a0=x0&a1=x1…`).
pub fn many_fields(fields: usize, json: bool) -> WafRequest {
    let mut body = String::new();
    if json {
        body.push('{');
        for i in 0..fields {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!("\"a{i}\":\"x{i}\""));
        }
        body.push('}');
        post("/api/incidents", "application/json", body.into_bytes())
    } else {
        for i in 0..fields {
            if i > 0 {
                body.push('&');
            }
            body.push_str(&format!("a{i}=x{i}"));
        }
        post(
            "/api/incidents",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
    }
}

/// A named hostile request of about `bytes` bytes.
pub struct Case {
    pub name: String,
    pub request: WafRequest,
}

/// Every family at one size: each atom in each content type, deep nesting, many fields, long
/// keys over long arrays.
pub fn families(bytes: usize) -> Vec<Case> {
    let mut cases = Vec::new();
    for atom in ATOMS {
        for ct in CONTENT_TYPES {
            cases.push(Case {
                name: format!("{atom:?} × n as {ct}"),
                request: atom_body(atom, ct, bytes),
            });
        }
    }
    let shuffled = shuffled_atoms(4096);
    for ct in CONTENT_TYPES {
        cases.push(Case {
            name: format!("every atom, shuffled, as {ct}"),
            request: atom_body(&shuffled, ct, bytes),
        });
    }
    for atom in ATOMS {
        cases.push(Case {
            name: format!("{atom:?} scattered in text"),
            // A little short of `bytes`, so that `atom_body` takes it whole.
            request: atom_body(
                &scattered(atom, bytes.saturating_sub(16)),
                "text/plain",
                bytes,
            ),
        });
    }
    cases.push(Case {
        name: "deep arrays".into(),
        request: deep_json(bytes / 2, false),
    });
    cases.push(Case {
        name: "deep objects".into(),
        request: deep_json(bytes / 6, true),
    });
    cases.push(Case {
        name: "many JSON fields".into(),
        request: many_fields(bytes / 12, true),
    });
    cases.push(Case {
        name: "many form fields".into(),
        request: many_fields(bytes / 8, false),
    });
    cases.push(Case {
        name: "long key over long array".into(),
        request: long_key_over_array(bytes / 2, bytes / 4),
    });
    cases
}

/// The exact requests of the attack report (issue 16, findings 1 and 2).
pub fn reported() -> Vec<Case> {
    let mut cases = vec![
        Case {
            name: "JSON: 30 000-byte key over 16 000 elements (78 KB)".into(),
            request: long_key_over_array(30_000, 16_000),
        },
        Case {
            name: "JSON: 1 MB key over 500 000 elements (2 MB)".into(),
            request: long_key_over_array(1_000_000, 500_000),
        },
    ];
    for kb in [64, 128, 256] {
        cases.push(Case {
            name: format!("text/plain: \\u{{ repeated, {kb} KB"),
            request: atom_body("\\u{", "text/plain", kb * 1024),
        });
    }
    cases.push(Case {
        name: "application/xml: < × 1 MiB".into(),
        request: post(
            "/healthz",
            "application/xml",
            repeated("<", 1024 * 1024, ""),
        ),
    });
    cases.push(Case {
        name: "text/plain: /**/ × 262 143 then <!-- (1 MiB)".into(),
        request: post(
            "/healthz",
            "text/plain",
            repeated("/**/", 262_143 * 4 + 4, "<!--"),
        ),
    });
    cases
}
