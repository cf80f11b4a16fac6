//! The `incidents` function on AWS Lambda (function URL events), EU-pinned.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::lambda::serve_http(functions::entry::INCIDENTS).await
}
