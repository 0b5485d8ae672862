//! What each kind of endpoint receives, in AWS's shapes and member order.
//!
//! - SQS and HTTP(S), not raw: the JSON envelope `Type`, `MessageId`,
//!   (`SequenceNumber` for FIFO topics), `TopicArn`, (`Subject`), `Message`,
//!   `Timestamp`, `SignatureVersion`, `Signature`, `SigningCertURL` (standard
//!   topics only: FIFO notifications are not signed), `UnsubscribeURL`, and
//!   `MessageAttributes` (`{"name": {"Type": ..., "Value": ...}}`, binary
//!   values in base64) when there are any.
//! - Raw delivery: the message itself (SQS gets the attributes as SQS
//!   message attributes).
//! - Lambda: `{"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
//!   "EventSubscriptionArn": ..., "Sns": {...}}]}`, where `Sns` spells
//!   `SigningCertUrl` and `UnsubscribeUrl`, `Subject` is null when absent and
//!   `MessageAttributes` is always present.
//!
//! Signatures: nimbus holds no AWS signing key, so `Signature` is the
//! base64 SHA-256 digest of AWS's string-to-sign, not an RSA signature; it
//! does not verify against any certificate, and `SigningCertURL` points at
//! nimbus, which serves none.

use base64::Engine;
use sha2::Digest;

use crate::model::MessageRecord;
use crate::timefmt;

/// Where the links inside notifications point (the server's own URL).
#[derive(Debug, Clone)]
pub struct Links {
    pub base_url: String,
}

impl Links {
    pub fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            self.base_url
        )
    }

    pub fn subscribe_url(&self, topic_arn: &str, token: &str) -> String {
        format!(
            "{}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
            self.base_url
        )
    }

    pub fn signing_cert_url(&self) -> String {
        format!(
            "{}/_nimbus/sns/SimpleNotificationService.pem",
            self.base_url
        )
    }
}

/// A JSON object written member by member, in the order AWS writes them.
struct Ordered {
    out: String,
}

impl Ordered {
    fn new() -> Ordered {
        Ordered {
            out: String::from("{"),
        }
    }

    fn raw(&mut self, name: &str, json: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        self.out.push_str(&quote(name));
        self.out.push(':');
        self.out.push_str(json);
    }

    fn string(&mut self, name: &str, value: &str) {
        self.raw(name, &quote(value));
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `{"name": {"Type": ..., "Value": ...}, ...}`.
fn attributes_json(message: &MessageRecord) -> String {
    let mut attrs = Ordered::new();
    for (name, a) in &message.attributes {
        let mut one = Ordered::new();
        one.string("Type", &a.data_type);
        one.string("Value", &a.display_value());
        attrs.raw(name, &one.finish());
    }
    attrs.finish()
}

/// AWS's string-to-sign of a notification: name and value lines, in order.
fn string_to_sign(message: &MessageRecord, body: &str, timestamp: &str) -> String {
    let mut s = String::new();
    let mut line = |name: &str, value: &str| {
        s.push_str(name);
        s.push('\n');
        s.push_str(value);
        s.push('\n');
    };
    line("Message", body);
    line("MessageId", &message.message_id);
    if let Some(subject) = &message.subject {
        line("Subject", subject);
    }
    line("Timestamp", timestamp);
    line("TopicArn", &message.topic_arn);
    line("Type", "Notification");
    s
}

/// The digest nimbus puts where AWS puts its signature (see module docs).
pub fn digest(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The JSON envelope SQS and HTTP(S) subscribers get.
pub fn envelope(
    message: &MessageRecord,
    protocol: &str,
    subscription_arn: &str,
    links: &Links,
) -> String {
    let body = message.message_for(protocol);
    let timestamp = timefmt::iso8601_ms(message.timestamp_ms);
    let mut o = Ordered::new();
    o.string("Type", "Notification");
    o.string("MessageId", &message.message_id);
    if let Some(seq) = &message.sequence_number {
        o.string("SequenceNumber", seq);
    }
    o.string("TopicArn", &message.topic_arn);
    if let Some(subject) = &message.subject {
        o.string("Subject", subject);
    }
    o.string("Message", body);
    o.string("Timestamp", &timestamp);
    if !message.fifo {
        o.string("SignatureVersion", &message.signature_version);
        o.string(
            "Signature",
            &digest(&string_to_sign(message, body, &timestamp)),
        );
        o.string("SigningCertURL", &links.signing_cert_url());
    }
    o.string("UnsubscribeURL", &links.unsubscribe_url(subscription_arn));
    if !message.attributes.is_empty() {
        o.raw("MessageAttributes", &attributes_json(message));
    }
    o.finish()
}

/// The event a Lambda subscriber is invoked with.
pub fn lambda_event(message: &MessageRecord, subscription_arn: &str, links: &Links) -> String {
    let body = message.message_for("lambda");
    let timestamp = timefmt::iso8601_ms(message.timestamp_ms);
    let mut sns = Ordered::new();
    sns.string("Type", "Notification");
    sns.string("MessageId", &message.message_id);
    sns.string("TopicArn", &message.topic_arn);
    match &message.subject {
        Some(subject) => sns.string("Subject", subject),
        None => sns.raw("Subject", "null"),
    }
    sns.string("Message", body);
    sns.string("Timestamp", &timestamp);
    sns.string("SignatureVersion", &message.signature_version);
    sns.string(
        "Signature",
        &digest(&string_to_sign(message, body, &timestamp)),
    );
    sns.string("SigningCertUrl", &links.signing_cert_url());
    sns.string("UnsubscribeUrl", &links.unsubscribe_url(subscription_arn));
    sns.raw("MessageAttributes", &attributes_json(message));
    let mut record = Ordered::new();
    record.string("EventSource", "aws:sns");
    record.string("EventVersion", "1.0");
    record.string("EventSubscriptionArn", subscription_arn);
    record.raw("Sns", &sns.finish());
    format!("{{\"Records\":[{}]}}", record.finish())
}

/// The SubscriptionConfirmation an HTTP(S) endpoint gets on Subscribe.
pub fn subscription_confirmation(
    message_id: &str,
    topic_arn: &str,
    token: &str,
    timestamp_ms: u64,
    links: &Links,
) -> String {
    let text = format!(
        "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
    );
    let timestamp = timefmt::iso8601_ms(timestamp_ms);
    let subscribe_url = links.subscribe_url(topic_arn, token);
    let to_sign = format!(
        "Message\n{text}\nMessageId\n{message_id}\nSubscribeURL\n{subscribe_url}\nTimestamp\n{timestamp}\nToken\n{token}\nTopicArn\n{topic_arn}\nType\nSubscriptionConfirmation\n"
    );
    let mut o = Ordered::new();
    o.string("Type", "SubscriptionConfirmation");
    o.string("MessageId", message_id);
    o.string("Token", token);
    o.string("TopicArn", topic_arn);
    o.string("Message", &text);
    o.string("SubscribeURL", &subscribe_url);
    o.string("Timestamp", &timestamp);
    o.string("SignatureVersion", "1");
    o.string("Signature", &digest(&to_sign));
    o.string("SigningCertURL", &links.signing_cert_url());
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message_attrs::MessageAttribute;
    use serde_json::Value;

    fn links() -> Links {
        Links {
            base_url: "http://127.0.0.1:4566".into(),
        }
    }

    fn message(fifo: bool) -> MessageRecord {
        let mut m = MessageRecord::sample("hello \"world\"");
        m.attributes
            .insert("n".to_owned(), MessageAttribute::string("Number", "1.5"));
        m.attributes.insert(
            "b".to_owned(),
            MessageAttribute {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(vec![2, 3, 4]),
            },
        );
        m.subject = Some("subj".into());
        m.timestamp_ms = 1_700_000_000_123;
        m.fifo = fifo;
        m.sequence_number = fifo.then(|| "00000000000000000001".to_owned());
        m
    }

    #[test]
    fn envelope_members_in_aws_order() {
        let sub = "arn:aws:sns:us-east-1:000000000000:t:s1";
        let text = envelope(&message(false), "sqs", sub, &links());
        let names: Vec<&str> = text
            .match_indices("\":")
            .map(|(i, _)| {
                let start = text[..i].rfind('"').unwrap() + 1;
                &text[start..i]
            })
            .collect();
        assert_eq!(
            &names[..10],
            &[
                "Type",
                "MessageId",
                "TopicArn",
                "Subject",
                "Message",
                "Timestamp",
                "SignatureVersion",
                "Signature",
                "SigningCertURL",
                "UnsubscribeURL"
            ]
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["Message"], "hello \"world\"");
        assert_eq!(v["Timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(
            v["UnsubscribeURL"],
            format!("http://127.0.0.1:4566/?Action=Unsubscribe&SubscriptionArn={sub}")
        );
        assert_eq!(v["MessageAttributes"]["b"]["Value"], "AgME");
        assert_eq!(v["MessageAttributes"]["n"]["Type"], "Number");
        let fifo: Value =
            serde_json::from_str(&envelope(&message(true), "sqs", sub, &links())).unwrap();
        assert_eq!(fifo["SequenceNumber"], "00000000000000000001");
        assert!(fifo.get("Signature").is_none());
    }

    #[test]
    fn lambda_event_shape() {
        let mut m = message(false);
        m.subject = None;
        let v: Value = serde_json::from_str(&lambda_event(&m, "arn:sub", &links())).unwrap();
        let r = &v["Records"][0];
        assert_eq!(r["EventSource"], "aws:sns");
        assert_eq!(r["EventVersion"], "1.0");
        assert_eq!(r["EventSubscriptionArn"], "arn:sub");
        assert_eq!(r["Sns"]["Subject"], Value::Null);
        assert_eq!(r["Sns"]["MessageAttributes"]["n"]["Value"], "1.5");
        assert!(r["Sns"]["SigningCertUrl"].is_string());
        assert!(r["Sns"]["UnsubscribeUrl"].is_string());
    }

    #[test]
    fn confirmation_shape() {
        let v: Value =
            serde_json::from_str(&subscription_confirmation("m", "arn:t", "tok", 0, &links()))
                .unwrap();
        assert_eq!(v["Type"], "SubscriptionConfirmation");
        assert_eq!(
            v["SubscribeURL"],
            "http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn=arn:t&Token=tok"
        );
        assert!(v["Message"]
            .as_str()
            .unwrap()
            .starts_with("You have chosen to subscribe to the topic arn:t."));
    }
}
