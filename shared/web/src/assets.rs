//! The stylesheet and our two small scripts (passkeys, live countdowns), served by the edge at paths that name their
//! content, so browsers may keep them for a year (`immutable`): a changed file is a new path.

use std::sync::OnceLock;

pub const STYLESHEET: &str = include_str!("../assets/site.css");
/// A module script: passkey sign-in and registration; pages work without it.
pub const PASSKEY_SCRIPT: &str = include_str!("../assets/passkey.js");

/// A module script: the console's deadlines count down live; pages work without it.
pub const COUNTDOWN_SCRIPT: &str = include_str!("../assets/countdown.js");

/// A file the edge serves as it is.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static str,
}

/// The asset at `path`, if it is one of ours at its current fingerprint.
pub fn find(path: &str) -> Option<Asset> {
    if path == stylesheet_path() {
        Some(Asset {
            content_type: "text/css; charset=utf-8",
            body: STYLESHEET,
        })
    } else if path == passkey_script_path() {
        Some(Asset {
            content_type: "text/javascript; charset=utf-8",
            body: PASSKEY_SCRIPT,
        })
    } else if path == countdown_script_path() {
        Some(Asset {
            content_type: "text/javascript; charset=utf-8",
            body: COUNTDOWN_SCRIPT,
        })
    } else {
        None
    }
}

/// `/assets/passkey.<16 hex digits of the content's FNV-1a hash>.js`.
pub fn passkey_script_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        format!(
            "{}/passkey.{:016x}.js",
            crate::paths::ASSETS,
            fingerprint(PASSKEY_SCRIPT.as_bytes())
        )
    })
}

/// `/assets/countdown.<16 hex digits of the content's FNV-1a hash>.js`.
pub fn countdown_script_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        format!(
            "{}/countdown.{:016x}.js",
            crate::paths::ASSETS,
            fingerprint(COUNTDOWN_SCRIPT.as_bytes())
        )
    })
}

/// `Cache-Control` of a fingerprinted asset.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/assets/site.<16 hex digits of the content's FNV-1a hash>.css`.
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        format!(
            "{}/site.{:016x}.css",
            crate::paths::ASSETS,
            fingerprint(STYLESHEET.as_bytes())
        )
    })
}

/// FNV-1a, 64 bits: a cache key, not a security property (the content is ours).
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_changes_with_the_content() {
        assert!(stylesheet_path().starts_with("/assets/site."));
        assert!(stylesheet_path().ends_with(".css"));
        assert_ne!(fingerprint(b"a{}"), fingerprint(b"b{}"));
        // The stylesheet needs nothing the CSP refuses: no imports, no remote URLs.
        assert!(!STYLESHEET.contains("@import") && !STYLESHEET.contains("url("));
        assert!(passkey_script_path().starts_with("/assets/passkey."));
        assert_eq!(
            find(passkey_script_path()).map(|a| a.content_type),
            Some("text/javascript; charset=utf-8")
        );
        assert!(find("/assets/passkey.0000000000000000.js").is_none());
        // The script loads nothing and talks to no other origin.
        assert!(!PASSKEY_SCRIPT.contains("import ") && !PASSKEY_SCRIPT.contains("fetch("));
    }
}
