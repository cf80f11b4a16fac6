//! The portal's cookies. The access token rides in a `__Host-` cookie (this host only, every
//! path, never readable by script, never sent on a cross-site request); the refresh token in a
//! `__Secure-` one that only the refresh and sign-out paths see (a `__Host-` cookie must have
//! `Path=/`); the form token, which every form repeats, in a third.

use cookie::{Cookie, SameSite};

use crate::paths;

/// The access token (a signed JWT; the edge and the function both verify it).
pub const SESSION_COOKIE: &str = "__Host-regrooter-session";
/// The refresh token, rotated on each use.
pub const REFRESH_COOKIE: &str = "__Secure-regrooter-refresh";
/// The form token: every form carries it as the field [`FORM_TOKEN_FIELD`], and a post whose
/// field differs from the cookie is refused. New at each sign-in and sign-out.
pub const FORM_COOKIE: &str = "__Host-regrooter-form";
pub const FORM_TOKEN_FIELD: &str = "form_token";
/// The session's name (a digest of its refresh family; unlocks nothing), so the account page
/// can mark "this browser" among the sessions.
pub const SESSION_ID_COOKIE: &str = "__Host-regrooter-sid";

/// A year, for the language switch.
const LANG_MAX_AGE_SECONDS: i64 = 365 * 24 * 3600;

/// The value of cookie `name` among `Cookie` header values (the first one sent wins, as
/// browsers send the most specific first). Bounded by the header limits in front of it.
pub fn read<'a>(header_values: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    header_values.into_iter().find_map(|header| {
        Cookie::split_parse(header)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_string())
    })
}

fn base<'c>(name: &'c str, value: String, path: &'c str) -> cookie::CookieBuilder<'c> {
    Cookie::build((name, value))
        .path(path)
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
}

/// `Set-Cookie` for the access token, living as long as the token.
pub fn session(access_token: &str, max_age_seconds: i64) -> String {
    base(SESSION_COOKIE, access_token.to_string(), "/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

/// `Set-Cookie` for the session's name, living as long as the refresh token.
pub fn session_id(id: &str, max_age_seconds: i64) -> String {
    base(SESSION_ID_COOKIE, id.to_string(), "/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

/// `Set-Cookie` for the refresh token, seen only below [`paths::SESSION`].
pub fn refresh(refresh_token: &str, max_age_seconds: i64) -> String {
    base(REFRESH_COOKIE, refresh_token.to_string(), paths::SESSION)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

/// `Set-Cookie` for a form token (for the browser session only).
pub fn form_token(token: &str) -> String {
    base(FORM_COOKIE, token.to_string(), "/")
        .build()
        .to_string()
}

/// `Set-Cookie` that remembers the language switch.
pub fn lang(lang: crate::Lang) -> String {
    Cookie::build((crate::lang::LANG_COOKIE, lang.code()))
        .path("/")
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(LANG_MAX_AGE_SECONDS))
        .build()
        .to_string()
}

/// `Set-Cookie` values that remove the session: access and refresh token and the session's
/// name (sign-out).
pub fn cleared_session() -> [String; 3] {
    [
        base(SESSION_ID_COOKIE, String::new(), "/")
            .max_age(cookie::time::Duration::ZERO)
            .build()
            .to_string(),
        base(SESSION_COOKIE, String::new(), "/")
            .max_age(cookie::time::Duration::ZERO)
            .build()
            .to_string(),
        base(REFRESH_COOKIE, String::new(), paths::SESSION)
            .max_age(cookie::time::Duration::ZERO)
            .build()
            .to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookies_carry_every_attribute() {
        let access = session("a.b.c", 600);
        for attribute in [
            "__Host-regrooter-session=a.b.c",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=600",
        ] {
            assert!(access.contains(attribute), "{access} lacks {attribute}");
        }
        assert!(
            !access.contains("Domain"),
            "a __Host- cookie names no domain"
        );
        let refresh = refresh("r", 60);
        assert!(refresh.contains("Path=/portal/session"), "{refresh}");
        assert!(refresh.starts_with("__Secure-") && refresh.contains("HttpOnly"));
        let form = form_token("t");
        assert!(
            form.contains("SameSite=Strict")
                && form.contains("HttpOnly")
                && !form.contains("Max-Age")
        );
        for cleared in cleared_session() {
            assert!(cleared.contains("Max-Age=0"), "{cleared}");
        }
    }

    #[test]
    fn a_cookie_is_found_among_others_and_garbage_is_ignored() {
        let headers = [
            "a=1; __Host-regrooter-session=tok; b",
            "__Host-regrooter-session=later",
        ];
        assert_eq!(read(headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(read(["=; ;;"], SESSION_COOKIE), None);
        assert_eq!(read([], SESSION_COOKIE), None);
    }
}
