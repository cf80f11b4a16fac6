//! The portal's paths: one source for the pages, the edge's session gate and its brute-force
//! guard. Which function serves them is `functions/functions.json` (`/portal/session` belongs to
//! the `auth` function, which alone holds the token signing key; the rest of `/portal` to the
//! `portal` function).

/// Every customer portal page lies below this.
pub const PORTAL: &str = "/portal";
/// The portal's start page (the overview).
pub const PORTAL_HOME: &str = "/portal/";
/// Sign-in, second factor, activation, refresh and sign-out: public pages of the `auth` function.
pub const SESSION: &str = "/portal/session";
pub const SIGN_IN: &str = "/portal/session/sign-in";
pub const SECOND_FACTOR: &str = "/portal/session/second-factor";
/// The second factor with a passkey (the browser's signed answer).
pub const PASSKEY: &str = "/portal/session/passkey";
pub const ENROL: &str = "/portal/session/enrol";
pub const ACTIVATE: &str = "/portal/session/activate";
/// Asking for a password reset link, and choosing the new password from it.
pub const FORGOT: &str = "/portal/session/forgot";
pub const RESET: &str = "/portal/session/reset";
/// Where an expired access token is renewed from the refresh cookie (scoped to this path).
pub const REFRESH: &str = "/portal/session/refresh";
pub const SIGN_OUT: &str = "/portal/session/sign-out";
/// The staff console's pages (the `console` function), for the platform's own staff.
pub const CONSOLE: &str = "/console";
pub const CONSOLE_HOME: &str = "/console/";
/// Static assets (the stylesheet), served by the edge with immutable caching.
pub const ASSETS: &str = "/assets";

/// Whether `path` is `base` or lies below it.
pub fn is_within(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A portal or console page that needs a signed-in user (the edge checks the session cookie on
/// these).
pub fn needs_session(path: &str) -> bool {
    (is_within(path, PORTAL) && !is_within(path, SESSION)) || is_within(path, CONSOLE)
}

/// The start page of the area `path` lies in: where a form post's redirect leads back to.
pub fn home_of(path: &str) -> &'static str {
    if is_within(path, CONSOLE) {
        CONSOLE_HOME
    } else {
        PORTAL_HOME
    }
}

/// The sign-in form post, which the edge's brute-force guard counts like `/auth/sign-in`.
pub fn is_sign_in_post(method: &str, path: &str) -> bool {
    method.eq_ignore_ascii_case("POST") && (path == "/auth/sign-in" || path == SIGN_IN)
}

/// Where to go after signing in: a portal or console path of this site only (no scheme, no host, no `//`,
/// no backslash), anything else is the start page. Keeps `next=` from being an open redirect.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if [PORTAL, CONSOLE]
                .iter()
                .any(|base| is_within(n.split(['?', '#']).next().unwrap_or_default(), base))
                && !n.contains("//")
                && !n.contains('\\')
                && !is_within(n, SESSION)
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => PORTAL_HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_pages_are_public_and_the_rest_of_the_portal_is_not() {
        assert!(needs_session("/portal"));
        assert!(needs_session("/portal/"));
        assert!(needs_session("/portal/sla/2026-11"));
        assert!(!needs_session("/portal/session/sign-in"));
        assert!(!needs_session("/portal/session"));
        assert!(!needs_session("/portalx"));
        assert!(!needs_session("/api/me"));
        // `/portal/sessions` is an ordinary page, not the session namespace.
        assert!(needs_session("/portal/sessions"));
        assert!(needs_session("/console"));
        assert!(needs_session("/console/incidents"));
        assert!(!needs_session("/consoles"));
    }

    #[test]
    fn a_post_leads_back_to_its_areas_start() {
        assert_eq!(home_of("/console/reports/r1/triage"), CONSOLE_HOME);
        assert_eq!(home_of("/portal/team/invite"), PORTAL_HOME);
        assert_eq!(home_of("/consolex"), PORTAL_HOME);
    }

    #[test]
    fn next_only_leads_into_the_portal() {
        assert_eq!(
            safe_next(Some("/portal/sla/2026-11")),
            "/portal/sla/2026-11"
        );
        assert_eq!(
            safe_next(Some("/portal/sla?month=2026-11")),
            "/portal/sla?month=2026-11"
        );
        assert_eq!(safe_next(Some("/console/reports")), "/console/reports");
        for hostile in [
            "https://evil.example/portal/",
            "//evil.example/portal/",
            "/portal//evil.example",
            "/portal/\\evil",
            "/api/me",
            "/portalx",
            "/consolex",
            "//evil.example/console/",
            "/portal/session/sign-out",
            "/portal/\u{0}",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), PORTAL_HOME, "{hostile:?}");
        }
        assert_eq!(safe_next(None), PORTAL_HOME);
    }
}
