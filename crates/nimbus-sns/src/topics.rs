//! Topics: CreateTopic (idempotent by name), DeleteTopic, ListTopics,
//! GetTopicAttributes and SetTopicAttributes.
//!
//! Names (SNS API reference, CreateTopic): 1 to 256 ASCII letters, digits,
//! hyphens and underscores; a FIFO topic's name ends in `.fifo` (counted in
//! the 256) and is created with the attribute FifoTopic=true.

use std::ops::Bound;

use base64::Engine;
use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde_json::{json, Map, Value};

use crate::arn::{self, TopicRef};
use crate::catalog::{self, load_topic};
use crate::error::{Result, SnsError};
use crate::model::{self, TopicRecord};
use crate::query::Object;
use crate::request;
use crate::tags;
use crate::topic_attrs::{self, Origin};
use crate::Sns;

/// Topics per ListTopics page.
pub const PAGE_SIZE: usize = 100;
const MAX_NAME: usize = 256;

/// The topic a request's `TopicArn` names, in the caller's region: SNS
/// answers "Invalid parameter: TopicArn" for a topic of another region.
pub fn resolve_topic_arn(ctx: &RequestContext, topic_arn: &str) -> Result<TopicRef> {
    let t = arn::parse_topic("TopicArn", topic_arn)?;
    if t.region != ctx.region {
        return Err(SnsError::invalid_parameter("Invalid parameter: TopicArn"));
    }
    Ok(t)
}

fn valid_name_chars(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_name(name: &str, fifo: bool) -> Result<()> {
    if fifo {
        let ok = name.len() <= MAX_NAME && name.strip_suffix(".fifo").is_some_and(valid_name_chars);
        if !ok {
            return Err(SnsError::invalid_parameter(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
            ));
        }
    } else if name.len() > MAX_NAME || !valid_name_chars(name) {
        return Err(SnsError::invalid_parameter("Invalid parameter: Topic Name"));
    }
    Ok(())
}

pub async fn create_topic(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::req_str(req, "Name")?.to_owned();
    let mut attributes = request::str_map(req, "Attributes")?;
    if let Some(policy) = request::opt_str(req, "DataProtectionPolicy")? {
        attributes.push(("DataProtectionPolicy".into(), policy.to_owned()));
    }
    let fifo = match attributes.iter().find(|(k, _)| k == "FifoTopic") {
        None => false,
        Some((_, v)) if v.eq_ignore_ascii_case("true") => true,
        Some((_, v)) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(SnsError::invalid_parameter(
                "Invalid parameter: Attributes Reason: FifoTopic",
            ))
        }
    };
    check_name(&name, fifo)?;
    let mut checked = std::collections::BTreeMap::new();
    for (attr, value) in attributes.iter().filter(|(k, _)| k != "FifoTopic") {
        if let Some(v) = topic_attrs::check(attr, value, fifo, Origin::Create)? {
            checked.insert(attr.clone(), v);
        }
    }
    let new_tags = tags::parse_tags(req, "Tags")?;

    let t = TopicRef {
        region: ctx.region.clone(),
        account: ctx.account_id.clone(),
        name,
    };
    let key = model::topic_key(&t);
    let now = sns.now_ms();
    let topic_ref = t.clone();
    let created = sns
        .store()
        .write(move |txn| {
            if let Some(existing) = load_topic(txn, &topic_ref)? {
                let differs = existing.fifo != fifo
                    || checked
                        .iter()
                        .any(|(k, v)| existing.attributes.get(k) != Some(v));
                if differs {
                    return Err(SnsError::invalid_parameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                    ));
                }
                if new_tags
                    .iter()
                    .any(|(k, v)| existing.tags.get(k) != Some(v))
                {
                    return Err(SnsError::invalid_parameter(
                        "Invalid parameter: Tags Reason: Topic already exists with different tags",
                    ));
                }
                return Ok(false);
            }
            let id = model::read_u64(txn.get(model::NEXT_TOPIC_ID_KEY)?) + 1;
            txn.put(model::NEXT_TOPIC_ID_KEY, &id.to_be_bytes());
            let record = TopicRecord {
                id,
                name: topic_ref.name.clone(),
                account: topic_ref.account.clone(),
                region: topic_ref.region.clone(),
                created_ms: now,
                attributes: checked,
                fifo,
                tags: new_tags.into_iter().collect(),
            };
            txn.put(&key, &model::to_json(&record));
            Ok(true)
        })
        .await?;
    if created {
        sns.catalog().invalidate(&t);
    }
    Ok(json!({ "TopicArn": t.arn() }))
}

pub async fn delete_topic(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let topic_ref = t.clone();
    sns.store()
        .write(move |txn| {
            let Some(topic) = load_topic(txn, &topic_ref)? else {
                // Deleting a topic that does not exist succeeds.
                return Ok::<_, SnsError>(());
            };
            let subs = catalog::scan_subscriptions(
                txn,
                &model::topic_subscriptions_prefix(&topic_ref),
                None,
            )?;
            for s in subs {
                txn.delete(&model::subscription_key(&topic_ref, &s.id));
                if let Some(token) = &s.token {
                    txn.delete(&model::token_key(token));
                }
            }
            for prefix in [
                model::dedup_prefix(topic.id),
                model::dedup_expiry_prefix(topic.id),
            ] {
                let end = model::prefix_end(&prefix);
                txn.delete_range(Bound::Included(&prefix), Bound::Excluded(&end))?;
            }
            txn.delete(&model::topic_key(&topic_ref));
            Ok(())
        })
        .await?;
    sns.catalog().invalidate(&t);
    Ok(json!({}))
}

/// An opaque page token: the base64 of the first name on the next page.
pub fn page_token(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(name)
}

pub fn read_page_token(token: Option<&str>) -> Result<Option<String>> {
    match token {
        None | Some("") => Ok(None),
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| SnsError::invalid_parameter("Invalid parameter: NextToken")),
    }
}

pub fn list_topics(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let after = read_page_token(request::opt_str(req, "NextToken")?)?;
    let prefix = model::topics_prefix(&ctx.account_id, &ctx.region);
    let start = match &after {
        Some(name) => {
            let mut k = prefix.clone();
            k.extend_from_slice(name.as_bytes());
            k
        }
        None => prefix.clone(),
    };
    let end = model::prefix_end(&prefix);
    let snapshot = sns.store().snapshot()?;
    let mut names = Vec::new();
    snapshot.scan(
        Bound::Included(start.as_slice()),
        Bound::Excluded(end.as_slice()),
        false,
        &mut |key, _| {
            names.push(String::from_utf8_lossy(&key[prefix.len()..]).into_owned());
            names.len() <= PAGE_SIZE
        },
    )?;
    let next = (names.len() > PAGE_SIZE).then(|| page_token(&names[PAGE_SIZE]));
    names.truncate(PAGE_SIZE);
    let topics: Vec<Value> = names
        .iter()
        .map(|n| json!({ "TopicArn": arn::topic_arn(&ctx.region, &ctx.account_id, n) }))
        .collect();
    let mut out = Map::new();
    out.insert("Topics".into(), Value::Array(topics));
    if let Some(token) = next {
        out.insert("NextToken".into(), Value::String(token));
    }
    Ok(Value::Object(out))
}

pub fn get_topic_attributes(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let snapshot = sns.store().snapshot()?;
    let topic = load_topic(&snapshot, &t)?.ok_or_else(SnsError::topic_not_found)?;
    let subs = catalog::scan_subscriptions(
        &snapshot,
        &model::topic_subscriptions_prefix(&t),
        Some(topic.id),
    )?;
    let pending = subs.iter().filter(|s| s.pending).count();
    let attributes = topic_attrs::render(&topic, subs.len() - pending, pending);
    Ok(json!({ "Attributes": attributes }))
}

pub async fn set_topic_attributes(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let name = request::req_str(req, "AttributeName")?.to_owned();
    let value = request::opt_str(req, "AttributeValue")?
        .unwrap_or_default()
        .to_owned();
    update_topic(sns, &t, move |topic| {
        match topic_attrs::check(&name, &value, topic.fifo, Origin::Set)? {
            Some(v) => topic.attributes.insert(name, v),
            None => topic.attributes.remove(&name),
        };
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// Changes a topic in one store write, against the topic as it is then
/// (NotFound if it is gone), and refreshes the catalog.
pub async fn update_topic(
    sns: &Sns,
    t: &TopicRef,
    change: impl FnOnce(&mut TopicRecord) -> Result<()> + Send + 'static,
) -> Result<TopicRecord> {
    let topic_ref = t.clone();
    let updated = sns
        .store()
        .write(move |txn| {
            let mut topic = load_topic(txn, &topic_ref)?.ok_or_else(SnsError::topic_not_found)?;
            change(&mut topic)?;
            txn.put(&model::topic_key(&topic_ref), &model::to_json(&topic));
            Ok::<_, SnsError>(topic)
        })
        .await?;
    sns.catalog().invalidate(t);
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("orders_v2-x", false).is_ok());
        assert!(check_name(&"a".repeat(256), false).is_ok());
        assert_eq!(
            check_name(&"a".repeat(257), false).unwrap_err().message,
            "Invalid parameter: Topic Name"
        );
        for bad in ["", "a:b", "a;b", "a b", "a.fifo"] {
            assert!(check_name(bad, false).is_err(), "{bad:?}");
        }
        assert!(check_name("orders.fifo", true).is_ok());
        assert!(check_name("orders", true).is_err());
        assert!(check_name(".fifo", true).is_err());
        assert!(check_name(&format!("{}.fifo", "a".repeat(252)), true).is_err());
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(
            read_page_token(Some(&page_token("t-1"))).unwrap(),
            Some("t-1".to_owned())
        );
        assert_eq!(read_page_token(None).unwrap(), None);
        assert!(read_page_token(Some("%%")).is_err());
    }
}
