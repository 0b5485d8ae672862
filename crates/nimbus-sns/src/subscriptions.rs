//! Subscriptions: Subscribe (idempotent per topic, protocol and endpoint),
//! ConfirmSubscription, Unsubscribe, ListSubscriptions,
//! ListSubscriptionsByTopic, GetSubscriptionAttributes and
//! SetSubscriptionAttributes.
//!
//! Protocols: `sqs` and `lambda` are confirmed at once and delivered to in
//! process; `http` endpoints get AWS's SubscriptionConfirmation POST and
//! receive nothing until ConfirmSubscription (signed, or the unsigned
//! SubscribeURL). `https` (nimbus ships no TLS client), `email`,
//! `email-json`, `sms`, `application` and `firehose` are refused with an
//! InvalidParameter that says so, rather than accepted and never delivered.

use std::collections::BTreeMap;
use std::ops::Bound;

use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};

use crate::arn::{self, BadSubscriptionArn, SubscriptionRef};
use crate::catalog::{self, decode, load_topic};
use crate::delivery::http::Post;
use crate::delivery::payload;
use crate::error::{Result, SnsError};
use crate::filter::{self, Scope};
use crate::model::{self, SubscriptionRecord};
use crate::query::Object;
use crate::request;
use crate::subscription_attrs::{self, Context};
use crate::topic_attrs;
use crate::topics::{self, resolve_topic_arn};
use crate::Sns;

/// Subscriptions per List page.
pub const PAGE_SIZE: usize = 100;

/// Every protocol SNS knows (anything else: "does not support this
/// protocol string").
const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// Checks the protocol and endpoint of a Subscribe.
fn check_endpoint(protocol: &str, endpoint: &str, topic_fifo: bool) -> Result<()> {
    let invalid = |m: String| Err(SnsError::invalid_parameter(m));
    if !PROTOCOLS.contains(&protocol) {
        return invalid(format!(
            "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
        ));
    }
    match protocol {
        "sqs" => {
            let Some((_, _, queue)) = arn::parse_queue(endpoint) else {
                return invalid("Invalid parameter: SQS endpoint ARN".into());
            };
            if queue.ends_with(".fifo") && !topic_fifo {
                return invalid(
                    "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
                        .into(),
                );
            }
            Ok(())
        }
        "lambda" | "http" if topic_fifo => invalid(format!(
            "Invalid parameter: Endpoint Reason: FIFO topics deliver only to SQS queues, not to {protocol} endpoints"
        )),
        "lambda" if !arn::is_function(endpoint) => {
            invalid("Invalid parameter: Lambda endpoint ARN".into())
        }
        "lambda" => Ok(()),
        "http" | "https" if !endpoint.starts_with(&format!("{protocol}://")) => {
            invalid("Invalid parameter: Endpoint must match the specified protocol".into())
        }
        "http" => Ok(()),
        "https" => invalid(
            "Invalid parameter: Endpoint Reason: nimbus delivers to http endpoints but not https (it has no TLS client); subscribe an http:// URL"
                .into(),
        ),
        other => invalid(format!(
            "Invalid parameter: Protocol Reason: nimbus does not deliver to {other} endpoints; it delivers to sqs, lambda and http"
        )),
    }
}

pub async fn subscribe(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let protocol = request::req_str(req, "Protocol")?.to_owned();
    let endpoint = request::opt_str(req, "Endpoint")?
        .unwrap_or_default()
        .to_owned();
    let return_arn = request::opt_bool(req, "ReturnSubscriptionArn")?.unwrap_or(false);
    let topic = sns
        .catalog()
        .get(sns.store(), &t)?
        .ok_or_else(SnsError::topic_not_found)?;
    let topic_fifo = topic.topic.fifo;
    check_endpoint(&protocol, &endpoint, topic_fifo)?;

    let given = request::str_map(req, "Attributes")?;
    let origin = filter::Origin::Subscribe;
    let scope = match given.iter().find(|(k, _)| k == "FilterPolicyScope") {
        None => Scope::MessageAttributes,
        Some((_, v)) => Scope::from_name(v).ok_or_else(|| {
            SnsError::invalid_parameter(format!(
                "{}FilterPolicyScope: Invalid value [{v}]. Please use either MessageBody or MessageAttributes",
                origin.prefix()
            ))
        })?,
    };
    let cx = Context {
        protocol: &protocol,
        endpoint: &endpoint,
        topic_fifo,
        scope,
        origin,
    };
    // Each attribute as it would be stored; `None` when it clears.
    let mut attributes: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (name, value) in &given {
        let checked = subscription_attrs::check(name, value, &cx)?;
        attributes.insert(name.clone(), checked);
    }

    let pending = protocol == "http";
    let token = pending.then(new_token);
    let record = SubscriptionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        topic_id: topic.topic.id,
        topic_name: t.name.clone(),
        account: t.account.clone(),
        region: t.region.clone(),
        protocol: protocol.clone(),
        endpoint: endpoint.clone(),
        owner: ctx.account_id.clone(),
        pending,
        confirmation_authenticated: !pending,
        token: token.clone(),
        created_ms: sns.now_ms(),
        attributes: attributes
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect(),
    };
    let topic_ref = t.clone();
    let topic_id = topic.topic.id;
    let new_record = record.clone();
    let outcome = sns
        .store()
        .write(move |txn| {
            if load_topic(txn, &topic_ref)?.is_none_or(|tp| tp.id != topic_id) {
                return Err(SnsError::topic_not_found());
            }
            let existing = catalog::scan_subscriptions(
                txn,
                &model::topic_subscriptions_prefix(&topic_ref),
                Some(topic_id),
            )?
            .into_iter()
            .find(|s| s.protocol == new_record.protocol && s.endpoint == new_record.endpoint);
            if let Some(existing) = existing {
                let differs = attributes.iter().any(|(name, value)| {
                    if name == "RawMessageDelivery" {
                        existing.raw() != (value.as_deref() == Some("true"))
                    } else {
                        existing.attributes.get(name) != value.as_ref()
                    }
                });
                if differs {
                    return Err(SnsError::invalid_parameter(
                        "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                    ));
                }
                return Ok(existing);
            }
            txn.put(
                &model::subscription_key(&topic_ref, &new_record.id),
                &model::to_json(&new_record),
            );
            if let Some(token) = &new_record.token {
                txn.put(&model::token_key(token), new_record.arn().as_bytes());
            }
            Ok::<_, SnsError>(new_record)
        })
        .await?;
    sns.catalog().invalidate(&t);
    // A pending subscription gets its confirmation again when subscribed
    // again (the endpoint may not have been listening the first time).
    if outcome.pending {
        if let Some(token) = &outcome.token {
            send_confirmation(sns, &outcome, token);
        }
    }
    let arn = if outcome.pending && !return_arn {
        "pending confirmation".to_owned()
    } else {
        outcome.arn()
    };
    Ok(json!({ "SubscriptionArn": arn }))
}

/// A confirmation token: 64 random bytes in hex.
fn new_token() -> String {
    format!(
        "{}{}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// POSTs the SubscriptionConfirmation to a new HTTP subscription's
/// endpoint, in the background (Subscribe does not wait for it).
fn send_confirmation(sns: &Sns, sub: &SubscriptionRecord, token: &str) {
    let message_id = uuid::Uuid::new_v4().to_string();
    let topic_arn = sub.topic_arn();
    let body = payload::subscription_confirmation(
        &message_id,
        &topic_arn,
        token,
        sns.now_ms(),
        &sns.links(),
    );
    let post = Post {
        url: sub.endpoint.clone(),
        content_type: "text/plain; charset=UTF-8".into(),
        headers: vec![
            ("x-amz-sns-message-type", "SubscriptionConfirmation".into()),
            ("x-amz-sns-message-id", message_id),
            ("x-amz-sns-topic-arn", topic_arn),
        ],
        body,
    };
    let http = sns.http().clone();
    tokio::spawn(async move {
        if let Err(e) = http.post(post).await {
            tracing::info!(
                "sns: the subscription confirmation was not delivered: {}",
                e.reason()
            );
        }
    });
}

pub async fn confirm_subscription(sns: &Sns, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let topic_arn = request::req_str(req, "TopicArn")?.to_owned();
    let token = request::req_str(req, "Token")?.to_owned();
    let authenticated =
        request::opt_str(req, "AuthenticateOnUnsubscribe")?.is_some_and(|v| v == "true");
    if arn::parse_topic("TopicArn", &topic_arn).is_err() {
        return Err(SnsError::invalid_parameter("Invalid parameter: Topic"));
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SnsError::invalid_parameter("Invalid token"));
    }
    let confirmed = sns
        .store()
        .write(move |txn| {
            let arn_bytes = txn
                .get(&model::token_key(&token))?
                .ok_or_else(|| SnsError::invalid_parameter("Invalid parameter: Token"))?;
            let sub_arn = String::from_utf8_lossy(&arn_bytes).into_owned();
            let Ok(r) = arn::parse_subscription(&sub_arn) else {
                return Err(SnsError::invalid_parameter("Invalid parameter: Token"));
            };
            if r.topic.arn() != topic_arn {
                return Err(SnsError::invalid_parameter("Invalid parameter: Topic"));
            }
            let key = model::subscription_key(&r.topic, &r.id);
            let mut sub: SubscriptionRecord = decode(txn.get(&key)?)?
                .ok_or_else(|| SnsError::invalid_parameter("Invalid parameter: Token"))?;
            if sub.pending {
                sub.pending = false;
                sub.confirmation_authenticated = authenticated;
                txn.put(&key, &model::to_json(&sub));
            }
            Ok::<_, SnsError>(sub)
        })
        .await?;
    sns.catalog().invalidate(&confirmed.topic_ref());
    Ok(json!({ "SubscriptionArn": confirmed.arn() }))
}

/// The subscription an ARN names, or the error SNS gives for it.
fn subscription_ref(arn_text: &str) -> Result<Option<SubscriptionRef>> {
    match arn::parse_subscription(arn_text) {
        Ok(r) => Ok(Some(r)),
        Err(BadSubscriptionArn::Invalid(e)) => Err(e),
        Err(BadSubscriptionArn::Unknown) => Ok(None),
    }
}

/// The subscription a request's `SubscriptionArn` names; NotFound when it
/// cannot be one.
fn existing_ref(req: &Object) -> Result<SubscriptionRef> {
    subscription_ref(request::req_str(req, "SubscriptionArn")?)?
        .ok_or_else(SnsError::subscription_not_found)
}

pub async fn unsubscribe(sns: &Sns, _ctx: &RequestContext, req: &Object) -> Result<Value> {
    let arn_text = request::opt_str(req, "SubscriptionArn")?.unwrap_or_default();
    if arn_text.is_empty() {
        return Err(SnsError::invalid_parameter(
            "Invalid parameter: SubscriptionArn Reason: no value for required parameter",
        ));
    }
    // Unsubscribing what does not exist succeeds.
    let Some(r) = subscription_ref(arn_text)? else {
        return Ok(json!({}));
    };
    let key = model::subscription_key(&r.topic, &r.id);
    sns.store()
        .write(move |txn| {
            if let Some(sub) = decode::<SubscriptionRecord>(txn.get(&key)?)? {
                if let Some(token) = &sub.token {
                    txn.delete(&model::token_key(token));
                }
                txn.delete(&key);
            }
            Ok::<_, SnsError>(())
        })
        .await?;
    sns.catalog().invalidate(&r.topic);
    Ok(json!({}))
}

fn summary(s: &SubscriptionRecord) -> Value {
    json!({
        "SubscriptionArn": if s.pending { "PendingConfirmation".to_owned() } else { s.arn() },
        "Owner": s.owner,
        "Protocol": s.protocol,
        "Endpoint": s.endpoint,
        "TopicArn": s.topic_arn(),
    })
}

/// One page of the subscriptions under `prefix`, 100 at a time; the page
/// token names the key after `prefix` where the next page starts.
fn page(
    view: &impl ReadView,
    prefix: &[u8],
    topic_id: Option<u64>,
    token: Option<&str>,
) -> Result<Value> {
    let after = topics::read_page_token(token)?;
    let mut start = prefix.to_vec();
    if let Some(rest) = &after {
        start.extend_from_slice(rest.as_bytes());
    }
    let end = model::prefix_end(prefix);
    let mut subs: Vec<(Vec<u8>, SubscriptionRecord)> = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(start.as_slice()),
        Bound::Excluded(end.as_slice()),
        false,
        &mut |key, value| match serde_json::from_slice::<SubscriptionRecord>(value) {
            Ok(s) => {
                if topic_id.is_none_or(|id| id == s.topic_id) {
                    subs.push((key[prefix.len()..].to_vec(), s));
                }
                subs.len() <= PAGE_SIZE
            }
            Err(e) => {
                bad = Some(e.to_string());
                false
            }
        },
    )?;
    if let Some(e) = bad {
        return Err(SnsError::internal(format!(
            "a stored subscription is unreadable: {e}"
        )));
    }
    let next = (subs.len() > PAGE_SIZE)
        .then(|| topics::page_token(&String::from_utf8_lossy(&subs[PAGE_SIZE].0)));
    subs.truncate(PAGE_SIZE);
    let mut out = Map::new();
    out.insert(
        "Subscriptions".into(),
        Value::Array(subs.iter().map(|(_, s)| summary(s)).collect()),
    );
    if let Some(token) = next {
        out.insert("NextToken".into(), Value::String(token));
    }
    Ok(Value::Object(out))
}

pub fn list_subscriptions(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let snapshot = sns.store().snapshot()?;
    page(
        &snapshot,
        &model::subscriptions_prefix(&ctx.account_id, &ctx.region),
        None,
        request::opt_str(req, "NextToken")?,
    )
}

pub fn list_subscriptions_by_topic(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let snapshot = sns.store().snapshot()?;
    let topic = load_topic(&snapshot, &t)?.ok_or_else(SnsError::topic_not_found)?;
    page(
        &snapshot,
        &model::topic_subscriptions_prefix(&t),
        Some(topic.id),
        request::opt_str(req, "NextToken")?,
    )
}

pub fn get_subscription_attributes(
    sns: &Sns,
    _ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let r = existing_ref(req)?;
    let snapshot = sns.store().snapshot()?;
    let sub: SubscriptionRecord = decode(snapshot.get(&model::subscription_key(&r.topic, &r.id))?)?
        .ok_or_else(SnsError::subscription_not_found)?;
    let effective = if sub.protocol == "http" {
        let topic = load_topic(&snapshot, &r.topic)?;
        Some(effective_subscription_policy(
            &sub,
            topic
                .as_ref()
                .and_then(|t| t.attributes.get("DeliveryPolicy")),
        ))
    } else {
        None
    };
    Ok(json!({ "Attributes": subscription_attrs::render(&sub, effective) }))
}

/// An HTTP subscription's delivery policy with the topic's (or SNS's)
/// defaults for what it does not set.
fn effective_subscription_policy(
    sub: &SubscriptionRecord,
    topic_policy: Option<&String>,
) -> String {
    let topic: Value = serde_json::from_str(&topic_attrs::effective_delivery_policy(
        topic_policy.map(String::as_str),
    ))
    .unwrap_or_default();
    let own: Value = sub
        .attributes
        .get("DeliveryPolicy")
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let pick = |own_name: &str, topic_name: &str| {
        own.get(own_name)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| topic["http"][topic_name].clone())
    };
    json!({
        "healthyRetryPolicy": pick("healthyRetryPolicy", "defaultHealthyRetryPolicy"),
        "sicklyRetryPolicy": own.get("sicklyRetryPolicy").cloned().unwrap_or(Value::Null),
        "throttlePolicy": own.get("throttlePolicy").cloned().unwrap_or(Value::Null),
        "requestPolicy": pick("requestPolicy", "defaultRequestPolicy"),
        "guaranteed": false,
    })
    .to_string()
}

pub async fn set_subscription_attributes(
    sns: &Sns,
    _ctx: &RequestContext,
    req: &Object,
) -> Result<Value> {
    let r = existing_ref(req)?;
    let name = request::req_str(req, "AttributeName")?.to_owned();
    let value = request::opt_str(req, "AttributeValue")?
        .unwrap_or_default()
        .to_owned();
    let topic_ref = r.topic.clone();
    sns.store()
        .write(move |txn| {
            let key = model::subscription_key(&r.topic, &r.id);
            let mut sub: SubscriptionRecord =
                decode(txn.get(&key)?)?.ok_or_else(SnsError::subscription_not_found)?;
            let topic_fifo = load_topic(txn, &r.topic)?.is_some_and(|t| t.fifo);
            let stored_scope = sub
                .attributes
                .get("FilterPolicyScope")
                .and_then(|s| Scope::from_name(s))
                .unwrap_or(Scope::MessageAttributes);
            let scope = if name == "FilterPolicyScope" {
                Scope::from_name(&value).unwrap_or(stored_scope)
            } else {
                stored_scope
            };
            let cx = Context {
                protocol: &sub.protocol,
                endpoint: &sub.endpoint,
                topic_fifo,
                scope,
                origin: filter::Origin::SetAttributes,
            };
            let checked = subscription_attrs::check(&name, &value, &cx)?;
            // A new scope must suit the policy already set.
            if name == "FilterPolicyScope" {
                if let Some(policy) = sub.attributes.get("FilterPolicy") {
                    filter::compile(policy, scope, filter::Origin::SetAttributes)?;
                }
            }
            match checked {
                Some(v) => sub.attributes.insert(name, v),
                None => sub.attributes.remove(&name),
            };
            txn.put(&key, &model::to_json(&sub));
            Ok::<_, SnsError>(())
        })
        .await?;
    sns.catalog().invalidate(&topic_ref);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_by_protocol() {
        let q = "arn:aws:sqs:us-east-1:000000000000:q";
        assert!(check_endpoint("sqs", q, false).is_ok());
        assert!(check_endpoint("sqs", q, true).is_ok());
        assert_eq!(
            check_endpoint("sqs", "http://localhost/000000000000/q", false)
                .unwrap_err()
                .message,
            "Invalid parameter: SQS endpoint ARN"
        );
        assert_eq!(
            check_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q.fifo", false)
                .unwrap_err()
                .message,
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
        );
        assert_eq!(
            check_endpoint("test-protocol", "x", false)
                .unwrap_err()
                .message,
            "Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"
        );
        assert!(check_endpoint("lambda", "arn:aws:lambda:us-east-1:1:function:f", false).is_ok());
        assert!(check_endpoint("lambda", "arn:aws:lambda:us-east-1:1:function:f", true).is_err());
        assert!(check_endpoint("http", "http://127.0.0.1:9/x", false).is_ok());
        assert!(check_endpoint("http", "https://x", false).is_err());
        assert!(check_endpoint("https", "https://x", false)
            .unwrap_err()
            .message
            .contains("no TLS client"));
        for p in ["email", "email-json", "sms", "application", "firehose"] {
            let e = check_endpoint(p, "x", false).unwrap_err();
            assert_eq!(e.code, "InvalidParameter");
            assert!(e
                .message
                .contains(&format!("does not deliver to {p} endpoints")));
        }
    }

    #[test]
    fn tokens_are_hex() {
        let t = new_token();
        assert_eq!(t.len(), 128);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
