//! Taking an on-demand backup: one store snapshot of the table, copied in
//! bounded batches under the backup's own keys, then marked AVAILABLE.

use std::ops::Bound;
use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};

use super::meta::{self, BackupMeta, BackupStatus};
use super::{read_batch, BackupError};
use crate::catalog::{Table, TableDef};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::ops::tables::Stats;
use crate::DynamoDb;

/// Backs `table` up as `name`; returns once the backup is AVAILABLE and
/// durable.
pub(crate) async fn take(
    db: &DynamoDb,
    table: &Arc<Table>,
    name: String,
) -> Result<Arc<BackupMeta>> {
    let snapshot = db.store.snapshot()?;
    let current = &table.def;
    // The definition as of the snapshot, which matches its items (an
    // UpdateTable may have committed since the table was looked up); the
    // table may even be gone by now.
    let key = layout::table_key(&current.account, &current.region, &current.name);
    let def: Option<TableDef> = snapshot
        .get_with(&key, |v| serde_json::from_slice(v))?
        .transpose()
        .map_err(|e| DynamoError::Internal(format!("table definition is unreadable: {e}")))?;
    let Some(def) = def.filter(|d| d.number == current.number) else {
        return Err(BackupError::TableNotFound(current.name.clone()).into());
    };
    let stats = Stats::read(&snapshot, def.number)?;
    let ttl = crate::ttl::read_state(&snapshot, def.number)?.filter(|s| s.enabled);
    let created_ms = db.clock.now_ms();
    let mut arn = meta::backup_arn(&def.arn(), created_ms);
    while db.backups.backups.get(&arn).is_some() {
        arn = meta::backup_arn(&def.arn(), created_ms);
    }
    let creating = BackupMeta {
        number: 0,
        arn,
        name,
        account: def.account.clone(),
        region: def.region.clone(),
        created_ms,
        status: BackupStatus::Creating,
        table: def,
        ttl,
        items: stats.items,
        bytes: stats.bytes,
    };
    let creating = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<BackupMeta> {
            let number = txn
                .get(meta::NEXT_BACKUP_NUMBER_KEY)?
                .and_then(|v| v.try_into().ok().map(u64::from_be_bytes))
                .unwrap_or(1);
            txn.put(meta::NEXT_BACKUP_NUMBER_KEY, &(number + 1).to_be_bytes());
            let m = BackupMeta { number, ..creating };
            write_meta(txn, &m);
            Ok(m)
        })
        .await?;
    let creating = Arc::new(creating);
    db.backups.backups.insert(creating.clone());
    let available = BackupMeta {
        status: BackupStatus::Available,
        ..(*creating).clone()
    };
    let stored = available.clone();
    let done = async {
        copy_items(db, &snapshot, &creating).await?;
        db.store
            .write(move |txn: &mut WriteTxn<'_>| -> Result<()> {
                write_meta(txn, &stored);
                Ok(())
            })
            .await
    };
    if let Err(e) = done.await {
        // Hidden at once; the janitor deletes what was copied.
        db.backups.backups.remove(&creating.arn);
        let dead = BackupMeta {
            status: BackupStatus::Deleting,
            ..(*creating).clone()
        };
        let marked = db
            .store
            .write(move |txn: &mut WriteTxn<'_>| -> Result<()> {
                write_meta(txn, &dead);
                Ok(())
            })
            .await;
        if let Err(mark) = marked {
            tracing::warn!(backup = %creating.arn, "cannot mark a failed backup for deletion: {mark:?}");
        }
        return Err(e);
    }
    let available = Arc::new(available);
    db.backups.backups.insert(available.clone());
    tracing::info!(backup = %available.arn, items = available.items, "created backup");
    Ok(available)
}

pub(crate) fn write_meta(txn: &mut WriteTxn<'_>, m: &BackupMeta) {
    txn.put(
        &meta::meta_key(m.number),
        &serde_json::to_vec(m).expect("backups serialize"),
    );
}

/// Copies every item of the snapshot's table under the backup's keys, one
/// bounded batch per write.
async fn copy_items(db: &DynamoDb, view: &impl ReadView, backup: &BackupMeta) -> Result<()> {
    let prefix = layout::items_prefix(backup.table.number);
    let end = layout::prefix_end(&prefix);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let lower = match &after {
            Some(k) => Bound::Excluded(&k[..]),
            None => Bound::Included(&prefix[..]),
        };
        let batch = read_batch(view, lower, Bound::Excluded(&end[..]), false)?;
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        let dest = meta::items_prefix(backup.number);
        db.store
            .write(move |txn: &mut WriteTxn<'_>| -> Result<()> {
                for (k, v) in batch {
                    // Table item keys start with their 9-byte table prefix.
                    txn.put(&[&dest[..], &k[9..]].concat(), &v);
                }
                Ok(())
            })
            .await?;
    }
}
