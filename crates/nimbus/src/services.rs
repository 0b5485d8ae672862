//! The services this binary runs, opened on one shared store.

use std::path::PathBuf;
use std::time::Duration;

use nimbus_clock::Clock;
use nimbus_dynamodb::{DynamoConfig, DynamoDb};
use nimbus_lambda::{Lambda, LambdaConfig};
use nimbus_sqs::Sqs;
use nimbus_store::Store;
use nimbus_wire::route::Service;
use nimbus_wire::AwsError;

/// Every running service; shared by all connections. The store itself is
/// owned by `serve`, which closes it after the last request.
pub struct Services {
    /// The one clock every service reads; `/_nimbus/clock` moves it.
    pub clock: Clock,
    pub dynamodb: DynamoDb,
    pub sqs: Sqs,
    pub lambda: Lambda,
    /// With --in-memory, Lambda's packages and environments live in a
    /// temporary directory removed when the server stops.
    _scratch: Option<tempfile::TempDir>,
}

/// Where services keep files (Lambda packages, environments), and their
/// tunables.
pub struct ServiceOptions {
    /// `None` with --in-memory: a temporary directory is used.
    pub data_dir: Option<PathBuf>,
    pub lambda_idle_timeout: Duration,
    pub lambda_concurrency: u32,
}

impl Default for ServiceOptions {
    /// In memory, with the command line's defaults.
    fn default() -> Self {
        ServiceOptions {
            data_dir: None,
            lambda_idle_timeout: Duration::from_secs(300),
            lambda_concurrency: 1000,
        }
    }
}

/// The services implemented so far, as reported by `/_nimbus/health`.
pub const IMPLEMENTED: &[Service] = &[
    Service::DynamoDb,
    Service::DynamoDbStreams,
    Service::Sqs,
    Service::Lambda,
];

impl Services {
    pub fn open(
        store: Store,
        default_region: &str,
        options: &ServiceOptions,
    ) -> Result<Services, AwsError> {
        let (work_dir, scratch) = match &options.data_dir {
            Some(dir) => (dir.join("lambda"), None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("nimbus-lambda-")
                    .tempdir()
                    .map_err(|e| {
                        AwsError::internal_failure(format!(
                            "cannot create a temporary directory for Lambda: {e}"
                        ))
                    })?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        let clock = Clock::new();
        let lambda = Lambda::open(
            store.clone(),
            LambdaConfig {
                work_dir,
                idle_timeout: options.lambda_idle_timeout,
                account_concurrency: options.lambda_concurrency,
                clock: clock.clone(),
            },
        )?;
        let sqs = Sqs::open(store.clone(), clock.clone());
        lambda.attach_queue_sender(queue_sender(sqs.clone()));
        let dynamodb = DynamoDb::open(
            store,
            DynamoConfig {
                default_region: default_region.to_owned(),
            },
            clock.clone(),
        )?;
        Ok(Services {
            clock,
            dynamodb,
            sqs,
            lambda,
            _scratch: scratch,
        })
    }
}

/// Lambda's way into SQS (destinations, dead-letter queues): one
/// SendMessage through the SQS service in process.
fn queue_sender(sqs: Sqs) -> nimbus_lambda::destinations::QueueSender {
    std::sync::Arc::new(move |message: nimbus_lambda::destinations::QueueMessage| {
        let sqs = sqs.clone();
        Box::pin(async move {
            // arn:aws:sqs:REGION:ACCOUNT:NAME
            let parts: Vec<&str> = message.queue_arn.split(':').collect();
            let [_, _, "sqs", region, account, name] = parts.as_slice() else {
                return Err(format!("{} is not an SQS queue ARN", message.queue_arn));
            };
            let mut ctx = nimbus_wire::RequestContext::local(region);
            ctx.account_id = (*account).to_owned();
            let attributes: serde_json::Map<String, serde_json::Value> = message
                .attributes
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::json!({"DataType": "String", "StringValue": v}),
                    )
                })
                .collect();
            let mut body = serde_json::json!({
                "QueueUrl": format!("http://localhost/{account}/{name}"),
                "MessageBody": message.body,
            });
            if !attributes.is_empty() {
                body["MessageAttributes"] = attributes.into();
            }
            sqs.handle(&ctx, "SendMessage", body.to_string().as_bytes())
                .await
                .map(|_| ())
                .map_err(|e| format!("{}: {}", e.code, e.message))
        })
    })
}
