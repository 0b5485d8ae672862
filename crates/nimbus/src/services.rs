//! The services this binary runs, opened on one shared store.

use std::path::PathBuf;
use std::time::Duration;

use nimbus_clock::Clock;
use nimbus_dynamodb::{DynamoConfig, DynamoDb};
use nimbus_lambda::{Lambda, LambdaConfig};
use nimbus_logs::Logs;
use nimbus_sns::Sns;
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
    pub sns: Sns,
    pub lambda: Lambda,
    pub logs: Logs,
    /// Every AWS API request's outcome and latency (`/_nimbus/metrics`).
    pub requests: crate::metrics::RequestMetrics,
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
    /// With `--auth strict`: the access key and secret functions get.
    pub function_credentials: Option<(String, String)>,
    /// How long a DynamoDB stream shard stays open.
    pub dynamodb_shard_rollover: Duration,
    /// Items per store write of a GSI backfill.
    pub dynamodb_backfill_batch: usize,
    /// `--sqs-max-inflight` (tests only): replaces AWS's in-flight limits.
    pub sqs_max_inflight: Option<u64>,
    /// `--lambda-isolation`, `--lambda-user`, `--lambda-cgroup-root`.
    pub lambda_isolation: nimbus_lambda::exec::sandbox::Options,
}

impl Default for ServiceOptions {
    /// In memory, with the command line's defaults.
    fn default() -> Self {
        ServiceOptions {
            data_dir: None,
            lambda_idle_timeout: Duration::from_secs(300),
            lambda_concurrency: 1000,
            function_credentials: None,
            dynamodb_shard_rollover: Duration::from_secs(4 * 3600),
            dynamodb_backfill_batch: 256,
            sqs_max_inflight: None,
            lambda_isolation: Default::default(),
        }
    }
}

/// The services implemented so far, as reported by `/_nimbus/health`.
pub const IMPLEMENTED: &[Service] = &[
    Service::DynamoDb,
    Service::DynamoDbStreams,
    Service::Sqs,
    Service::Sns,
    Service::Lambda,
    Service::CloudWatchLogs,
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
                function_credentials: options.function_credentials.clone(),
                isolation: options.lambda_isolation.clone(),
                // Functions must not see nimbus's data (the store, other
                // functions' code); Lambda hides its own work dir itself.
                hide: options.data_dir.iter().cloned().collect(),
            },
        )?;
        let limits = options
            .sqs_max_inflight
            .map_or_else(Default::default, nimbus_sqs::inflight::Limits::both);
        let sqs = Sqs::open_with_limits(store.clone(), clock.clone(), limits);
        lambda.attach_queues(queues(sqs.clone()));
        let sns =
            Sns::open(store.clone(), clock.clone()).map_err(nimbus_sns::SnsError::into_aws)?;
        sns.attach_endpoints(crate::sns_endpoints::endpoints(sqs.clone(), lambda.clone()));
        lambda.attach_topics(topics(sns.clone()));
        let logs_clock = clock.clone();
        let logs = Logs::with_clock(
            store.clone(),
            std::sync::Arc::new(move || logs_clock.now_ms() as i64),
        );
        let sink_logs = logs.clone();
        lambda.attach_logs(std::sync::Arc::new(
            move |account: &str, region: &str, group: &str, stream: &str, events| {
                sink_logs.append_detached(account, region, group, stream, events);
            },
        ));
        let dynamodb = DynamoDb::open(
            store,
            DynamoConfig {
                stream_shard_rollover: options.dynamodb_shard_rollover,
                index_backfill_batch: options.dynamodb_backfill_batch,
                ..DynamoConfig::new(default_region)
            },
            clock.clone(),
        )?;
        lambda.attach_streams(streams(dynamodb.clone()));
        Ok(Services {
            clock,
            dynamodb,
            sqs,
            sns,
            lambda,
            logs,
            requests: crate::metrics::RequestMetrics::default(),
            _scratch: scratch,
        })
    }
}

/// Lambda's way into SQS: each operation is one call into the SQS service
/// in process (no HTTP), with the queue named by its ARN.
/// Lambda's way into SNS: a destination, dead-letter target or stream
/// mapping's OnFailure publishes through `Sns::publish`, which checks and
/// stores the message as the Publish API does.
fn topics(sns: Sns) -> nimbus_lambda::queues::Topics {
    use nimbus_lambda::queues::{TopicMessage, Topics};
    use nimbus_sns::publish::PublishInput;
    use nimbus_sns::MessageAttribute;

    Topics {
        publish: std::sync::Arc::new(move |m: TopicMessage| {
            let sns = sns.clone();
            Box::pin(async move {
                let input = PublishInput {
                    topic_arn: Some(m.topic_arn),
                    message: Some(m.message),
                    message_attributes: m
                        .attributes
                        .into_iter()
                        .map(|(name, value)| {
                            let attribute = MessageAttribute {
                                data_type: "String".to_owned(),
                                string_value: Some(value),
                                binary_value: None,
                            };
                            (name, attribute)
                        })
                        .collect(),
                    ..PublishInput::default()
                };
                sns.publish(input)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        }),
    }
}

fn queues(sqs: Sqs) -> nimbus_lambda::queues::Queues {
    use nimbus_lambda::queues::{QueueError, QueueInfo, QueueMessage, Queues};
    use serde_json::{json, Value};

    /// Runs one SQS operation on a queue named by ARN
    /// (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
    async fn call(
        sqs: &Sqs,
        arn: &str,
        operation: &str,
        mut body: Value,
    ) -> Result<Value, QueueError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let [_, _, "sqs", region, account, name] = parts.as_slice() else {
            return Err(QueueError::Other(format!("{arn} is not an SQS queue ARN")));
        };
        let mut ctx = nimbus_wire::RequestContext::local(region);
        ctx.account_id = (*account).to_owned();
        body["QueueUrl"] = format!("http://localhost/{account}/{name}").into();
        let out = sqs
            .handle(&ctx, operation, body.to_string().as_bytes())
            .await
            .map_err(|e| {
                if e.code.contains("NonExistentQueue") || e.code == "QueueDoesNotExist" {
                    QueueError::NotFound
                } else {
                    QueueError::Other(format!("{}: {}", e.code, e.message))
                }
            })?;
        serde_json::from_slice(&out).map_err(|e| QueueError::Other(e.to_string()))
    }

    let send_sqs = sqs.clone();
    let receive_sqs = sqs.clone();
    let delete_sqs = sqs.clone();
    let info_sqs = sqs;
    Queues {
        send: std::sync::Arc::new(move |message: QueueMessage| {
            let sqs = send_sqs.clone();
            Box::pin(async move {
                let attributes: serde_json::Map<String, Value> = message
                    .attributes
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), json!({"DataType": "String", "StringValue": v})))
                    .collect();
                let mut body = json!({ "MessageBody": message.body });
                if !attributes.is_empty() {
                    body["MessageAttributes"] = attributes.into();
                }
                call(&sqs, &message.queue_arn, "SendMessage", body)
                    .await
                    .map(|_| ())
                    .map_err(|e| match e {
                        QueueError::NotFound => "the queue does not exist".to_owned(),
                        QueueError::Other(m) => m,
                    })
            })
        }),
        receive: std::sync::Arc::new(move |arn: String, max: u32, wait: u32| {
            let sqs = receive_sqs.clone();
            Box::pin(async move {
                let body = json!({
                    "MaxNumberOfMessages": max.clamp(1, 10),
                    "WaitTimeSeconds": wait.min(20),
                    "MessageSystemAttributeNames": ["All"],
                    "MessageAttributeNames": ["All"],
                });
                let out = call(&sqs, &arn, "ReceiveMessage", body).await?;
                Ok(out
                    .get("Messages")
                    .and_then(Value::as_array)
                    .map(|m| m.iter().filter_map(|v| v.as_object().cloned()).collect())
                    .unwrap_or_default())
            })
        }),
        delete: std::sync::Arc::new(move |arn: String, receipts: Vec<String>| {
            let sqs = delete_sqs.clone();
            Box::pin(async move {
                for chunk in receipts.chunks(10) {
                    let entries: Vec<Value> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, r)| json!({"Id": i.to_string(), "ReceiptHandle": r}))
                        .collect();
                    call(
                        &sqs,
                        &arn,
                        "DeleteMessageBatch",
                        json!({ "Entries": entries }),
                    )
                    .await?;
                }
                Ok(())
            })
        }),
        info: std::sync::Arc::new(move |arn: String| {
            let sqs = info_sqs.clone();
            Box::pin(async move {
                let out = call(
                    &sqs,
                    &arn,
                    "GetQueueAttributes",
                    json!({"AttributeNames": ["All"]}),
                )
                .await?;
                let attrs = out.get("Attributes").cloned().unwrap_or_default();
                Ok(QueueInfo {
                    visibility_timeout: attrs
                        .get("VisibilityTimeout")
                        .and_then(Value::as_str)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(30),
                    fifo: attrs.get("FifoQueue").and_then(Value::as_str) == Some("true"),
                })
            })
        }),
    }
}

/// Lambda's way into DynamoDB Streams: the in-process reader of the
/// DynamoDB service.
fn streams(dynamodb: DynamoDb) -> nimbus_lambda::queues::Streams {
    use nimbus_lambda::queues::{QueueError, StreamPage, Streams};
    let reader = dynamodb.clone();
    let shards = dynamodb.clone();
    let latest = dynamodb.clone();
    let not_found = |e: AwsError| {
        if e.code == "ResourceNotFoundException" {
            QueueError::NotFound
        } else {
            QueueError::Other(format!("{}: {}", e.code, e.message))
        }
    };
    Streams {
        read: std::sync::Arc::new(move |arn: &str, after: Option<&str>, limit: usize| {
            reader
                .stream_records(arn, after, limit)
                .map(|b| StreamPage {
                    records: b.records,
                    last_sequence: b.last_sequence,
                    exhausted: b.exhausted,
                })
                .map_err(not_found)
        }),
        shard_of: std::sync::Arc::new(move |arn: &str, sequence: &str| {
            shards.stream_shard_id(arn, sequence)
        }),
        last_sequence: std::sync::Arc::new(move |arn: &str| {
            latest.stream_last_sequence(arn).map_err(not_found)
        }),
        wait: std::sync::Arc::new(move |arn: String, after: Option<String>, timeout| {
            let dynamodb = dynamodb.clone();
            Box::pin(async move {
                dynamodb
                    .wait_for_stream_records(&arn, after.as_deref(), timeout)
                    .await
            })
        }),
    }
}
