//! The `console` function on AWS Lambda (function URL events), EU-pinned: the staff console's
//! pages.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::lambda::serve_http(functions::entry::CONSOLE).await
}
