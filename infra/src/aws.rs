//! The AWS SDK's configuration, built once per process: rustls with ring for TLS (the SDK's
//! default client brings aws-lc, several MB more per Lambda zip), and the region the caller
//! checked beforehand.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// An HTTPS client for every SDK client of the process.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// SDK configuration for `region` from the usual sources (Lambda: the function's role through
/// environment variables; `AWS_ENDPOINT_URL` points it at moto in tests).
pub async fn sdk_config(region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(Region::new(region.to_string()))
        .load()
        .await
}

/// SDK configuration for a local protocol server (moto) with fixed test credentials.
pub async fn local_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}
