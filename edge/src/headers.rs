//! Security headers on every response leaving the edge.

use http::{HeaderMap, HeaderName, HeaderValue, header};

/// HSTS for a year, subdomains included, eligible for browser preload lists.
pub const HSTS: &str = "max-age=31536000; includeSubDomains; preload";

/// No inline script, no third-party origins, no framing. The report form is plain HTML with a
/// same-origin stylesheet.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
                                      microphone=(), payment=(), usb=()";

/// For responses that carry a token, a secret or personal data: no cache, shared or private,
/// keeps them. A value the origin set itself is kept.
pub fn no_store(headers: &mut HeaderMap) {
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

pub fn apply_security_headers(headers: &mut HeaderMap) {
    let pairs: [(HeaderName, &'static str); 7] = [
        (header::STRICT_TRANSPORT_SECURITY, HSTS),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_is_set() {
        let mut headers = HeaderMap::new();
        apply_security_headers(&mut headers);
        // Written out, not the constant: a year, subdomains, preload (what the trust page says).
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains; preload"
        );
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(headers.contains_key(header::REFERRER_POLICY));
        assert!(headers.contains_key("permissions-policy"));
    }
}
