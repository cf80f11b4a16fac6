//! The `portal` function on AWS Lambda (function URL events), EU-pinned: the customer portal's
//! pages.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::lambda::serve_http(functions::entry::PORTAL).await
}
