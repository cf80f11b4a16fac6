//! The web foundation of the portal (and the staff console after it): server-rendered pages
//! (maud: templates are Rust, checked by the compiler and escaped by default, with no template
//! files to find at run time and a tiny runtime for the Lambda zips), the page context (language,
//! form token), sessions from the `__Host-` cookie, form posts checked against cross-site
//! requests, and error pages instead of problem documents.

pub mod certificate;
pub mod context;
pub mod errors;
pub mod form;
pub mod format;
pub mod layout;
pub mod viewer;

pub use context::{FormToken, page_context};
pub use errors::{PageError, PageResult};
pub use form::PageForm;
pub use layout::{Page, Text};
pub use viewer::Viewer;
