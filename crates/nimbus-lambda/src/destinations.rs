//! Where the results of asynchronous invocations go: on-success and
//! on-failure destinations (another Lambda function, an SQS queue or an SNS
//! topic) with AWS's invocation record, and the dead-letter queue or topic
//! with the original event.
//!
//! Lambda knows nothing of SQS or SNS: messages go out through the
//! server-attached [`crate::queues::Queues`] and [`crate::queues::Topics`]
//! interfaces.

use serde_json::{json, Value};

use crate::error::{LambdaError, Result};

/// The kind of destination an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    Lambda,
    Sqs,
    Sns,
}

/// Checks a destination ARN: Lambda, SQS and SNS exist in nimbus;
/// EventBridge destinations are refused until that service exists.
pub fn kind_of(arn: &str) -> Result<DestinationKind> {
    let service = arn.strip_prefix("arn:").and_then(|r| r.split(':').nth(1));
    match service {
        Some("lambda") if arn.split(':').nth(5) == Some("function") => Ok(DestinationKind::Lambda),
        Some("sqs") if arn.split(':').count() == 6 => Ok(DestinationKind::Sqs),
        Some("sns") if arn.split(':').count() == 6 => Ok(DestinationKind::Sns),
        Some("events") => Err(LambdaError::invalid(
            "nimbus does not support EventBridge destinations yet (the service does not exist in nimbus); use an SQS queue, an SNS topic or a Lambda function",
        )),
        _ => Err(LambdaError::invalid(format!(
            "The destination ARN {arn} is invalid."
        ))),
    }
}

/// Why an invocation record is being sent.
#[derive(Debug, Clone, Copy)]
pub enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    fn name(self) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// What the last attempt returned, for the record's responseContext.
pub struct LastResponse {
    pub executed_version: String,
    pub function_error: bool,
    pub payload: Option<Vec<u8>>,
}

/// AWS's invocation record for destinations.
pub fn invocation_record(
    request_id: &str,
    function_arn: &str,
    condition: Condition,
    invoke_count: u32,
    request_payload: &str,
    response: Option<&LastResponse>,
) -> Value {
    let payload = |bytes: &[u8]| {
        serde_json::from_slice::<Value>(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
    };
    let mut record = json!({
        "version": "1.0",
        "timestamp": crate::model::log_timestamp(crate::model::now_ms()),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition.name(),
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": payload(request_payload.as_bytes()),
    });
    if let Some(r) = response {
        let mut ctx = json!({ "statusCode": 200, "executedVersion": r.executed_version });
        if r.function_error {
            ctx["functionError"] = "Unhandled".into();
        }
        record["responseContext"] = ctx;
        if let Some(p) = &r.payload {
            record["responsePayload"] = payload(p);
        }
    }
    record
}

/// Sends `body` (with string message attributes) to the SQS queue or SNS
/// topic `arn` names.
pub async fn deliver(
    lambda: &crate::Lambda,
    arn: &str,
    body: String,
    attributes: Vec<(String, String)>,
) -> std::result::Result<(), String> {
    match kind_of(arn).map_err(|e| e.to_string())? {
        DestinationKind::Sqs => {
            let queues = lambda
                .inner()
                .queues
                .get()
                .ok_or("no SQS service is attached")?;
            (queues.send)(crate::queues::QueueMessage {
                queue_arn: arn.to_owned(),
                body,
                attributes,
            })
            .await
        }
        DestinationKind::Sns => {
            let topics = lambda
                .inner()
                .topics
                .get()
                .ok_or("no SNS service is attached")?;
            (topics.publish)(crate::queues::TopicMessage {
                topic_arn: arn.to_owned(),
                message: body,
                attributes,
            })
            .await
        }
        DestinationKind::Lambda => Err(format!("{arn} is not a queue or topic")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of("arn:aws:sqs:us-east-1:000000000000:q").unwrap(),
            DestinationKind::Sqs
        );
        assert_eq!(
            kind_of("arn:aws:lambda:us-east-1:000000000000:function:f").unwrap(),
            DestinationKind::Lambda
        );
        assert_eq!(
            kind_of("arn:aws:sns:us-east-1:000000000000:t").unwrap(),
            DestinationKind::Sns
        );
        assert!(kind_of("arn:aws:events:us-east-1:000000000000:event-bus/default").is_err());
        assert!(kind_of("arn:aws:sns:us-east-1:t").is_err());
        assert!(kind_of("nope").is_err());
    }

    #[test]
    fn record_shape() {
        let r = LastResponse {
            executed_version: "$LATEST".into(),
            function_error: true,
            payload: Some(br#"{"errorMessage":"x"}"#.to_vec()),
        };
        let rec = invocation_record(
            "id",
            "arn:f:$LATEST",
            Condition::RetriesExhausted,
            3,
            r#"{"a":1}"#,
            Some(&r),
        );
        assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(rec["requestPayload"]["a"], 1);
        assert_eq!(rec["responseContext"]["functionError"], "Unhandled");
        assert_eq!(rec["responsePayload"]["errorMessage"], "x");
    }
}
