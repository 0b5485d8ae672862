//! Recovery from crash images: the data directory's files as `kill -9` would
//! leave them, copied from a live store that has not checkpointed, then
//! damaged the way a crash or a bad disk could.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::time::Duration;

use tempfile::TempDir;

use crate::checkpoint;
use crate::read::KV;
use crate::wal::{self, Found, FILE_HEADER_BYTES, HEADER_BYTES, WAL_FILE};
use crate::{ReadView, Store, StoreError, StoreOptions, DB_FILE};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn no_checkpoints() -> StoreOptions {
    StoreOptions {
        wal_checkpoint_bytes: u64::MAX,
        wal_checkpoint_interval: Duration::from_secs(3600),
        wal_idle_checkpoint: Duration::from_secs(3600),
        ..StoreOptions::default()
    }
}

fn contents(store: &Store) -> State {
    let mut state = State::new();
    store
        .snapshot()
        .unwrap()
        .scan(Bound::Unbounded, Bound::Unbounded, false, &mut |k, v| {
            state.insert(k.to_vec(), v.to_vec());
            true
        })
        .unwrap();
    state
}

/// Four groups (write calls) exercising every redo op.
const GROUPS: [fn(&mut crate::WriteTxn<'_>); 4] = [
    |w| {
        for k in [b"a", b"b", b"c", b"d", b"e"] {
            w.put(k, &[k[0]; 300]);
        }
    },
    |w| {
        w.delete(b"b");
        w.put(b"f", b"f1");
        w.delete_range(Bound::Included(b"c"), Bound::Excluded(b"e"))
            .unwrap();
    },
    |w| {
        w.put(b"c", b"c2");
        w.delete_range(Bound::Unbounded, Bound::Excluded(b"b"))
            .unwrap();
    },
    |w| {
        w.put(b"g", b"last");
        w.delete(b"f");
    },
];

/// A crash image after four groups (one record each), and the store's
/// contents before any group and after each.
struct Image {
    dir: TempDir,
    states: Vec<State>,
}

impl Image {
    fn new() -> Image {
        let live = tempfile::tempdir().unwrap();
        let store = Store::open(live.path(), &no_checkpoints()).unwrap();
        let mut states = vec![contents(&store)];
        let mut group = |f: fn(&mut crate::WriteTxn<'_>)| {
            store
                .write_blocking(move |w| {
                    f(w);
                    Ok::<_, StoreError>(())
                })
                .unwrap();
            states.push(contents(&store));
        };
        for f in GROUPS {
            group(f);
        }
        let dir = tempfile::tempdir().unwrap();
        for file in [DB_FILE, WAL_FILE] {
            std::fs::copy(live.path().join(file), dir.path().join(file)).unwrap();
        }
        Image { dir, states }
    }

    fn wal(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join(WAL_FILE)).unwrap()
    }

    fn records(&self) -> Vec<Found> {
        let found = wal::scan(&self.wal());
        assert_eq!(found.len(), 4, "one record per group");
        found
    }

    /// A copy of the image with `wal` as its log.
    fn copy_with_wal(&self, wal: &[u8]) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(self.dir.path().join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
        std::fs::write(dir.path().join(WAL_FILE), wal).unwrap();
        dir
    }

    fn recover_with_wal(&self, wal: &[u8]) -> State {
        let dir = self.copy_with_wal(wal);
        contents(&Store::open(dir.path(), &no_checkpoints()).unwrap())
    }
}

fn with_raw_db<R>(dir: &Path, f: impl FnOnce(&redb::Database) -> R) -> R {
    f(&redb::Database::create(dir.join(DB_FILE)).unwrap())
}

#[test]
fn the_image_holds_nothing_without_the_log() {
    let image = Image::new();
    assert_eq!(image.recover_with_wal(&[]), image.states[0]);
    assert_eq!(image.recover_with_wal(&image.wal()), image.states[4]);
}

#[test]
fn torn_last_record_keeps_exactly_the_complete_records() {
    let image = Image::new();
    let wal = image.wal();
    let last = image.records()[3].clone();
    for cut in last.payload.start - HEADER_BYTES..=last.payload.end {
        let want = &image.states[if cut == last.payload.end { 4 } else { 3 }];
        assert_eq!(&image.recover_with_wal(&wal[..cut]), want, "cut at {cut}");
        // The same tear inside the preallocated, zero-filled file.
        let mut zeroed = wal.clone();
        zeroed[cut..].fill(0);
        assert_eq!(&image.recover_with_wal(&zeroed), want, "zeroed from {cut}");
    }
}

#[test]
fn a_corrupt_record_stops_replay_there() {
    let image = Image::new();
    let second = image.records()[1].clone();
    for at in [
        second.payload.start - HEADER_BYTES, // length
        second.payload.start - 4,            // checksum
        second.payload.start + 1,            // payload
        second.payload.end - 1,
    ] {
        let mut wal = image.wal();
        wal[at] ^= 0x01;
        assert_eq!(image.recover_with_wal(&wal), image.states[1], "byte {at}");
    }
}

#[test]
fn replay_after_a_checkpoint_skips_applied_records() {
    let image = Image::new();
    let wal = image.wal();
    let records = image.records();
    // Recover from the first two records only: checkpoint at 2.
    let dir = image.copy_with_wal(&wal[..records[1].payload.end]);
    drop(Store::open(dir.path(), &no_checkpoints()).unwrap());
    // Change a key only record 1 wrote, behind the log's back: replaying
    // record 1 again would undo it.
    with_raw_db(dir.path(), |db| {
        assert_eq!(checkpoint::checkpointed_seq(db).unwrap(), records[1].seq);
        let txn = db.begin_write().unwrap();
        txn.open_table(KV)
            .unwrap()
            .insert(&b"e"[..], &b"tampered"[..])
            .unwrap();
        txn.commit().unwrap();
    });
    // Crash image: the whole log is back (as if the checkpoint happened
    // while records 3 and 4 were being written).
    std::fs::write(dir.path().join(WAL_FILE), &wal).unwrap();
    let store = Store::open(dir.path(), &no_checkpoints()).unwrap();
    let mut want = image.states[4].clone();
    want.insert(b"e".to_vec(), b"tampered".to_vec());
    assert_eq!(contents(&store), want);
}

#[test]
fn replay_is_idempotent() {
    let image = Image::new();
    let wal = image.wal();
    // A crash right after recovery's commit, before it clears the head of
    // the log: the database is recovered, the log file as it was.
    let dir = image.copy_with_wal(&wal);
    drop(Store::open(dir.path(), &no_checkpoints()).unwrap());
    std::fs::write(dir.path().join(WAL_FILE), &wal).unwrap();
    let store = Store::open(dir.path(), &no_checkpoints()).unwrap();
    assert_eq!(contents(&store), image.states[4]);
    drop(store);
    // Replaying every record again over their own results changes nothing.
    with_raw_db(dir.path(), |db| {
        let txn = db.begin_write().unwrap();
        checkpoint::set_checkpointed_seq(&txn, 0).unwrap();
        txn.commit().unwrap();
    });
    std::fs::write(dir.path().join(WAL_FILE), &wal).unwrap();
    let store = Store::open(dir.path(), &no_checkpoints()).unwrap();
    assert_eq!(contents(&store), image.states[4]);
}

#[test]
fn a_gap_after_the_checkpoint_refuses_to_open() {
    let image = Image::new();
    let wal = image.wal();
    let third = image.records()[2].clone();
    // The generation header, then records 3 and 4 only.
    let mut gap = wal[..FILE_HEADER_BYTES].to_vec();
    gap.extend_from_slice(&wal[third.payload.start - HEADER_BYTES..]);
    let dir = image.copy_with_wal(&gap);
    match Store::open(dir.path(), &no_checkpoints()) {
        Err(StoreError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData)
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened with records missing"),
    }
}

#[test]
fn writes_after_recovery_continue_the_log() {
    let image = Image::new();
    let dir = image.copy_with_wal(&image.wal());
    let store = Store::open(dir.path(), &no_checkpoints()).unwrap();
    store
        .write_blocking(|w| {
            w.put(b"after", b"recovery");
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let mut want = contents(&store);
    // Crash image of this directory now: recovery checkpointed records 1-4;
    // the new record 5 overwrote the start of the old log.
    let again = tempfile::tempdir().unwrap();
    for file in [DB_FILE, WAL_FILE] {
        std::fs::copy(dir.path().join(file), again.path().join(file)).unwrap();
    }
    let seqs: Vec<u64> = wal::scan(&std::fs::read(again.path().join(WAL_FILE)).unwrap())
        .iter()
        .map(|f| f.seq)
        .collect();
    assert_eq!(seqs, vec![5]);
    drop(store);
    let reopened = Store::open(again.path(), &no_checkpoints()).unwrap();
    assert_eq!(contents(&reopened), std::mem::take(&mut want));
}

/// A crash while a checkpoint's fsync runs: the records after the previous
/// checkpoint are split over both log files, and the database may hold
/// either checkpoint. Recovery must merge the two generations in order.
#[test]
fn recovery_merges_both_generations_around_a_checkpoint_in_flight() {
    let live = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        // The first group's record (five 300-byte values) passes this; the
        // three small ones after it together do not.
        wal_checkpoint_bytes: 1500,
        ..no_checkpoints()
    };
    let store = Store::open(live.path(), &opts).unwrap();
    // The database file as durable before any checkpoint of this run.
    let db_before = std::fs::read(live.path().join(DB_FILE)).unwrap();
    let image = Image::new();
    let records = image.records();
    // The same four groups; the first triggers a checkpoint, which moves the
    // log to the other file.
    for f in GROUPS {
        store
            .write_blocking(move |w| {
                f(w);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    assert_eq!(contents(&store), image.states[4]);
    assert_eq!(store.checkpoint_stats().started, 1);
    let mut files: Vec<Vec<u8>> = wal::WAL_FILES
        .iter()
        .map(|f| std::fs::read(live.path().join(f)).unwrap())
        .collect();
    let seqs = |bytes: &[u8]| wal::scan(bytes).iter().map(|f| f.seq).collect::<Vec<_>>();
    // Once the checkpoint is durable, the first file's generation is retired
    // (its first record header zeroed). A crash before that finds it whole:
    // put the header back (the payload is still there).
    let salt = u64::from_le_bytes(files[0][8..16].try_into().unwrap());
    let payload_len = records[0].bytes.len();
    let start = FILE_HEADER_BYTES;
    let mut record = files[0][start..start + HEADER_BYTES + payload_len].to_vec();
    wal::seal_record(&mut record, 1, salt);
    files[0][start..start + record.len()].copy_from_slice(&record);
    assert_eq!(seqs(&files[0]), vec![1]);
    assert_eq!(seqs(&files[1]), vec![2, 3, 4]);
    let db_after = std::fs::read(live.path().join(DB_FILE)).unwrap();
    // After a clean close the retired generation is empty.
    store.close();
    let first = std::fs::read(live.path().join(wal::WAL_FILES[0])).unwrap();
    assert_eq!(seqs(&first), vec![]);

    let crash_image = |db: &[u8], logs: [Option<&[u8]>; 2]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), db).unwrap();
        for (name, log) in wal::WAL_FILES.iter().zip(logs) {
            if let Some(log) = log {
                std::fs::write(dir.path().join(name), log).unwrap();
            }
        }
        dir
    };
    let both = [Some(&files[0][..]), Some(&files[1][..])];
    // The checkpoint never reached the disk: replay 1 from the first file,
    // then 2-4 from the second.
    let dir = crash_image(&db_before, both);
    let seq = with_raw_db(dir.path(), |db| checkpoint::checkpointed_seq(db).unwrap());
    assert_eq!(seq, 0);
    assert_eq!(
        contents(&Store::open(dir.path(), &opts).unwrap()),
        image.states[4]
    );
    // It did: record 1 is skipped, 2-4 replayed.
    let dir = crash_image(&db_after, both);
    let seq = with_raw_db(dir.path(), |db| checkpoint::checkpointed_seq(db).unwrap());
    assert_eq!(seq, 1);
    assert_eq!(
        contents(&Store::open(dir.path(), &opts).unwrap()),
        image.states[4]
    );
    // Without the older generation the log has a gap: refuse, lose nothing.
    let dir = crash_image(&db_before, [None, Some(&files[1])]);
    match Store::open(dir.path(), &opts) {
        Err(StoreError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidData)
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened with records missing"),
    }
    // Without the newer one, only what the first file holds comes back.
    let dir = crash_image(&db_before, [Some(&files[0]), None]);
    assert_eq!(
        contents(&Store::open(dir.path(), &opts).unwrap()),
        image.states[1]
    );
}
