//! Every form post must come from our own pages: the browser's `Sec-Fetch-Site` says
//! `same-origin`, or (older browsers) its `Origin` is ours; and the form token matches its
//! cookie. SameSite=Strict cookies already keep other sites' posts unauthenticated; these two
//! checks refuse them outright, sessions or not (sign-in included, against login CSRF).

use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossSite {
    /// `Sec-Fetch-Site` names another site, or `Origin` is not ours.
    OtherOrigin,
    /// Neither header: not a browser post from our pages.
    NoOrigin,
    /// The form token is missing or is not the cookie's.
    FormToken,
}

impl std::fmt::Display for CrossSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CrossSite::OtherOrigin => "the form was sent from another site",
            CrossSite::NoOrigin => "the form post names no origin",
            CrossSite::FormToken => "the form token does not match",
        })
    }
}

/// The origin (`scheme://host[:port]`) of a public URL such as `https://trust.regrooter.de/x`.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Checks a form post's headers and form token against our origin.
pub fn check_form_post(
    our_origin: &str,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    form_cookie: Option<&str>,
    form_field: Option<&str>,
) -> Result<(), CrossSite> {
    match (sec_fetch_site, origin) {
        (Some(site), _) if site.eq_ignore_ascii_case("same-origin") => {}
        (Some(_), _) => return Err(CrossSite::OtherOrigin),
        (None, Some(o)) if o.eq_ignore_ascii_case(our_origin) => {}
        (None, Some(_)) => return Err(CrossSite::OtherOrigin),
        (None, None) => return Err(CrossSite::NoOrigin),
    }
    match (form_cookie, form_field) {
        (Some(cookie), Some(field))
            if !cookie.is_empty() && bool::from(cookie.as_bytes().ct_eq(field.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(CrossSite::FormToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "https://trust.regrooter.de";

    #[test]
    fn only_our_own_pages_may_post() {
        let ok = |site, origin| check_form_post(OURS, site, origin, Some("t"), Some("t"));
        assert_eq!(ok(Some("same-origin"), None), Ok(()));
        assert_eq!(ok(None, Some(OURS)), Ok(()));
        assert_eq!(
            ok(Some("same-site"), Some(OURS)),
            Err(CrossSite::OtherOrigin)
        );
        assert_eq!(ok(Some("cross-site"), None), Err(CrossSite::OtherOrigin));
        assert_eq!(
            ok(None, Some("https://evil.example")),
            Err(CrossSite::OtherOrigin)
        );
        assert_eq!(ok(None, Some("null")), Err(CrossSite::OtherOrigin));
        assert_eq!(ok(None, None), Err(CrossSite::NoOrigin));
    }

    #[test]
    fn the_form_token_must_be_the_cookies() {
        let post = |cookie, field| check_form_post(OURS, Some("same-origin"), None, cookie, field);
        assert_eq!(post(Some("abc"), Some("abd")), Err(CrossSite::FormToken));
        assert_eq!(post(None, Some("abc")), Err(CrossSite::FormToken));
        assert_eq!(post(Some("abc"), None), Err(CrossSite::FormToken));
        assert_eq!(post(Some(""), Some("")), Err(CrossSite::FormToken));
        assert_eq!(post(Some("abc"), Some("abc")), Ok(()));
    }

    #[test]
    fn the_origin_of_a_url() {
        assert_eq!(origin_of("https://trust.regrooter.de/portal/"), OURS);
        assert_eq!(origin_of("http://localhost:8080"), "http://localhost:8080");
    }
}
