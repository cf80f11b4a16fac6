//! What every page request carries: its language (negotiated once, remembered when switched) and
//! the form token (made on the first page a browser sees, new after each sign-in and sign-out).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use web::Lang;
use web::cookies;

tokio::task_local! {
    static PAGE: (Lang, String);
}

/// The language of the page being served (German outside a page request).
pub fn current_lang() -> Lang {
    PAGE.try_with(|(l, _)| *l).unwrap_or(Lang::De)
}

/// The path of the page being served (for the language switch).
pub fn current_path() -> String {
    PAGE.try_with(|(_, p)| p.clone())
        .unwrap_or_else(|_| web::paths::PORTAL_HOME.to_string())
}

/// The German or the English text, in the page's language.
pub fn t(de: &'static str, en: &'static str) -> &'static str {
    current_lang().pick(de, en)
}

/// Lines the domain gives in English and German, line for line (an assessment's reasons, a
/// claim's verification): the page's language, or the English ones where no German were kept
/// (records made before they were).
pub fn in_page_language<'a>(en: &'a [String], de: &'a [String]) -> &'a [String] {
    if current_lang() == web::Lang::De && de.len() == en.len() && !de.is_empty() {
        de
    } else {
        en
    }
}

/// The browser's form token, as its forms must repeat it.
#[derive(Debug, Clone)]
pub struct FormToken(pub String);

/// A new form token: 32 random bytes, base64url.
pub fn new_form_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kernel::random::bytes::<32>())
}

/// The `Cookie` header values of a request, as text.
pub fn cookie_values(headers: &axum::http::HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// The page middleware: sets the language for the request, makes a form token when the browser
/// has none, and remembers a `?lang=` switch.
pub async fn page_context(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let switched = Lang::from_query(request.uri().query());
    let remembered = cookies::read(cookie_values(headers), web::lang::LANG_COOKIE);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(request.uri().query(), remembered.as_deref(), accept);
    let existing = cookies::read(cookie_values(headers), cookies::FORM_COOKIE).filter(|t| {
        t.len() == 43
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (new_form_token(), true),
    };
    request.extensions_mut().insert(FormToken(token.clone()));
    let path = request.uri().path().to_string();
    let mut response = PAGE.scope((lang, path), next.run(request)).await;
    let set = response.headers_mut();
    // A handler that set a new form token itself (sign-in, sign-out) keeps its own.
    let handler_set_form_token = set
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(cookies::FORM_COOKIE.as_bytes()));
    if fresh
        && !handler_set_form_token
        && let Ok(value) = HeaderValue::from_str(&cookies::form_token(&token))
    {
        set.append(header::SET_COOKIE, value);
    }
    if let Some(lang) = switched
        && let Ok(value) = HeaderValue::from_str(&cookies::lang(lang))
    {
        set.append(header::SET_COOKIE, value);
    }
    response
}

/// The middleware of a public, cacheable page (the trust page): the language from `?lang=`, the
/// remembered choice or the browser's, and nothing else — no form token, no cookie set, so a
/// shared cache may keep the answer (it varies by `Accept-Language` and `Cookie`).
pub async fn public_page_context(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let remembered = cookies::read(cookie_values(headers), web::lang::LANG_COOKIE);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(request.uri().query(), remembered.as_deref(), accept);
    let path = request.uri().path().to_string();
    PAGE.scope((lang, path), next.run(request)).await
}
