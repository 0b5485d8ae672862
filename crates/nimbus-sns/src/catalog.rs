//! An in-memory view of topics and their subscriptions (filter policies
//! compiled), so Publish does not read and compile them on every message.
//!
//! The store stays the truth. Every change to a topic or its subscriptions
//! calls [`Catalog::invalidate`] after its write commits; a load records the
//! generation it started at and keeps its result only if no invalidation
//! happened meanwhile, so a load that read the store before a change can
//! never overwrite the view after it.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use nimbus_store::{ReadView, Store};

use crate::arn::TopicRef;
use crate::delivery::retry::{HttpRetry, RetryPolicy};
use crate::error::{Result, SnsError};
use crate::filter::{self, FilterPolicy, Origin, Scope};
use crate::model::{self, SubscriptionRecord, TopicRecord};

/// A topic and what Publish needs of its subscriptions.
#[derive(Debug)]
pub struct CachedTopic {
    pub topic: TopicRecord,
    pub subscriptions: Vec<CachedSubscription>,
}

#[derive(Debug)]
pub struct CachedSubscription {
    pub record: SubscriptionRecord,
    pub filter: Filter,
    pub retry: RetryPolicy,
}

/// Which messages a subscription takes.
#[derive(Debug)]
pub enum Filter {
    /// No filter policy: every message.
    All,
    Policy(FilterPolicy),
    /// A stored policy that no longer compiles (only if the validator
    /// changed since it was set): nothing, rather than everything.
    Nothing,
}

impl Filter {
    pub fn admits(&self, message: &crate::model::MessageRecord, protocol: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Policy(p) => p.matches(message, protocol),
            Filter::Nothing => false,
        }
    }
}

#[derive(Default)]
pub struct Catalog {
    generation: AtomicU64,
    topics: Mutex<HashMap<TopicRef, Arc<CachedTopic>>>,
}

impl Catalog {
    /// The topic with its subscriptions, or `None` if it does not exist.
    pub fn get(&self, store: &Store, t: &TopicRef) -> Result<Option<Arc<CachedTopic>>> {
        if let Some(hit) = self.lock().get(t) {
            return Ok(Some(Arc::clone(hit)));
        }
        let started = self.generation.load(Ordering::Acquire);
        let Some(loaded) = load(store, t)? else {
            return Ok(None);
        };
        let loaded = Arc::new(loaded);
        let mut topics = self.lock();
        if self.generation.load(Ordering::Acquire) == started {
            topics.insert(t.clone(), Arc::clone(&loaded));
        }
        Ok(Some(loaded))
    }

    /// Forgets `t`; called after every committed change to it.
    pub fn invalidate(&self, t: &TopicRef) {
        let mut topics = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        topics.remove(t);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TopicRef, Arc<CachedTopic>>> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub fn load_topic(view: &impl ReadView, t: &TopicRef) -> Result<Option<TopicRecord>> {
    decode(view.get(&model::topic_key(t))?)
}

pub fn decode<T: serde::de::DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>> {
    match bytes {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| SnsError::internal(format!("a stored SNS record is unreadable: {e}"))),
    }
}

/// Every subscription stored under `prefix`, in key order, optionally only
/// those of topic id `topic_id`.
pub fn scan_subscriptions(
    view: &impl ReadView,
    prefix: &[u8],
    topic_id: Option<u64>,
) -> Result<Vec<SubscriptionRecord>> {
    let end = model::prefix_end(prefix);
    let mut out = Vec::new();
    let mut bad = None;
    view.scan(
        Bound::Included(prefix),
        Bound::Excluded(end.as_slice()),
        false,
        &mut |_, value| match serde_json::from_slice::<SubscriptionRecord>(value) {
            Ok(s) => {
                if topic_id.is_none_or(|id| s.topic_id == id) {
                    out.push(s);
                }
                true
            }
            Err(e) => {
                bad = Some(e.to_string());
                false
            }
        },
    )?;
    match bad {
        Some(e) => Err(SnsError::internal(format!(
            "a stored subscription is unreadable: {e}"
        ))),
        None => Ok(out),
    }
}

fn load(store: &Store, t: &TopicRef) -> Result<Option<CachedTopic>> {
    let snapshot = store.snapshot()?;
    let Some(topic) = load_topic(&snapshot, t)? else {
        return Ok(None);
    };
    let records = scan_subscriptions(
        &snapshot,
        &model::topic_subscriptions_prefix(t),
        Some(topic.id),
    )?;
    let subscriptions = records
        .into_iter()
        .map(|record| {
            let filter = compile_filter(&record);
            let retry = retry_policy(&topic, &record);
            CachedSubscription {
                record,
                filter,
                retry,
            }
        })
        .collect();
    Ok(Some(CachedTopic {
        topic,
        subscriptions,
    }))
}

/// The stored filter policy, compiled (it was validated when set).
fn compile_filter(record: &SubscriptionRecord) -> Filter {
    let Some(text) = record.attributes.get("FilterPolicy") else {
        return Filter::All;
    };
    let scope = record
        .attributes
        .get("FilterPolicyScope")
        .and_then(|s| Scope::from_name(s))
        .unwrap_or(Scope::MessageAttributes);
    match filter::compile(text, scope, Origin::SetAttributes) {
        Ok(Some(policy)) => Filter::Policy(policy),
        Ok(None) => Filter::All,
        Err(e) => {
            tracing::error!(
                "sns: the stored filter policy of {} no longer compiles ({}); it gets no messages",
                record.arn(),
                e.message
            );
            Filter::Nothing
        }
    }
}

/// SQS and Lambda are AWS-managed endpoints; HTTP(S) follow the delivery
/// policy: the subscription's `healthyRetryPolicy`, else the topic's
/// `http.defaultHealthyRetryPolicy` (unless the topic disables overrides),
/// else SNS's default.
pub fn retry_policy(topic: &TopicRecord, sub: &SubscriptionRecord) -> RetryPolicy {
    if !matches!(sub.protocol.as_str(), "http" | "https") {
        return RetryPolicy::Managed;
    }
    let parse = |text: Option<&String>| {
        text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    };
    let topic_http = parse(topic.attributes.get("DeliveryPolicy"))
        .and_then(|p| p.get("http").cloned())
        .unwrap_or_default();
    let overrides_allowed = !topic_http
        .get("disableSubscriptionOverrides")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if overrides_allowed {
        if let Some(healthy) = parse(sub.attributes.get("DeliveryPolicy"))
            .and_then(|p| p.get("healthyRetryPolicy").cloned())
            .filter(|h| h.is_object())
        {
            return RetryPolicy::Http(HttpRetry::from_json(&healthy));
        }
    }
    match topic_http.get("defaultHealthyRetryPolicy") {
        Some(h) if h.is_object() => RetryPolicy::Http(HttpRetry::from_json(h)),
        _ => RetryPolicy::Http(HttpRetry::default()),
    }
}
