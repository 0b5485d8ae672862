//! `--auth strict`: SigV4 signatures verified against configured secrets,
//! through the official AWS SDK for Rust (DynamoDB's awsJson and SQS's),
//! with AWS's error codes for a wrong secret and an unknown access key; and
//! the start-up refusal without credentials.

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use common::Server;

const KEY: &str = "AKIDSTRICTTEST";
const SECRET: &str = "strict-test-secret";

fn dynamodb(endpoint: &str, key: &str, secret: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn sqs(endpoint: &str, key: &str, secret: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[tokio::test]
async fn strict_auth_checks_every_signature() {
    let credentials = format!("{KEY}:{SECRET},OTHERKEY:other-secret");
    let server = Server::start(&[
        "--in-memory",
        "--auth",
        "strict",
        "--credentials",
        &credentials,
    ]);

    // The right secret works, for both keys.
    let good = dynamodb(&server.endpoint, KEY, SECRET);
    good.list_tables()
        .send()
        .await
        .expect("a correctly signed request");
    dynamodb(&server.endpoint, "OTHERKEY", "other-secret")
        .list_tables()
        .send()
        .await
        .expect("the second configured key");
    sqs(&server.endpoint, KEY, SECRET)
        .create_queue()
        .queue_name("strict")
        .send()
        .await
        .expect("SQS, correctly signed");

    // A wrong secret: the signature does not match.
    let err = dynamodb(&server.endpoint, KEY, "wrong")
        .list_tables()
        .send()
        .await
        .expect_err("a wrong secret");
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert_eq!(
        err.message(),
        Some("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    );

    // An access key nimbus does not know.
    let err = dynamodb(&server.endpoint, "AKIDUNKNOWN", SECRET)
        .list_tables()
        .send()
        .await
        .expect_err("an unknown key");
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );

    let err = sqs(&server.endpoint, KEY, "wrong")
        .list_queues()
        .send()
        .await
        .expect_err("SQS with a wrong secret");
    assert!(
        err.code()
            .is_some_and(|c| c.contains("InvalidSignature") || c.contains("SignatureDoesNotMatch")),
        "{err:?}"
    );
}

#[test]
fn strict_auth_needs_credentials() {
    let out = common::run(
        &[
            "serve",
            "--in-memory",
            "--bind",
            "127.0.0.1:0",
            "--auth",
            "strict",
        ],
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("--auth strict needs --credentials"),
        "stderr: {}",
        out.stderr
    );
}

#[tokio::test]
async fn relaxed_auth_accepts_any_secret() {
    let server = Server::start(&["--in-memory"]);
    dynamodb(&server.endpoint, "ANYKEY", "any-secret")
        .list_tables()
        .send()
        .await
        .expect("relaxed mode takes any signature");
}
