//! The functions: HTTP routes (axum routers) and scheduled jobs. The same router serves under
//! `lambda_http` on AWS and inside `regrooter serve` locally; the Lambda binaries in `src/bin/`
//! only build a [`Services`] once at start-up and hand it to a router or a job.

pub mod audit;
pub mod config;
pub mod console;
pub mod entry;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod lambda;
pub mod mail;
pub mod openapi;
pub mod portal;
pub mod routes;
pub mod schedule;
pub mod services;
pub mod trust_page;
pub mod web;
pub mod workflows;

pub use config::{Config, Environment};
pub use services::Services;
