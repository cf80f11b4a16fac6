//! The stylesheet, served by the edge at a path that names its content, so browsers may keep it
//! for a year (`immutable`): a changed stylesheet is a new path.

use std::sync::OnceLock;

pub const STYLESHEET: &str = include_str!("../assets/site.css");

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
    }
}
