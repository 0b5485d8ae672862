//! Table definitions: what is stored for each table, and the in-memory cache
//! every request reads instead of reloading metadata from the store.
//!
//! Invariant: the cache changes only after the store has durably committed
//! the same change, and it is changed under the cache's write lock, so a
//! reader sees either the old or the new definition, whole.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// A key attribute's type: only S, N and B can be keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    S,
    N,
    B,
}

impl KeyType {
    pub fn parse(s: &str) -> Option<KeyType> {
        match s {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    pub name: String,
    pub key_type: KeyType,
}

/// Provisioned throughput as DescribeTable reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub read: i64,
    pub write: i64,
    pub last_increase: Option<f64>,
    pub last_decrease: Option<f64>,
    pub decreases_today: i64,
}

/// Everything stored about a table (JSON in the `T` keyspace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDef {
    pub name: String,
    pub account: String,
    pub region: String,
    /// AWS's TableId: a UUID.
    pub id: String,
    /// Storage prefix number; never reused.
    pub number: u64,
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    /// AttributeDefinitions as given (name, type), in order.
    pub attributes: Vec<(String, KeyType)>,
    /// "PROVISIONED" or "PAY_PER_REQUEST".
    pub billing_mode: String,
    /// When the billing mode was last set (epoch seconds).
    pub billing_mode_updated: f64,
    pub throughput: Throughput,
    /// Epoch seconds with millisecond precision.
    pub created: f64,
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub table_class: Option<String>,
    /// Secondary indexes, global and local, in the order they were declared.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
    /// The number the next created index gets; index numbers are never
    /// reused within a table.
    #[serde(default)]
    pub next_index: u32,
    /// The table's latest stream, enabled or not (DynamoDB Streams).
    #[serde(default)]
    pub stream: Option<crate::streams::TableStream>,
}

/// What an index copies of each item besides the keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexProjection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

impl IndexProjection {
    pub fn type_name(&self) -> &'static str {
        match self {
            IndexProjection::All => "ALL",
            IndexProjection::KeysOnly => "KEYS_ONLY",
            IndexProjection::Include(_) => "INCLUDE",
        }
    }
}

/// A global or local secondary index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    /// Storage number within the table (the `G` keyspace).
    pub number: u32,
    pub local: bool,
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    pub projection: IndexProjection,
    /// A GSI's throughput on a PROVISIONED table.
    pub throughput: Option<Throughput>,
    /// Added by UpdateTable, so filled by a backfill: DescribeTable reports
    /// its Backfilling flag (AWS shows none for indexes CreateTable made).
    #[serde(default)]
    pub backfilled: bool,
}

impl IndexDef {
    pub fn key_attrs(&self) -> impl Iterator<Item = &KeyAttr> {
        std::iter::once(&self.hash_key).chain(self.range_key.as_ref())
    }

    pub fn is_key_attr(&self, name: &str) -> bool {
        self.key_attrs().any(|k| k.name == name)
    }
}

impl TableDef {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            self.region, self.account, self.name
        )
    }

    /// The key attributes, partition key first.
    pub fn key_attrs(&self) -> impl Iterator<Item = &KeyAttr> {
        std::iter::once(&self.hash_key).chain(self.range_key.as_ref())
    }

    pub fn is_key_attr(&self, name: &str) -> bool {
        self.key_attrs().any(|k| k.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.name == name)
    }

    pub fn index_arn(&self, index: &str) -> String {
        format!("{}/index/{index}", self.arn())
    }
}

/// A live table: its definition plus a flag the writer thread sets when the
/// table is deleted, so writes queued behind a DeleteTable fail instead of
/// leaving orphaned items.
///
/// The flag is shared by every version of one table's definition, so a write
/// holding an older version still sees the drop.
///
/// Likewise the live set of secondary indexes: UpdateTable changes it inside
/// the writer, in the store write that backfills or drops an index, so every
/// item write queued after that one maintains exactly the indexes that
/// exist, whichever version of the definition it started with.
///
/// And the live TTL attribute: UpdateTimeToLive switches it inside the
/// store write that builds or drops the table's expiry index.
///
/// And the live stream: UpdateTable switches it inside the store write that
/// creates or closes the stream.
///
/// And the live point-in-time recovery log: UpdateContinuousBackups
/// switches it inside the store write that enables or disables it.
/// And the online index operations in progress (backfills with their
/// cursors, deletions): changed inside the store writes that start, advance
/// or end them (see `backfill`).
#[derive(Debug)]
pub struct Table {
    pub def: TableDef,
    dropped: Arc<AtomicBool>,
    live_indexes: Arc<RwLock<Arc<Vec<IndexDef>>>>,
    live_ttl: Arc<RwLock<Option<Arc<str>>>>,
    live_stream: Arc<RwLock<Option<Arc<crate::streams::Stream>>>>,
    live_pitr: Arc<RwLock<Option<Arc<crate::backup::pitr::PitrLog>>>>,
    jobs: Arc<RwLock<crate::backfill::Jobs>>,
}

impl Table {
    pub fn new(def: TableDef) -> Arc<Table> {
        let indexes = Arc::new(def.indexes.clone());
        Arc::new(Table {
            def,
            dropped: Arc::new(AtomicBool::new(false)),
            live_indexes: Arc::new(RwLock::new(indexes)),
            live_ttl: Arc::new(RwLock::new(None)),
            live_stream: Arc::new(RwLock::new(None)),
            live_pitr: Arc::new(RwLock::new(None)),
            jobs: Arc::default(),
        })
    }

    /// A new version of this table's definition, sharing its drop flag and
    /// live index set.
    pub fn replaced(&self, def: TableDef) -> Arc<Table> {
        Arc::new(Table {
            def,
            dropped: self.dropped.clone(),
            live_indexes: self.live_indexes.clone(),
            live_ttl: self.live_ttl.clone(),
            live_stream: self.live_stream.clone(),
            live_pitr: self.live_pitr.clone(),
            jobs: self.jobs.clone(),
        })
    }

    /// The indexes item writes maintain now (call from inside the writer).
    pub fn live_indexes(&self) -> Arc<Vec<IndexDef>> {
        self.live_indexes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the live index set; call from inside the store write that
    /// creates or drops the index entries.
    /// [`Table::set_live_indexes`] inside a store write, taken back if the
    /// write is lost.
    pub fn switch_live_indexes(
        &self,
        txn: &mut nimbus_store::WriteTxn<'_>,
        indexes: Vec<IndexDef>,
    ) {
        switch(&self.live_indexes, txn, Arc::new(indexes));
    }

    pub fn set_live_indexes(&self, indexes: Vec<IndexDef>) {
        *self.live_indexes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(indexes);
    }

    /// The TTL attribute item writes index now, if TTL is enabled (call
    /// from inside the writer).
    pub fn live_ttl(&self) -> Option<Arc<str>> {
        self.live_ttl
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Switches the TTL attribute; call from inside the store write that
    /// builds or drops the expiry index (or at start-up).
    pub fn set_live_ttl(&self, attribute: Option<&str>) {
        *self.live_ttl.write().unwrap_or_else(|e| e.into_inner()) = attribute.map(Arc::from);
    }

    /// The stream item writes record to now, if one is enabled (call from
    /// inside the writer).
    pub fn live_stream(&self) -> Option<Arc<crate::streams::Stream>> {
        self.live_stream
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Switches the live stream; call from inside the store write that
    /// enables or disables it (or at start-up).
    pub fn set_live_stream(&self, stream: Option<Arc<crate::streams::Stream>>) {
        *self.live_stream.write().unwrap_or_else(|e| e.into_inner()) = stream;
    }

    /// [`Table::set_live_stream`] inside a store write, taken back if the
    /// write is lost.
    pub fn switch_live_stream(
        &self,
        txn: &mut nimbus_store::WriteTxn<'_>,
        stream: Option<Arc<crate::streams::Stream>>,
    ) {
        switch(&self.live_stream, txn, stream);
    }

    /// The point-in-time recovery log item writes record to now, if PITR
    /// is enabled (call from inside the writer).
    pub fn live_pitr(&self) -> Option<Arc<crate::backup::pitr::PitrLog>> {
        self.live_pitr
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Switches the PITR log at start-up.
    pub fn set_live_pitr(&self, log: Option<Arc<crate::backup::pitr::PitrLog>>) {
        *self.live_pitr.write().unwrap_or_else(|e| e.into_inner()) = log;
    }

    /// Switches the PITR log inside the store write that enables or
    /// disables it, taken back if the write is lost.
    pub fn switch_live_pitr(
        &self,
        txn: &mut nimbus_store::WriteTxn<'_>,
        log: Option<Arc<crate::backup::pitr::PitrLog>>,
    ) {
        switch(&self.live_pitr, txn, log);
    }

    /// Reads the online index operations in progress.
    pub fn with_jobs<R>(&self, f: impl FnOnce(&crate::backfill::Jobs) -> R) -> R {
        f(&self.jobs.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn jobs(&self) -> crate::backfill::Jobs {
        self.with_jobs(Clone::clone)
    }

    /// Changes them; call from inside the store write that records the
    /// change (or at start-up).
    pub fn update_jobs(&self, f: impl FnOnce(&mut crate::backfill::Jobs)) {
        f(&mut self.jobs.write().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Marks the table deleted once the write deleting it is committed.
    pub fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::Release);
    }

    /// Marks the table deleted from inside the store write that deletes
    /// it; if that write is lost, the mark is taken back (`on_abort`).
    pub fn mark_dropped_in(&self, txn: &mut nimbus_store::WriteTxn<'_>) {
        self.dropped.store(true, Ordering::Release);
        let dropped = self.dropped.clone();
        txn.on_abort(move || dropped.store(false, Ordering::Release));
    }
}

/// Replaces the value in `cell` from inside a store write, registering
/// the old value to be put back if the write is lost.
fn switch<T: Send + Sync + 'static>(
    cell: &Arc<RwLock<T>>,
    txn: &mut nimbus_store::WriteTxn<'_>,
    value: T,
) {
    let before = std::mem::replace(&mut *cell.write().unwrap_or_else(|e| e.into_inner()), value);
    let cell = cell.clone();
    txn.on_abort(move || *cell.write().unwrap_or_else(|e| e.into_inner()) = before);
}

/// Tables are scoped to an account and a region, as on AWS.
type Scope = (String, String);

/// The cache of live tables.
#[derive(Default)]
pub struct Catalog {
    tables: RwLock<HashMap<Scope, HashMap<String, Arc<Table>>>>,
}

impl Catalog {
    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<Table>> {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        // Borrowed lookup without allocating a scope key: scopes are few.
        tables
            .iter()
            .find(|((a, r), _)| a == account && r == region)
            .and_then(|(_, t)| t.get(name).cloned())
    }

    pub fn insert(&self, table: Arc<Table>) {
        let mut tables = self.tables.write().unwrap_or_else(|e| e.into_inner());
        let scope = (table.def.account.clone(), table.def.region.clone());
        tables
            .entry(scope)
            .or_default()
            .insert(table.def.name.clone(), table);
    }

    pub fn remove(&self, account: &str, region: &str, name: &str) {
        let mut tables = self.tables.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tables.get_mut(&(account.to_string(), region.to_string())) {
            t.remove(name);
        }
    }

    /// Every live table of every scope (for background work such as the
    /// TTL sweeper).
    pub fn all(&self) -> Vec<Arc<Table>> {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        tables.values().flat_map(|t| t.values().cloned()).collect()
    }

    /// Table names of one scope, sorted.
    pub fn names(&self, account: &str, region: &str) -> Vec<String> {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> = tables
            .get(&(account.to_string(), region.to_string()))
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn count(&self, account: &str, region: &str) -> usize {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        tables
            .get(&(account.to_string(), region.to_string()))
            .map_or(0, |t| t.len())
    }
}
