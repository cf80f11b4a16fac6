//! A form post from our own pages: `application/x-www-form-urlencoded`, bounded, sent from this
//! origin (`Sec-Fetch-Site`/`Origin`) with the browser's form token. Anything else is refused
//! with a page before a handler runs.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::de::DeserializeOwned;

use super::context::{cookie_values, current_path, t};
use super::errors::PageError;
use super::layout::Page;
use crate::services::Services;

/// The fields of a form (the form token taken out and checked).
pub struct PageForm<T>(pub T);

/// A cross-site or token-less form post.
pub struct Refused(web::origin::CrossSite);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        tracing::warn!(target: "regrooter::security", event = "form_refused", reason = %self.0, "form post refused");
        Page::new(
            t("Formular abgelehnt", "Form refused"),
            html! {
                h1 { (t("Formular abgelehnt", "Form refused")) }
                p { (t(
                    "Dieses Formular kam nicht von unseren Seiten oder ist abgelaufen. Bitte öffnen Sie die Seite neu und senden Sie es noch einmal.",
                    "This form did not come from our pages, or it has expired. Please open the page again and send it once more.",
                )) }
                p { a href=(web::paths::home_of(&current_path())) { (t("Zur Übersicht", "To the overview")) } }
            },
        )
        .status(StatusCode::FORBIDDEN)
        .into_response()
    }
}

impl<S, T> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    Arc<Services>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let services = Arc::<Services>::from_ref(state);
        let headers = req.headers();
        let is_form = crate::http::has_media_type(headers, "application/x-www-form-urlencoded");
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let sec_fetch_site = text("sec-fetch-site").map(str::to_string);
        let origin = text("origin").map(str::to_string);
        let cookie = web::cookies::read(cookie_values(headers), web::cookies::FORM_COOKIE);
        if !is_form {
            return Err(PageError(kernel::Error::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded",
            })
            .into_response());
        }
        let limit = services.config.max_body_bytes;
        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| PageError(kernel::Error::TooLarge { limit }).into_response())?;
        let mut token = None;
        let mut fields = Vec::new();
        for (name, value) in form_urlencoded::parse(&body) {
            if name == web::cookies::FORM_TOKEN_FIELD {
                token = Some(value.into_owned());
            } else {
                fields.push((name.into_owned(), value.into_owned()));
            }
        }
        web::origin::check_form_post(
            web::origin::origin_of(&services.config.public_url),
            sec_fetch_site.as_deref(),
            origin.as_deref(),
            cookie.as_deref(),
            token.as_deref(),
        )
        .map_err(|e| Refused(e).into_response())?;
        let encoded = serde_urlencoded::to_string(&fields)
            .map_err(|e| PageError(kernel::Error::BadRequest(e.to_string())).into_response())?;
        serde_urlencoded::from_str(&encoded)
            .map(PageForm)
            .map_err(|e| PageError(kernel::Error::BadRequest(e.to_string())).into_response())
    }
}
