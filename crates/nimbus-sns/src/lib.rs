//! SNS for nimbus: topics (standard and FIFO), subscriptions with filter
//! policies, and Publish / PublishBatch delivered durably to SQS queues,
//! Lambda functions and HTTP endpoints, over the awsQuery protocol (SNS
//! speaks no other), with operations named as AWS names them
//! (`create_topic`, `subscribe`, `publish`, ...).
//!
//! This crate knows nothing of HTTP framing: [`Sns::handle_query`] takes a
//! request's form parameters and returns the XML response or an error.
//! Other services publish in process through [`Sns::publish`].
//!
//! Durability: a Publish is acknowledged only once its message and one
//! outbox entry per matching subscription are in the store, written
//! together; the delivery worker (`delivery`) works the outbox off, retrying
//! as AWS does, and removes an entry only once its delivery succeeded or
//! went to the dead-letter queue. See `model` for the keyspaces.

pub mod arn;
pub mod catalog;
pub mod delivery;
pub mod error;
pub mod filter;
pub mod message_attrs;
pub mod model;
pub mod policy;
pub mod publish;
pub mod query;
pub mod request;
pub mod subscription_attrs;
pub mod subscriptions;
pub mod tags;
pub mod timefmt;
pub mod topic_attrs;
pub mod topics;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use nimbus_clock::Clock;
use nimbus_store::{ReadView, Store};
use nimbus_wire::{AwsError, RequestContext};
use serde_json::Value;

pub use delivery::endpoints::{DeliveryError, Endpoints, QueueMessage};
pub use error::SnsError;
pub use message_attrs::MessageAttribute;
pub use publish::{PublishInput, PublishOutput};

use crate::catalog::Catalog;
use crate::delivery::payload::Links;
use crate::error::Result;
use crate::query::Object;

/// Where notification links point before the server tells its address.
const DEFAULT_BASE_URL: &str = "http://localhost:4566";

/// The SNS service: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct Sns {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// The server's one clock: timestamps, FIFO deduplication windows and
    /// retry delays all follow it.
    clock: Clock,
    catalog: Catalog,
    outbox: delivery::Outbox,
    /// SQS and Lambda, attached by the server.
    endpoints: OnceLock<Endpoints>,
    /// The URL clients reach nimbus at, for Unsubscribe and Subscribe links.
    base_url: OnceLock<String>,
    http: delivery::http::HttpClient,
    /// The next message sequence; only ever taken inside a store write, so
    /// sequence order is commit order.
    next_message: AtomicU64,
}

impl Sns {
    /// Opens the service on `store`. Topics and subscriptions are read from
    /// the store on demand; the outbox is worked off once [`Sns::start`]
    /// runs.
    pub fn open(store: Store, clock: Clock) -> Result<Sns> {
        let next_message = delivery::last_message_seq(&store)? + 1;
        Ok(Sns {
            inner: Arc::new(Inner {
                store,
                clock,
                catalog: Catalog::default(),
                outbox: delivery::Outbox::default(),
                endpoints: OnceLock::new(),
                base_url: OnceLock::new(),
                http: delivery::http::HttpClient::default(),
                next_message: AtomicU64::new(next_message),
            }),
        })
    }

    /// Gives SNS its way into SQS and Lambda.
    pub fn attach_endpoints(&self, endpoints: Endpoints) {
        let _ = self.inner.endpoints.set(endpoints);
    }

    /// Starts the delivery worker (from inside the async runtime, once the
    /// server listens at `base_url`), which first delivers what the outbox
    /// still holds from before a restart.
    pub fn start(&self, base_url: String) {
        let _ = self
            .inner
            .base_url
            .set(base_url.trim_end_matches('/').to_owned());
        delivery::start(self.clone());
    }

    /// Runs one awsQuery request (`params`: the query string's parameters,
    /// then the body's) and returns the XML response document; errors are
    /// rendered by the caller with [`query::XMLNS`].
    pub async fn handle_query(
        &self,
        ctx: &RequestContext,
        params: &[(String, String)],
    ) -> std::result::Result<String, AwsError> {
        let req = query::parse_request(params).map_err(SnsError::into_aws)?;
        let out = self
            .dispatch(ctx, &req.action, &req.members)
            .await
            .map_err(SnsError::into_aws)?;
        Ok(query::render_response(&req.action, &out, &ctx.request_id))
    }

    /// Runs a request that came without a signature: only the links SNS
    /// puts in its messages (`SubscribeURL`, `UnsubscribeURL`), which AWS
    /// also honours unsigned. The region and account are the ARN's.
    pub async fn handle_link(
        &self,
        request_id: &str,
        params: &[(String, String)],
    ) -> std::result::Result<String, AwsError> {
        let req = query::parse_request(params).map_err(SnsError::into_aws)?;
        let arn_member = match req.action.as_str() {
            "ConfirmSubscription" => "TopicArn",
            "Unsubscribe" => "SubscriptionArn",
            _ => return Err(AwsError::missing_authentication_token()),
        };
        let arn = request::opt_str(&req.members, arn_member)
            .ok()
            .flatten()
            .unwrap_or_default();
        let parts: Vec<&str> = arn.split(':').collect();
        let mut ctx = RequestContext::local(parts.get(3).copied().unwrap_or_default());
        if let Some(account) = parts.get(4) {
            ctx.account_id = (*account).to_owned();
        }
        ctx.request_id = request_id.to_owned();
        let out = self
            .dispatch(&ctx, &req.action, &req.members)
            .await
            .map_err(SnsError::into_aws)?;
        Ok(query::render_response(&req.action, &out, request_id))
    }

    async fn dispatch(&self, ctx: &RequestContext, action: &str, req: &Object) -> Result<Value> {
        match action {
            "CreateTopic" => topics::create_topic(self, ctx, req).await,
            "DeleteTopic" => topics::delete_topic(self, ctx, req).await,
            "ListTopics" => topics::list_topics(self, ctx, req),
            "GetTopicAttributes" => topics::get_topic_attributes(self, ctx, req),
            "SetTopicAttributes" => topics::set_topic_attributes(self, ctx, req).await,
            "AddPermission" => policy::add_permission(self, ctx, req).await,
            "RemovePermission" => policy::remove_permission(self, ctx, req).await,
            "TagResource" => tags::tag_resource(self, ctx, req).await,
            "UntagResource" => tags::untag_resource(self, ctx, req).await,
            "ListTagsForResource" => tags::list_tags_for_resource(self, ctx, req),
            "Subscribe" => subscriptions::subscribe(self, ctx, req).await,
            "ConfirmSubscription" => subscriptions::confirm_subscription(self, ctx, req).await,
            "Unsubscribe" => subscriptions::unsubscribe(self, ctx, req).await,
            "ListSubscriptions" => subscriptions::list_subscriptions(self, ctx, req),
            "ListSubscriptionsByTopic" => {
                subscriptions::list_subscriptions_by_topic(self, ctx, req)
            }
            "GetSubscriptionAttributes" => {
                subscriptions::get_subscription_attributes(self, ctx, req)
            }
            "SetSubscriptionAttributes" => {
                subscriptions::set_subscription_attributes(self, ctx, req).await
            }
            "Publish" => publish::publish_action(self, ctx, req).await,
            "PublishBatch" => publish::publish_batch(self, ctx, req).await,
            other => Err(SnsError::unsupported_operation(other)),
        }
    }

    /// Deliveries waiting in the outbox (for `/_nimbus/` introspection).
    pub fn pending_deliveries(&self) -> Result<usize> {
        let snapshot = self.inner.store.snapshot()?;
        let end = model::prefix_end(model::OUTBOX_PREFIX);
        let mut count = 0usize;
        snapshot.scan(
            std::ops::Bound::Included(model::OUTBOX_PREFIX),
            std::ops::Bound::Excluded(end.as_slice()),
            false,
            &mut |_, _| {
                count += 1;
                true
            },
        )?;
        Ok(count)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub(crate) fn outbox(&self) -> &delivery::Outbox {
        &self.inner.outbox
    }

    pub(crate) fn endpoints(&self) -> Option<&Endpoints> {
        self.inner.endpoints.get()
    }

    pub(crate) fn http(&self) -> &delivery::http::HttpClient {
        &self.inner.http
    }

    pub(crate) fn next_message(&self) -> &AtomicU64 {
        &self.inner.next_message
    }

    pub(crate) fn links(&self) -> Links {
        Links {
            base_url: self
                .inner
                .base_url
                .get()
                .cloned()
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        }
    }
}
