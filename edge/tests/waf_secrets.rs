//! Passwords are read only by the rules made for secrets (`rules::SECRETS`): LDAP filter and
//! NoSQL injections sent as a password are blocked, while passwords as generators and people make
//! them — random over every printable character, a password manager's default alphabet, and
//! passphrases of real words with separators — are never blocked (a user whose password tripped
//! a rule could not sign in), and no other rule reads a password.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edge::waf::{Action, Waf, WafConfig, WafRequest};

/// A sign-in as the portal's API sends it.
fn sign_in(password: &str) -> WafRequest {
    let body = serde_json::json!({ "email": "jana@acme.example", "password": password });
    WafRequest::new(
        "POST",
        "/auth/sign-in",
        vec![
            ("Host".into(), "trust.regrooter.example".into()),
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
        ],
        body.to_string().into_bytes(),
    )
}

/// xorshift64*: deterministic, so every run tries the same passwords.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `count` passwords of `min..=max` characters drawn from `alphabet`.
fn random_passwords(
    draw: &mut Draw,
    alphabet: &[u8],
    min: usize,
    max: usize,
    count: usize,
) -> Vec<String> {
    (0..count)
        .map(|_| {
            let len = min + draw.below(max - min + 1);
            (0..len).map(|_| char::from(*draw.pick(alphabet))).collect()
        })
        .collect()
}

/// Words as people write them, from this repository's own prose (English and German).
fn vocabulary() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut words = std::collections::BTreeSet::new();
    for file in [
        "README.md",
        "ARCHITECTURE.md",
        "edge/corpora/attacks/README.md",
    ] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        for word in text.split(|c: char| !c.is_alphabetic()) {
            if word.chars().count() >= 3 {
                words.insert(word.to_lowercase());
            }
        }
    }
    words.into_iter().collect()
}

/// Passphrases: four to seven words, a separator, sometimes capitalised, sometimes a number.
fn passphrases(draw: &mut Draw, words: &[String], count: usize) -> Vec<String> {
    const SEPARATORS: &[&str] = &["-", ".", " ", "_", ",", "+", "", "/", "="];
    (0..count)
        .map(|_| {
            let separator = *draw.pick(SEPARATORS);
            let n = 4 + draw.below(4);
            let mut parts: Vec<String> = (0..n)
                .map(|_| {
                    let word = draw.pick(words).clone();
                    if draw.below(3) == 0 {
                        let mut chars = word.chars();
                        chars.next().map_or(word.clone(), |first| {
                            first.to_uppercase().chain(chars).collect()
                        })
                    } else {
                        word
                    }
                })
                .collect();
            if draw.below(2) == 0 {
                parts.push(draw.below(10_000).to_string());
            }
            parts.join(separator)
        })
        .collect()
}

#[test]
fn generated_passwords_and_passphrases_are_never_blocked() {
    let waf = Waf::new(WafConfig::default());
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let printable: Vec<u8> = (b'!'..=b'~').collect();
    let manager: Vec<u8> =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*".to_vec();
    let words = vocabulary();
    assert!(words.len() > 1_000, "{} words", words.len());
    let mut passwords = random_passwords(&mut draw, &printable, 8, 64, 12_000);
    passwords.extend(random_passwords(&mut draw, &manager, 12, 32, 4_000));
    passwords.extend(passphrases(&mut draw, &words, 12_000));
    let blocked: Vec<&String> = passwords
        .iter()
        .filter(|p| waf.inspect(&sign_in(p)).action != Action::Allow)
        .collect();
    assert!(
        blocked.is_empty(),
        "{} of {} passwords blocked, e.g. {:?}",
        blocked.len(),
        passwords.len(),
        &blocked[..blocked.len().min(5)]
    );
}

#[test]
fn ldap_and_nosql_injections_sent_as_a_password_are_blocked() {
    let waf = Waf::new(WafConfig::default());
    for (payload, rule) in [
        ("*)(|(userPassword=*))", 936140),
        ("admin)(!(&(1=0", 936140),
        ("(&(objectClass=*)(uid=*))(&(1=1", 936140),
        ("admin*))%00", 936140),
        ("*()|&'", 936140),
        ("x' || '1'=='1", 934150),
        ("true, $where: '1 == 1'", 934150),
        ("[$ne]=1", 934150),
        ("' && this.password.match(/.*/)//", 934150),
        ("';sleep(5000);'", 934150),
    ] {
        let verdict = waf.inspect(&sign_in(payload));
        assert_eq!(verdict.action, Action::Block, "{payload}: {verdict:?}");
        assert!(verdict.rules.contains(&rule), "{payload}: {verdict:?}");
    }
}

#[test]
fn no_other_rule_reads_a_password() {
    let waf = Waf::new(WafConfig::default());
    // Blocked anywhere else (the e-mail field is an ordinary argument) …
    for payload in [
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "; cat /etc/shadow",
    ] {
        let elsewhere = serde_json::json!({ "email": payload, "password": "x" }).to_string();
        let request = WafRequest::new(
            "POST",
            "/auth/sign-in",
            vec![
                ("Host".into(), "trust.regrooter.example".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            elsewhere.into_bytes(),
        );
        assert_eq!(
            waf.inspect(&request).action,
            Action::Block,
            "{payload} as the e-mail"
        );
        // … and allowed as a password: a password may hold any of these characters.
        assert_eq!(
            waf.inspect(&sign_in(payload)).action,
            Action::Allow,
            "{payload} as the password"
        );
    }
}
