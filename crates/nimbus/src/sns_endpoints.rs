//! SNS's way into SQS and Lambda: each delivery is one call into the other
//! service in process (no HTTP), and its failure is classified the way SNS
//! treats it: the endpoint gone or refusing the message is a client-side
//! failure (not retried, dead-lettered), anything else server-side
//! (retried).

use std::sync::Arc;

use base64::Engine;
use nimbus_lambda::Lambda;
use nimbus_sns::{DeliveryError, Endpoints, QueueMessage};
use nimbus_sqs::Sqs;
use nimbus_wire::{AwsError, RequestContext};
use serde_json::{json, Map, Value};

/// The queue named by an SQS ARN, as a context and a queue URL.
fn queue_target(arn: &str) -> Result<(RequestContext, String), DeliveryError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let [_, _, "sqs", region, account, name] = parts.as_slice() else {
        return Err(DeliveryError::Client(format!(
            "{arn} is not an SQS queue ARN"
        )));
    };
    let mut ctx = RequestContext::local(region);
    ctx.account_id = (*account).to_owned();
    Ok((ctx, format!("http://localhost/{account}/{name}")))
}

/// SQS's and Lambda's errors as SNS sees them.
fn classify(err: AwsError) -> DeliveryError {
    let reason = format!("{}: {}", err.code, err.message);
    if err.status >= 500 || err.status == 429 || err.code.contains("Throttl") {
        DeliveryError::Server(reason)
    } else {
        DeliveryError::Client(reason)
    }
}

/// SendMessage's request for one SNS delivery.
fn send_message_body(message: &QueueMessage, queue_url: String) -> Value {
    let mut body = json!({ "QueueUrl": queue_url, "MessageBody": message.body });
    if !message.attributes.is_empty() {
        let attributes: Map<String, Value> = message
            .attributes
            .iter()
            .map(|(name, a)| {
                let value = match &a.binary_value {
                    Some(bytes) => json!({
                        "DataType": a.data_type,
                        "BinaryValue": base64::engine::general_purpose::STANDARD.encode(bytes),
                    }),
                    None => json!({
                        "DataType": a.data_type,
                        "StringValue": a.string_value.clone().unwrap_or_default(),
                    }),
                };
                (name.clone(), value)
            })
            .collect();
        body["MessageAttributes"] = Value::Object(attributes);
    }
    if let Some(group) = &message.group_id {
        body["MessageGroupId"] = group.clone().into();
    }
    if let Some(dedup) = &message.dedup_id {
        body["MessageDeduplicationId"] = dedup.clone().into();
    }
    body
}

/// `(context, function name, qualifier)` of a function ARN.
fn function_target(arn: &str) -> Result<(RequestContext, String, Option<String>), DeliveryError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let (region, account, name, qualifier) = match parts.as_slice() {
        [_, _, "lambda", region, account, "function", name] => (region, account, name, None),
        [_, _, "lambda", region, account, "function", name, q] => {
            (region, account, name, Some((*q).to_owned()))
        }
        _ => {
            return Err(DeliveryError::Client(format!(
                "{arn} is not a Lambda function ARN"
            )))
        }
    };
    let mut ctx = RequestContext::local(region);
    ctx.account_id = (*account).to_owned();
    ctx.request_id = nimbus_wire::request_id::next();
    Ok((ctx, (*name).to_owned(), qualifier))
}

pub fn endpoints(sqs: Sqs, lambda: Lambda) -> Endpoints {
    Endpoints {
        sqs: Arc::new(move |message: QueueMessage| {
            let sqs = sqs.clone();
            Box::pin(async move {
                let (ctx, url) = queue_target(&message.queue_arn)?;
                let body = send_message_body(&message, url);
                sqs.handle(&ctx, "SendMessage", body.to_string().as_bytes())
                    .await
                    .map(|_| ())
                    .map_err(classify)
            })
        }),
        lambda: Arc::new(move |function_arn: String, event: String| {
            let lambda = lambda.clone();
            Box::pin(async move {
                let (ctx, name, qualifier) = function_target(&function_arn)?;
                let mut headers = http::HeaderMap::new();
                headers.insert(
                    "x-amz-invocation-type",
                    http::HeaderValue::from_static("Event"),
                );
                let request = nimbus_lambda::Request {
                    method: http::Method::POST,
                    path: format!("/2015-03-31/functions/{name}/invocations"),
                    query: qualifier.map(|q| format!("Qualifier={q}")),
                    headers,
                    body: bytes::Bytes::from(event),
                };
                match nimbus_lambda::binding::handle(&lambda, &ctx, request).await {
                    Ok(reply) if (200..300).contains(&reply.status) => Ok(()),
                    Ok(reply) => Err(DeliveryError::Server(format!(
                        "Invoke answered {}",
                        reply.status
                    ))),
                    Err(e) => Err(classify(AwsError::from(e))),
                }
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_sns::MessageAttribute;

    #[test]
    fn targets() {
        let (ctx, url) = queue_target("arn:aws:sqs:eu-west-1:123456789012:jobs.fifo").unwrap();
        assert_eq!(ctx.region, "eu-west-1");
        assert_eq!(ctx.account_id, "123456789012");
        assert_eq!(url, "http://localhost/123456789012/jobs.fifo");
        assert!(matches!(
            queue_target("arn:aws:sns:us-east-1:1:t"),
            Err(DeliveryError::Client(_))
        ));
        let (_, name, q) = function_target("arn:aws:lambda:us-east-1:1:function:f:live").unwrap();
        assert_eq!((name.as_str(), q.as_deref()), ("f", Some("live")));
        assert!(function_target("arn:aws:lambda:us-east-1:1:layer:x").is_err());
    }

    #[test]
    fn send_message_requests() {
        let mut attributes = std::collections::BTreeMap::new();
        attributes.insert(
            "s".to_owned(),
            MessageAttribute::string("String.Array", "[1]"),
        );
        attributes.insert(
            "b".to_owned(),
            MessageAttribute {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(vec![2, 3, 4]),
            },
        );
        let body = send_message_body(
            &QueueMessage {
                queue_arn: "q".into(),
                body: "hi".into(),
                attributes,
                group_id: Some("g".into()),
                dedup_id: None,
            },
            "u".into(),
        );
        assert_eq!(
            body,
            json!({
                "QueueUrl": "u",
                "MessageBody": "hi",
                "MessageAttributes": {
                    "b": {"DataType": "Binary", "BinaryValue": "AgME"},
                    "s": {"DataType": "String.Array", "StringValue": "[1]"},
                },
                "MessageGroupId": "g",
            })
        );
    }

    #[test]
    fn failures_are_classified() {
        let gone = AwsError::new(400, "", "QueueDoesNotExist", "x");
        assert!(matches!(classify(gone), DeliveryError::Client(_)));
        let busy = AwsError::new(500, "", "InternalError", "x");
        assert!(matches!(classify(busy), DeliveryError::Server(_)));
        let throttled = AwsError::new(429, "", "TooManyRequestsException", "x");
        assert!(matches!(classify(throttled), DeliveryError::Server(_)));
    }
}
