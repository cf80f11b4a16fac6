//! The page shell: the document, the header with its navigation, the language switch and
//! sign-out, and the response with its status and cookies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use web::Lang;

use super::context::{current_lang, current_path, t};

/// A text in both languages.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub de: &'static str,
    pub en: &'static str,
}

impl Text {
    pub const fn new(de: &'static str, en: &'static str) -> Text {
        Text { de, en }
    }

    pub fn get(self) -> &'static str {
        current_lang().pick(self.de, self.en)
    }
}

/// The navigation of a signed-in page: the areas the viewer may open, who is signed in, and the
/// form token the sign-out form carries.
#[derive(Debug, Clone)]
pub struct Nav {
    pub home: &'static str,
    pub product: Text,
    pub items: Vec<(String, Text)>,
    pub signed_in_as: String,
    pub form_token: String,
}

/// A page on its way out.
#[derive(Debug)]
pub struct Page {
    status: StatusCode,
    title: String,
    body: Markup,
    nav: Option<Nav>,
    cookies: Vec<String>,
    narrow: bool,
    passkey_script: bool,
    countdown_script: bool,
}

impl Page {
    pub fn new(title: impl Into<String>, body: Markup) -> Page {
        Page {
            status: StatusCode::OK,
            title: title.into(),
            body,
            nav: None,
            cookies: Vec::new(),
            narrow: false,
            passkey_script: false,
            countdown_script: false,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    pub fn nav(mut self, nav: Nav) -> Page {
        self.nav = Some(nav);
        self
    }

    /// A single-column page (sign-in and the like).
    pub fn narrow(mut self) -> Page {
        self.narrow = true;
        self
    }

    /// Loads the passkey script (the page has a `data-passkey` form).
    pub fn passkey_script(mut self) -> Page {
        self.passkey_script = true;
        self
    }

    /// Loads the countdown script (the page has `data-due` countdowns and the pause button).
    pub fn countdown_script(mut self) -> Page {
        self.countdown_script = true;
        self
    }

    pub fn set_cookie(mut self, cookie: String) -> Page {
        self.cookies.push(cookie);
        self
    }

    fn document(&self) -> Markup {
        let lang = current_lang();
        let path = current_path();
        html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " – regrooter" }
                    link rel="stylesheet" href=(web::assets::stylesheet_path());
                    @if self.passkey_script {
                        script type="module" src=(web::assets::passkey_script_path()) {}
                    }
                    @if self.countdown_script {
                        script type="module" src=(web::assets::countdown_script_path()) {}
                    }
                }
                body {
                    a class="skip" href="#main" { (t("Zum Inhalt springen", "Skip to content")) }
                    header class="site" {
                        div class="bar" {
                            @match &self.nav {
                                Some(nav) => {
                                    a class="brand" href=(nav.home) { "regrooter · " (nav.product.get()) }
                                    nav class="main" aria-label=(t("Hauptnavigation", "Main navigation")) {
                                        ul {
                                            @for (href, label) in &nav.items {
                                                li {
                                                    @if *href == path || (href.as_str() != nav.home && path.starts_with(href.as_str())) {
                                                        a href=(href) aria-current="page" { (label.get()) }
                                                    } @else {
                                                        a href=(href) { (label.get()) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                                None => { span class="brand" { "regrooter" } }
                            }
                            div class="tools" {
                            nav class="langs" aria-label=(t("Sprache", "Language")) {
                                ul {
                                    @for other in Lang::ALL {
                                        li {
                                            @if other == lang {
                                                span aria-current="true" lang=(other.code()) { (other.own_name()) }
                                            } @else {
                                                a href={ (path) "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) { (other.own_name()) }
                                            }
                                        }
                                    }
                                }
                            }
                            @if let Some(nav) = &self.nav {
                                form class="inline" method="post" action=(web::paths::SIGN_OUT) {
                                    (form_token_field(&nav.form_token))
                                    span class="muted" { (nav.signed_in_as) " " }
                                    button type="submit" class="secondary" { (t("Abmelden", "Sign out")) }
                                }
                            }
                            }
                        }
                    }
                    main id="main" class=[self.narrow.then_some("narrow")] {
                        (self.body)
                    }
                    footer class="site" {
                        p { "regrooter GmbH · " (t("Hosting in Deutschland (EU)", "Hosted in Germany (EU)")) }
                    }
                }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let body = self.document().into_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Accept-Language"),
        );
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// A `303 See Other` to `location` (after a form post, or to the sign-in), with cookies.
pub fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The hidden field every form carries: the browser's form token (see `web::origin`).
pub fn form_token_field(token: &str) -> Markup {
    html! { input type="hidden" name=(web::cookies::FORM_TOKEN_FIELD) value=(token); }
}

/// The list of a form's errors at its top (each links to its field), for screen readers first.
pub fn error_summary(errors: &[(String, String)]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="errors" role="alert" tabindex="-1" id="errors" {
                h2 { (t("Bitte prüfen Sie Ihre Angaben", "Please check what you entered")) }
                ul {
                    @for (field, message) in errors {
                        li { a href={ "#" (field) } { (message) } }
                    }
                }
            }
        }
    }
}

/// The message for `field` among a form's errors, shown under the field.
pub fn field_error<'a>(errors: &'a [(String, String)], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

/// The button that pauses and restarts the live countdowns: hidden until the countdown script
/// shows it (without the script nothing moves, so there is nothing to pause).
pub fn countdown_control() -> Markup {
    let pause = t("Countdowns anhalten", "Pause the countdowns");
    html! {
        button type="button" class="secondary" id="countdown-control" hidden aria-pressed="false"
            data-pause=(pause) data-resume=(t("Countdowns fortsetzen", "Resume the countdowns")) { (pause) }
    }
}

/// A form the passkey script completes: hidden without script (a `noscript` line says why),
/// shown with it; on submit the browser signs (`get`) or creates (`create`) a passkey from
/// `options` and the form posts the answer as `credential`.
pub struct PasskeyForm<'a> {
    pub action: &'a str,
    pub create: bool,
    pub options: &'a str,
    pub form_token: &'a str,
    pub hidden: &'a [(&'a str, &'a str)],
    pub fields: Markup,
    pub button: &'static str,
}

pub fn passkey_form(form: PasskeyForm<'_>) -> Markup {
    html! {
        noscript { p class="hint" { (t(
            "Passkeys brauchen JavaScript; diese Seite lädt nur ein eigenes, kleines Skript dafür.",
            "Passkeys need JavaScript; this page loads one small script of its own for them.",
        )) } }
        form method="post" action=(form.action) hidden
            data-passkey=(if form.create { "create" } else { "get" }) data-status="passkey-status"
            data-waiting=(t("Bitte bestätigen Sie mit Ihrem Gerät …", "Please confirm on your device …"))
            data-failed=(t("Der Passkey wurde nicht verwendet. Versuchen Sie es erneut.", "The passkey was not used. Please try again."))
            data-unsupported=(t("Dieser Browser unterstützt hier keine Passkeys.", "This browser does not support passkeys here.")) {
            (form_token_field(form.form_token))
            @for (name, value) in form.hidden {
                input type="hidden" name=(name) value=(value);
            }
            input type="hidden" name="passkey_options" value=(form.options);
            input type="hidden" name="credential" value="";
            (form.fields)
            button type="submit" { (form.button) }
        }
        p class="hint" id="passkey-status" role="status" aria-live="polite" {}
    }
}
