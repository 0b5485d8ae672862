//! Reads: the [`ReadView`] trait, point-in-time [`Snapshot`]s, and the redb
//! table accessors that snapshots and write calls share.
//!
//! Invariant: a `Snapshot` is one redb read transaction, so it sees exactly
//! the groups committed before it was taken, whole, and nothing after.

use std::ops::Bound;

use std::sync::Arc;

use redb::{ReadableTable, TableDefinition};

use crate::bounds;
use crate::memtable::{Published, View};
use crate::merge::{self, KvReadTable};
use crate::StoreError;

/// The single table holding every key of the store.
pub(crate) const KV: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("kv");

/// A range iterator over the `kv` table.
pub(crate) type KvRange<'t> = redb::Range<'t, &'static [u8], &'static [u8]>;

/// Read access shared by snapshots and write transactions.
pub trait ReadView {
    /// The value stored under `key`, copied out.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// Zero-copy read: calls `f` with the value bytes if present.
    fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, StoreError>;

    /// Visits keys in [lower, upper) order (Bound semantics), descending if
    /// `reverse`; stops when `visit` returns false.
    fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError>;
}

/// A consistent point-in-time read view of the store.
///
/// It pins the pages of the commit it was taken from, so it should be short-
/// lived: a snapshot held for minutes keeps the file from reusing that space.
pub struct Snapshot {
    /// The memtable when the snapshot was taken.
    view: Arc<View>,
    /// `None` until the first write creates the table (a fresh store is
    /// created without a commit, to keep start-up free of fsyncs).
    table: Option<KvReadTable>,
}

impl Snapshot {
    pub(crate) fn begin(
        db: &redb::Database,
        published: &Published,
    ) -> Result<Snapshot, StoreError> {
        // The memtable first, the table second: see `memtable`.
        let view = published.get();
        let table = open_table(db)?;
        Ok(Snapshot { view, table })
    }
}

/// A read transaction's `kv` table, or `None` if no write created it yet.
pub(crate) fn open_table(db: &redb::Database) -> Result<Option<KvReadTable>, StoreError> {
    use redb::ReadableDatabase;
    let txn = db
        .begin_read()
        .map_err(|e| StoreError::storage("begin a read transaction", e))?;
    // The table keeps the transaction's pages pinned; the transaction handle
    // itself is not needed afterwards.
    match txn.open_table(KV) {
        Ok(table) => Ok(Some(table)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(StoreError::storage("open the kv table for reading", e)),
    }
}

impl ReadView for Snapshot {
    fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, StoreError> {
        merge::get_with(self.view.stack(), self.table.as_ref(), key, f)
    }

    fn scan(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        merge::scan(
            self.view.stack(),
            self.table.as_ref(),
            lower,
            upper,
            reverse,
            visit,
        )
    }
}

pub(crate) fn table_get_with<T, R>(
    table: &T,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, StoreError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let guard = table
        .get(key)
        .map_err(|e| StoreError::storage("read a key", e))?;
    Ok(guard.map(|v| f(v.value())))
}

/// Iterates a redb table over a range in either direction.
pub(crate) fn table_range<'t, T>(
    table: &'t T,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
) -> Result<Option<KvRange<'t>>, StoreError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    if bounds::is_empty(lower, upper) {
        return Ok(None);
    }
    table
        .range::<&[u8]>((lower, upper))
        .map(Some)
        .map_err(|e| StoreError::storage("open a range scan", e))
}

pub(crate) fn table_scan<T>(
    table: &T,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
    visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
) -> Result<(), StoreError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let Some(range) = table_range(table, lower, upper)? else {
        return Ok(());
    };
    let mut step = |item: Result<_, redb::StorageError>| -> Result<bool, StoreError> {
        let (k, v): (redb::AccessGuard<&[u8]>, redb::AccessGuard<&[u8]>) =
            item.map_err(|e| StoreError::storage("scan a range", e))?;
        Ok(visit(k.value(), v.value()))
    };
    if reverse {
        for item in range.rev() {
            if !step(item)? {
                break;
            }
        }
    } else {
        for item in range {
            if !step(item)? {
                break;
            }
        }
    }
    Ok(())
}
