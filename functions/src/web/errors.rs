//! Errors as pages: a person in a browser gets a readable page in their language (never an
//! internal message or a stack of JSON); a missing or expired session goes to the sign-in.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use maud::html;

use super::context::{current_path, t};
use super::layout::{Page, see_other};

#[derive(Debug)]
pub struct PageError(pub Error);

pub type PageResult<T> = Result<T, PageError>;

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

/// Where a page without a valid session sends the browser: the refresh step, which renews the
/// access token from the refresh cookie or else leads on to the sign-in; back here afterwards.
pub fn to_refresh(back_to: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(back_to.as_bytes()).collect();
    see_other(&format!("{}?next={next}", web::paths::REFRESH), &[])
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let request_id = crate::http::current_request_id().unwrap_or_default();
        let (status, heading, text) = match &self.0 {
            Error::Unauthenticated(_) => return to_refresh(&current_path()),
            Error::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                t("Kein Zugriff", "No access"),
                t(
                    "Ihr Konto hat keine Berechtigung für diese Seite. Wenden Sie sich an die Administratorin oder den Administrator Ihres Unternehmens.",
                    "Your account is not allowed to open this page. Please ask your company's administrator.",
                ),
            ),
            Error::NotFound(_) => (
                StatusCode::NOT_FOUND,
                t("Nicht gefunden", "Not found"),
                t("Diese Seite gibt es nicht.", "There is no such page."),
            ),
            Error::Validation(_) | Error::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                t("Ungültige Anfrage", "Invalid request"),
                t(
                    "Die Anfrage ließ sich nicht verarbeiten.",
                    "The request could not be processed.",
                ),
            ),
            Error::TooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                t("Zu groß", "Too large"),
                t("Das Formular ist zu groß.", "The form is too large."),
            ),
            Error::Conflict(_) => (
                StatusCode::CONFLICT,
                t("Bereits geändert", "Changed meanwhile"),
                t(
                    "Die Daten wurden inzwischen geändert. Bitte laden Sie die Seite neu.",
                    "The data changed meanwhile. Please reload the page.",
                ),
            ),
            Error::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                t("Vorübergehend nicht verfügbar", "Temporarily unavailable"),
                t(
                    "Bitte versuchen Sie es in einigen Sekunden noch einmal.",
                    "Please try again in a few seconds.",
                ),
            ),
            _ => {
                tracing::error!(request_id = %request_id, error = %self.0, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    t("Ein Fehler ist aufgetreten", "Something went wrong"),
                    t(
                        "Wir wurden benachrichtigt. Bitte nennen Sie bei Rückfragen die Anfrage-ID.",
                        "We have been notified. Please quote the request id if you contact us.",
                    ),
                )
            }
        };
        Page::new(
            heading,
            html! {
                h1 { (heading) }
                p { (text) }
                @if !request_id.is_empty() {
                    p class="muted" { (t("Anfrage-ID", "Request id")) ": " code { (request_id) } }
                }
                p { a href=(web::paths::home_of(&current_path())) { (t("Zur Übersicht", "To the overview")) } }
            },
        )
        .status(status)
        .into_response()
    }
}
