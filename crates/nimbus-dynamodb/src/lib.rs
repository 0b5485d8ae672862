//! DynamoDB for nimbus: the data model, the expression language, and the
//! operations, named as AWS names them (`put_item`, `query`, ...).
//!
//! This crate knows nothing of HTTP. [`DynamoDb::handle`] takes an operation
//! name and the awsJson request body and returns the response body or an error.

pub mod backfill;
mod background;
pub mod backup;
pub mod capacity;
pub mod catalog;
pub mod codec;
pub mod error;
pub mod expr;
pub mod index;
pub mod keys;
pub mod layout;
pub mod legacy;
pub mod model;
pub mod ops;
pub mod partiql;
pub mod request;
pub mod streams;
pub mod ttl;

use std::ops::Bound;
use std::sync::Arc;

use nimbus_clock::Clock;
use nimbus_store::{ReadView, Store};
use nimbus_wire::{AwsError, RequestContext};

use crate::catalog::{Catalog, Table, TableDef};
use crate::error::DynamoError;

/// Who is calling: operations read the account and region from it.
pub type Caller = RequestContext;

/// Settings a user may change.
#[derive(Debug, Clone)]
pub struct DynamoConfig {
    /// Region used when a request names none.
    pub default_region: String,
    /// How long a stream shard stays open before the next record opens a
    /// new one (AWS: about four hours); zero never rolls.
    pub stream_shard_rollover: std::time::Duration,
    /// Most items one store write of a GSI backfill covers.
    pub index_backfill_batch: usize,
}

impl DynamoConfig {
    /// AWS's behaviour in `default_region`.
    pub fn new(default_region: &str) -> DynamoConfig {
        DynamoConfig {
            default_region: default_region.to_owned(),
            stream_shard_rollover: std::time::Duration::from_millis(
                streams::shards::DEFAULT_ROLLOVER_MS,
            ),
            index_backfill_batch: 256,
        }
    }
}

/// The DynamoDB service: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct DynamoDb {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub(crate) store: Store,
    /// The server's one clock: creation times, token windows and TTL
    /// expiry read it, never `SystemTime`.
    pub(crate) clock: Clock,
    pub(crate) catalog: Catalog,
    /// Every DynamoDB stream, enabled or disabled, by ARN.
    pub(crate) streams: streams::Streams,
    /// Backups and the restores in progress.
    pub(crate) backups: backup::Backups,
    /// Wakes the worker of online index operations (see `backfill`).
    pub(crate) index_jobs: Arc<tokio::sync::Notify>,
    /// Most items one backfill write covers.
    pub(crate) backfill_batch: usize,
}

impl std::ops::Deref for DynamoDb {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

/// An operation's response body: a JSON value, or bytes already encoded
/// (reads splice stored item JSON into the response without re-encoding).
pub enum Output {
    Json(serde_json::Value),
    Bytes(Vec<u8>),
}

impl From<serde_json::Value> for Output {
    fn from(v: serde_json::Value) -> Self {
        Output::Json(v)
    }
}

impl DynamoDb {
    /// Opens the service on `store`, loading every table definition once.
    pub fn open(store: Store, config: DynamoConfig, clock: Clock) -> Result<DynamoDb, AwsError> {
        let catalog = Catalog::default();
        let snapshot = store
            .snapshot()
            .map_err(|e| DynamoError::from(e).into_aws())?;
        let prefix = [layout::TABLE_TAG];
        let end = layout::prefix_end(&prefix);
        let mut bad = None;
        // Tables still being restored stay out of the catalog until their
        // restore finishes (see `backup`).
        let restoring_numbers =
            backup::restore::pending_targets(&snapshot).map_err(DynamoError::into_aws)?;
        let mut restoring = Vec::new();
        snapshot
            .scan(
                Bound::Included(&prefix[..]),
                Bound::Excluded(&end[..]),
                false,
                &mut |k, v| match serde_json::from_slice::<TableDef>(v) {
                    Ok(def) if restoring_numbers.contains(&def.number) => {
                        restoring.push(def);
                        true
                    }
                    Ok(def) => {
                        catalog.insert(Table::new(def));
                        true
                    }
                    Err(e) => {
                        bad = Some(format!(
                            "table definition {} is unreadable: {e}",
                            String::from_utf8_lossy(k)
                        ));
                        false
                    }
                },
            )
            .map_err(|e| DynamoError::from(e).into_aws())?;
        if let Some(msg) = bad {
            return Err(DynamoError::Internal(msg).into_aws());
        }
        // TTL settings live apart from the definitions (see `ttl`).
        let states: std::collections::HashMap<u64, ttl::TtlState> = ttl::load_states(&snapshot)
            .map_err(DynamoError::into_aws)?
            .into_iter()
            .collect();
        for table in catalog.all() {
            if let Some(state) = states.get(&table.def.number).filter(|s| s.enabled) {
                table.set_live_ttl(Some(&state.attribute_name));
            }
        }
        // Streams: each table with an enabled stream records to it.
        let rollover_ms =
            u64::try_from(config.stream_shard_rollover.as_millis()).unwrap_or(u64::MAX);
        let stream_registry = streams::Streams::with_rollover(rollover_ms);
        for stream in
            streams::load(&snapshot, &clock, rollover_ms).map_err(DynamoError::into_aws)?
        {
            let meta = stream.meta();
            if meta.closed.is_none() {
                if let Some(table) = catalog
                    .all()
                    .into_iter()
                    .find(|t| t.def.number == meta.table_number)
                {
                    table.set_live_stream(Some(stream.clone()));
                }
            }
            streams::register(&stream_registry, stream);
        }
        // Index backfills and deletions in progress resume.
        backfill::load(&snapshot, &catalog).map_err(DynamoError::into_aws)?;
        drop(snapshot);
        let db = DynamoDb {
            inner: Arc::new(Inner {
                store,
                catalog,
                clock,
                streams: stream_registry,
                backups: backup::Backups::default(),
                index_jobs: Arc::default(),
                backfill_batch: config.index_backfill_batch,
            }),
        };
        backup::start(&db, restoring).map_err(DynamoError::into_aws)?;
        ttl::sweeper::spawn(&db).map_err(|e| {
            DynamoError::Internal(format!("cannot start the TTL sweeper: {e}")).into_aws()
        })?;
        streams::trim::spawn(&db).map_err(|e| {
            DynamoError::Internal(format!("cannot start the stream trimmer: {e}")).into_aws()
        })?;
        backfill::spawn(&db).map_err(|e| {
            DynamoError::Internal(format!("cannot start the index backfill worker: {e}")).into_aws()
        })?;
        Ok(db)
    }

    /// Runs one DynamoDB Streams operation (`"GetRecords"`, ...) on an
    /// awsJson1_0 request body (`X-Amz-Target: DynamoDBStreams_20120810.*`).
    pub async fn handle_streams(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        streams::handle(self, ctx, operation, body)
            .await
            .map(|v| serde_json::to_vec(&v).expect("json serializes"))
            .map_err(DynamoError::into_aws)
    }

    /// Runs one operation (`"PutItem"`, ...) on an awsJson1_0 request body and
    /// returns the JSON response body.
    pub async fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, AwsError> {
        self.dispatch(ctx, operation, body)
            .await
            .map(|out| match out {
                Output::Json(v) => serde_json::to_vec(&v).expect("json serializes"),
                Output::Bytes(b) => b,
            })
            .map_err(DynamoError::into_aws)
    }

    async fn dispatch(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> Result<Output, DynamoError> {
        use ops::{backup, batch, items, pitr, query, tables, tags, transact, ttl};
        Ok(match operation {
            "GetItem" => items::get_item(self, ctx, body).await?,
            "PutItem" => items::put_item(self, ctx, body).await?,
            "UpdateItem" => items::update_item(self, ctx, body).await?,
            "DeleteItem" => items::delete_item(self, ctx, body).await?,
            "BatchGetItem" => batch::batch_get_item(self, ctx, body).await?,
            "BatchWriteItem" => batch::batch_write_item(self, ctx, body).await?,
            "TransactWriteItems" => transact::transact_write_items(self, ctx, body).await?,
            "TransactGetItems" => transact::transact_get_items(self, ctx, body).await?,
            "Query" => query::query(self, ctx, body).await?,
            "Scan" => query::scan(self, ctx, body).await?,
            "ExecuteStatement" => partiql::execute_statement(self, ctx, body).await?,
            "BatchExecuteStatement" => partiql::batch_execute_statement(self, ctx, body).await?,
            "ExecuteTransaction" => partiql::execute_transaction(self, ctx, body).await?,
            "CreateTable" => tables::create_table(self, ctx, body).await?.into(),
            "DescribeTable" => tables::describe_table(self, ctx, body).await?.into(),
            "ListTables" => tables::list_tables(self, ctx, body).await?.into(),
            "DeleteTable" => tables::delete_table(self, ctx, body).await?.into(),
            "UpdateTable" => tables::update_table(self, ctx, body).await?.into(),
            "DescribeLimits" => tables::describe_limits(self, ctx, body).await?.into(),
            "DescribeEndpoints" => tables::describe_endpoints(self, ctx, body).await?.into(),
            "UpdateTimeToLive" => ttl::update_time_to_live(self, ctx, body).await?.into(),
            "DescribeTimeToLive" => ttl::describe_time_to_live(self, ctx, body).await?.into(),
            "TagResource" => tags::tag_resource(self, ctx, body).await?.into(),
            "UntagResource" => tags::untag_resource(self, ctx, body).await?.into(),
            "ListTagsOfResource" => tags::list_tags_of_resource(self, ctx, body).await?.into(),
            "CreateBackup" => backup::create_backup(self, ctx, body).await?.into(),
            "DescribeBackup" => backup::describe_backup(self, ctx, body).await?.into(),
            "ListBackups" => backup::list_backups(self, ctx, body).await?.into(),
            "DeleteBackup" => backup::delete_backup(self, ctx, body).await?.into(),
            "RestoreTableFromBackup" => backup::restore_table_from_backup(self, ctx, body)
                .await?
                .into(),
            "UpdateContinuousBackups" => pitr::update_continuous_backups(self, ctx, body)
                .await?
                .into(),
            "DescribeContinuousBackups" => pitr::describe_continuous_backups(self, ctx, body)
                .await?
                .into(),
            "RestoreTableToPointInTime" => pitr::restore_table_to_point_in_time(self, ctx, body)
                .await?
                .into(),
            other => return Err(DynamoError::UnknownOperation(other.to_string())),
        })
    }
}
