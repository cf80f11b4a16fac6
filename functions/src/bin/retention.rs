//! The `retention` function on AWS Lambda: jobs fired by EventBridge Scheduler, EU-pinned.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    functions::lambda::run_jobs(functions::entry::RETENTION).await
}
