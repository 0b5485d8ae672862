//! Which service and operation a request names.
//!
//! AWS SDKs name the operation in one of three places, tried in this order:
//! the `X-Amz-Target` header (awsJson protocols), the SigV4 credential scope
//! (which names the service; the operation then comes from the body or path,
//! decoded by the service's protocol), and the URL path (REST protocols and
//! nimbus's own `/_nimbus/` control API). The table below is the only place
//! that knows the mapping; it knows nothing of what the operations do.

use crate::error::AwsError;

/// The wire protocol a service speaks (which decides error shapes and
/// content types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
    RestJson1,
    /// Form-encoded `Action=...` requests, XML responses (SNS, and SQS
    /// for older clients).
    AwsQuery,
}

/// The AWS services nimbus can recognise (whether or not it implements them yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    DynamoDb,
    DynamoDbStreams,
    Sqs,
    StepFunctions,
    EventBridge,
    CloudWatchLogs,
    SecretsManager,
    Ssm,
    Kinesis,
    Lambda,
    Sns,
}

/// One row of the routing table.
struct Spec {
    service: Service,
    /// The part of `X-Amz-Target` before the dot, if the service uses it.
    target_prefix: Option<&'static str>,
    /// The SigV4 signing name (credential scope service). Several services
    /// may share one (DynamoDB Streams signs as `dynamodb`); the first row
    /// with a name wins when only the scope is known.
    signing_name: &'static str,
    protocol: Protocol,
}

const TABLE: &[Spec] = &[
    Spec {
        service: Service::DynamoDb,
        target_prefix: Some("DynamoDB_20120810"),
        signing_name: "dynamodb",
        protocol: Protocol::AwsJson1_0,
    },
    Spec {
        service: Service::DynamoDbStreams,
        target_prefix: Some("DynamoDBStreams_20120810"),
        signing_name: "dynamodb",
        protocol: Protocol::AwsJson1_0,
    },
    Spec {
        service: Service::Sqs,
        target_prefix: Some("AmazonSQS"),
        signing_name: "sqs",
        protocol: Protocol::AwsJson1_0,
    },
    Spec {
        service: Service::StepFunctions,
        target_prefix: Some("AWSStepFunctions"),
        signing_name: "states",
        protocol: Protocol::AwsJson1_0,
    },
    Spec {
        service: Service::EventBridge,
        target_prefix: Some("AWSEvents"),
        signing_name: "events",
        protocol: Protocol::AwsJson1_1,
    },
    Spec {
        service: Service::CloudWatchLogs,
        target_prefix: Some("Logs_20140328"),
        signing_name: "logs",
        protocol: Protocol::AwsJson1_1,
    },
    Spec {
        service: Service::SecretsManager,
        target_prefix: Some("secretsmanager"),
        signing_name: "secretsmanager",
        protocol: Protocol::AwsJson1_1,
    },
    Spec {
        service: Service::Ssm,
        target_prefix: Some("AmazonSSM"),
        signing_name: "ssm",
        protocol: Protocol::AwsJson1_1,
    },
    Spec {
        service: Service::Kinesis,
        target_prefix: Some("Kinesis_20131202"),
        signing_name: "kinesis",
        protocol: Protocol::AwsJson1_1,
    },
    Spec {
        service: Service::Lambda,
        target_prefix: None,
        signing_name: "lambda",
        protocol: Protocol::RestJson1,
    },
    Spec {
        service: Service::Sns,
        target_prefix: None,
        signing_name: "sns",
        protocol: Protocol::AwsQuery,
    },
];

/// Path prefix of nimbus's own API. AWS never uses it, and routing checks it
/// only after the AWS signals, so no AWS request can land there.
pub const INTERNAL_PREFIX: &str = "/_nimbus/";

/// Path prefixes of the Lambda API: each API version date AWS introduced a
/// family of operations under (`/2015-03-31/functions/...`, concurrency under
/// `/2017-10-31/`, layers under `/2018-10-31/`, ...).
const LAMBDA_PREFIXES: &[&str] = &[
    "/2014-11-13/",
    "/2015-03-31/",
    "/2016-08-19/",
    "/2017-03-31/",
    "/2017-10-31/",
    "/2018-10-31/",
    "/2019-09-25/",
    "/2019-09-30/",
    "/2020-04-22/",
    "/2020-06-30/",
    "/2021-10-31/",
    "/2021-11-15/",
];

/// Longest operation name accepted from `X-Amz-Target`; AWS's longest are
/// about 50 characters. Bounds what we copy and log from a header.
const MAX_OPERATION_LEN: usize = 128;

impl Service {
    fn spec(self) -> &'static Spec {
        // Every variant has a row; the fallback only keeps this total.
        TABLE
            .iter()
            .find(|s| s.service == self)
            .unwrap_or(&TABLE[0])
    }

    /// The SigV4 signing name, also used as the service's name in messages,
    /// logs and `/_nimbus/health`.
    pub fn signing_name(self) -> &'static str {
        self.spec().signing_name
    }

    /// A name for people: unlike [`Service::signing_name`] it tells DynamoDB
    /// Streams apart from DynamoDB.
    pub fn name(self) -> &'static str {
        match self {
            Service::DynamoDbStreams => "dynamodbstreams",
            other => other.signing_name(),
        }
    }

    pub fn protocol(self) -> Protocol {
        self.spec().protocol
    }

    /// The service whose `X-Amz-Target` prefix is `prefix`.
    pub fn from_target_prefix(prefix: &str) -> Option<Service> {
        TABLE
            .iter()
            .find(|s| s.target_prefix == Some(prefix))
            .map(|s| s.service)
    }

    /// The service that signs with `name` in its credential scope.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        TABLE
            .iter()
            .find(|s| s.signing_name == name)
            .map(|s| s.service)
    }
}

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An AWS API call. `operation` is known when the request named it in
    /// `X-Amz-Target`; otherwise the service's protocol decoder finds it (in
    /// an `Action=` form field or the REST path).
    Aws {
        service: Service,
        operation: Option<String>,
    },
    /// A request signed for a service nimbus does not know (e.g. `s3`).
    UnknownService { signing_name: String },
    /// nimbus's own API under `/_nimbus/`; `path` is the full path.
    Internal { path: String },
}

/// The parts of a request routing looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteInput<'a> {
    /// The `X-Amz-Target` header.
    pub target: Option<&'a str>,
    /// The service name from a parsed SigV4 credential scope.
    pub scope_service: Option<&'a str>,
    /// The URL path.
    pub path: &'a str,
}

/// Classifies a request. A malformed or unknown `X-Amz-Target`, or a request
/// that carries no signal at all, is an `UnknownOperationException`, as AWS
/// answers before it even looks at credentials.
pub fn classify(input: &RouteInput<'_>) -> Result<Route, AwsError> {
    if let Some(target) = input.target {
        return classify_target(target);
    }
    if let Some(name) = input.scope_service {
        return Ok(match Service::from_signing_name(name) {
            Some(service) => Route::Aws {
                service,
                operation: None,
            },
            None => Route::UnknownService {
                signing_name: name.to_owned(),
            },
        });
    }
    if input.path.starts_with(INTERNAL_PREFIX) {
        return Ok(Route::Internal {
            path: input.path.to_owned(),
        });
    }
    if LAMBDA_PREFIXES.iter().any(|p| input.path.starts_with(p)) {
        return Ok(Route::Aws {
            service: Service::Lambda,
            operation: None,
        });
    }
    Err(AwsError::unknown_operation(
        "nimbus cannot tell which AWS operation this request is for: it has no X-Amz-Target header, \
         no SigV4 credential scope and no known path",
    ))
}

fn classify_target(target: &str) -> Result<Route, AwsError> {
    let target = target.trim();
    let unknown = || {
        // Only a bounded, printable prefix of the header goes into the message.
        let shown: String = target.chars().take(MAX_OPERATION_LEN).collect();
        AwsError::unknown_operation(format!(
            "Unknown operation: X-Amz-Target '{}'",
            shown.escape_default()
        ))
    };
    let Some((prefix, operation)) = target.split_once('.') else {
        return Err(unknown());
    };
    let Some(service) = Service::from_target_prefix(prefix) else {
        return Err(unknown());
    };
    let valid = !operation.is_empty()
        && operation.len() <= MAX_OPERATION_LEN
        && operation.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return Err(unknown());
    }
    Ok(Route::Aws {
        service,
        operation: Some(operation.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(t: &str) -> Result<Route, AwsError> {
        classify(&RouteInput {
            target: Some(t),
            scope_service: Some("dynamodb"),
            path: "/",
        })
    }

    fn aws(service: Service, op: Option<&str>) -> Route {
        Route::Aws {
            service,
            operation: op.map(str::to_owned),
        }
    }

    #[test]
    fn every_known_target_prefix() {
        for (t, service) in [
            ("DynamoDB_20120810.PutItem", Service::DynamoDb),
            (
                "DynamoDBStreams_20120810.GetRecords",
                Service::DynamoDbStreams,
            ),
            ("AmazonSQS.SendMessage", Service::Sqs),
            ("AWSStepFunctions.StartExecution", Service::StepFunctions),
            ("AWSEvents.PutEvents", Service::EventBridge),
            ("Logs_20140328.PutLogEvents", Service::CloudWatchLogs),
            ("secretsmanager.GetSecretValue", Service::SecretsManager),
            ("AmazonSSM.GetParameter", Service::Ssm),
            ("Kinesis_20131202.PutRecords", Service::Kinesis),
        ] {
            let op = t.split_once('.').unwrap().1;
            assert_eq!(target(t), Ok(aws(service, Some(op))), "{t}");
        }
    }

    #[test]
    fn target_wins_over_scope_and_path() {
        let r = classify(&RouteInput {
            target: Some("AmazonSQS.ListQueues"),
            scope_service: Some("dynamodb"),
            path: "/_nimbus/health",
        });
        assert_eq!(r, Ok(aws(Service::Sqs, Some("ListQueues"))));
    }

    #[test]
    fn bad_targets_are_unknown_operations() {
        for t in [
            "",
            "DynamoDB_20120810",
            "DynamoDB_20120810.",
            "DynamoDB_20111205.PutItem",
            "Nope.PutItem",
            "DynamoDB_20120810.Put.Item",
            "DynamoDB_20120810.Put Item",
            "DynamoDB_20120810.\u{1F600}",
        ] {
            let err = target(t).unwrap_err();
            assert_eq!(err.code, "UnknownOperationException", "{t:?}");
            assert_eq!(err.status, 400);
            assert_eq!(
                err.type_name(),
                "com.amazon.coral.service#UnknownOperationException"
            );
        }
        let long = format!("DynamoDB_20120810.{}", "A".repeat(MAX_OPERATION_LEN + 1));
        assert!(target(&long).is_err());
    }

    #[test]
    fn scope_names_service_without_target() {
        let r = classify(&RouteInput {
            target: None,
            scope_service: Some("sqs"),
            path: "/",
        });
        assert_eq!(r, Ok(aws(Service::Sqs, None)));
        let r = classify(&RouteInput {
            target: None,
            scope_service: Some("dynamodb"),
            path: "/",
        });
        assert_eq!(r, Ok(aws(Service::DynamoDb, None)));
        let r = classify(&RouteInput {
            target: None,
            scope_service: Some("s3"),
            path: "/bucket/key",
        });
        assert_eq!(
            r,
            Ok(Route::UnknownService {
                signing_name: "s3".into()
            })
        );
    }

    #[test]
    fn paths() {
        let r = classify(&RouteInput {
            path: "/_nimbus/health",
            ..RouteInput::default()
        });
        assert_eq!(
            r,
            Ok(Route::Internal {
                path: "/_nimbus/health".into()
            })
        );
        let r = classify(&RouteInput {
            path: "/2015-03-31/functions/f/invocations",
            ..RouteInput::default()
        });
        assert_eq!(r, Ok(aws(Service::Lambda, None)));
        // "/_nimbus" without the slash, or elsewhere in the path, is not internal.
        for path in ["/_nimbus", "/", "/x/_nimbus/health", "//_nimbus/health"] {
            let r = classify(&RouteInput {
                path,
                ..RouteInput::default()
            });
            assert!(r.is_err(), "{path}");
        }
    }

    #[test]
    fn signed_request_to_internal_path_stays_aws() {
        let r = classify(&RouteInput {
            target: None,
            scope_service: Some("lambda"),
            path: "/_nimbus/reset",
        });
        assert_eq!(r, Ok(aws(Service::Lambda, None)));
    }

    #[test]
    fn names() {
        assert_eq!(Service::DynamoDbStreams.signing_name(), "dynamodb");
        assert_eq!(Service::DynamoDbStreams.name(), "dynamodbstreams");
        assert_eq!(Service::StepFunctions.name(), "states");
        assert_eq!(Service::EventBridge.protocol(), Protocol::AwsJson1_1);
        assert_eq!(Service::Sns.name(), "sns");
        assert_eq!(Service::Sns.protocol(), Protocol::AwsQuery);
        assert_eq!(Service::from_signing_name("sns"), Some(Service::Sns));
    }
}
