//! Helpers shared by the Lambda integration tests that drive a live
//! `nimbus serve` with the official AWS SDK for Rust (`lambda.rs`,
//! `lambda_streaming.rs`): a plain-HTTP client without retries, and
//! deployment packages built in memory.
//!
//! Each test binary declares `mod lambda_util;` and uses a different
//! subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::Client;

pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// A Lambda client for `endpoint`: plain HTTP, static test credentials,
/// region us-east-1, and one attempt per call (a retried Invoke would run
/// the function twice).
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDNIMBUSTESTS",
            "nimbus-test-secret",
            None,
            None,
            "nimbus-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// A deployment package holding `files` (path, contents, unix mode).
pub fn package(files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, contents, mode) in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        zip.start_file(*path, options).expect("zip entry");
        zip.write_all(contents.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}
