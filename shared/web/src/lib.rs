//! The web's facts in one place, for the edge (wasm32) and the pages the functions render: which
//! paths are pages and which of them are public, the two languages, the session and form-token
//! cookies, the same-origin check of every form post, and the one stylesheet.
//!
//! No I/O and no rendering here: the pages themselves live with the functions
//! (`functions/src/web`, `functions/src/portal`), the edge only needs what it checks.

pub mod assets;
pub mod cookies;
pub mod lang;
pub mod origin;
pub mod paths;

pub use lang::Lang;
