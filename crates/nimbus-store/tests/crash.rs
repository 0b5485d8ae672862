//! `kill -9` durability: every write acknowledged before the kill is present
//! after reopening.
//!
//! The test binary re-executes itself as the child (selecting only
//! `crash_child` and passing the directory in an environment variable). The
//! child writes numbered keys from many tasks and prints `ack <n>` after each
//! `Ok`; the parent reads those lines, SIGKILLs the child mid-load, drains
//! the lines already in the pipe, reopens the directory and checks them all.
//! Several rounds on one directory exercise recovery of a recovered file.
//! A second test kills only while a checkpoint's fsync is running (the child
//! says so after an ack), when recovery needs both log generations.
//!
//! The child checkpoints after every few dozen groups (a tiny
//! `wal_checkpoint_bytes`), so kills land both between a log sync and the
//! next checkpoint (acknowledged writes only in the write-ahead log) and
//! inside checkpoints. Before each reopen the parent reads the redb file on
//! its own, without the log, to prove the log replay was needed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nimbus_store::{ReadView, Store, StoreError, StoreOptions, DB_FILE};

const CHILD_DIR_ENV: &str = "NIMBUS_STORE_CRASH_CHILD_DIR";
const CHILD_START_ENV: &str = "NIMBUS_STORE_CRASH_CHILD_START";
const WRITERS: usize = 32;
const ROUNDS: u64 = 8;

/// Checkpoints every ~100 writes of the child's (~1 KB average) values.
fn child_options() -> StoreOptions {
    StoreOptions {
        wal_checkpoint_bytes: 96 * 1024,
        wal_idle_checkpoint: Duration::from_millis(20),
        ..StoreOptions::default()
    }
}

fn key(n: u64) -> Vec<u8> {
    format!("crash/{n:012}").into_bytes()
}

fn value(n: u64) -> Vec<u8> {
    // Long enough to span pages now and then; derived from n to be checkable.
    let len = 64 + (n % 7) as usize * 300;
    (0..len).map(|i| (n as usize + i) as u8).collect()
}

/// The child: writes until killed. A no-op in a normal test run.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START_ENV).unwrap().parse().unwrap();
    let store = Store::open(Path::new(&dir), &child_options()).unwrap();
    let next = Arc::new(AtomicU64::new(start));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async move {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let store = store.clone();
                let next = next.clone();
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        store
                            .write(move |w| {
                                w.put(&key(n), &value(n));
                                Ok::<_, StoreError>(())
                            })
                            .await
                            .unwrap();
                        let stats = store.checkpoint_stats();
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {n}").unwrap();
                        if stats.started > stats.count {
                            // A checkpoint's fsync is running (or was just now).
                            writeln!(out, "inflight").unwrap();
                        }
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
    });
}

/// When to kill a child.
#[derive(Clone, Copy, PartialEq)]
enum KillAt {
    /// As soon as it has acknowledged this many writes.
    Acks(usize),
    /// At the first moment after this many acks when it reports a
    /// checkpoint in flight (its commit done, its fsync still running).
    InFlightCheckpoint(usize),
}

/// Runs one child until `kill_at`, kills it, and returns everything it
/// acknowledged and whether it had reported a checkpoint in flight last.
fn run_child_and_kill(dir: &Path, start: u64, kill_at: KillAt) -> (Vec<u64>, bool) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let in_flight = loop {
        let Some(line) = lines.next() else {
            panic!(
                "child exited after {} acks: {:?}",
                acked.len(),
                child.wait()
            );
        };
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ack ") {
            acked.push(n.parse().unwrap());
        }
        match kill_at {
            KillAt::Acks(n) if acked.len() >= n => break false,
            KillAt::InFlightCheckpoint(n) if acked.len() >= n && line == "inflight" => break true,
            _ => {}
        }
    };
    // SIGKILL on Unix: no destructors, no final commit, no flush.
    child.kill().unwrap();
    child.wait().unwrap();
    // Lines written before the kill are still in the pipe: they count too.
    for line in lines {
        let Ok(line) = line else { break };
        if let Some(n) = line.strip_prefix("ack ") {
            if let Ok(n) = n.parse() {
                acked.push(n);
            }
        }
    }
    (acked, in_flight)
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return;
    }
    let (rounds_needing_the_log, _) =
        kill_rounds(|round| KillAt::Acks(300 + (round as usize % 4) * 250));
    assert!(
        rounds_needing_the_log > 0,
        "no kill landed between a log sync and a checkpoint: the replay went untested"
    );
}

/// Kills that land while a checkpoint's fsync runs in the background: the
/// database may or may not have reached that checkpoint, and the records
/// after the one before are split over both log generations (files).
#[test]
fn acknowledged_writes_survive_kill_9_during_a_checkpoint() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return;
    }
    let (rounds_needing_the_log, in_flight) =
        kill_rounds(|round| KillAt::InFlightCheckpoint(200 + (round as usize % 4) * 200));
    assert_eq!(in_flight, ROUNDS);
    assert!(
        rounds_needing_the_log > 0,
        "no kill left acknowledged writes outside the database: the replay went untested"
    );
}

/// Runs `ROUNDS` children on one directory, killing each at `kill_at(round)`
/// and checking every acknowledged write after reopening. Returns in how
/// many rounds the redb file alone lacked acknowledged writes, and in how
/// many the kill came with a checkpoint in flight.
fn kill_rounds(kill_at: impl Fn(u64) -> KillAt) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut all_acked = BTreeSet::new();
    let mut rounds_needing_the_log = 0;
    let mut rounds_in_flight = 0;
    for round in 0..ROUNDS {
        let start = round * 1_000_000;
        let (acked, in_flight) = run_child_and_kill(dir.path(), start, kill_at(round));
        rounds_in_flight += u64::from(in_flight);
        all_acked.extend(acked);
        let in_redb = count_in_redb_alone(dir.path(), &all_acked);
        if in_redb < all_acked.len() {
            rounds_needing_the_log += 1;
        }

        let store =
            Store::open(dir.path(), &StoreOptions::default()).expect("reopen after kill -9");
        let snap = store.snapshot().unwrap();
        for &n in &all_acked {
            assert_eq!(
                snap.get(&key(n)).unwrap(),
                Some(value(n)),
                "acknowledged key {n} lost or damaged after kill -9 (round {round})"
            );
        }
        // Unacknowledged writes may or may not have landed, but whatever did
        // land must be intact.
        let mut present = 0;
        snap.scan(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
            false,
            &mut |k, v| {
                let n: u64 = std::str::from_utf8(&k[6..]).unwrap().parse().unwrap();
                assert_eq!(v, value(n), "key {n} damaged");
                present += 1;
                true
            },
        )
        .unwrap();
        assert!(present >= all_acked.len());
        eprintln!(
            "round {round}: {} acknowledged in total, {in_redb} in redb before replay, {present} present",
            all_acked.len()
        );
        store.close();
    }
    (rounds_needing_the_log, rounds_in_flight)
}

/// How many of `acked` the redb file holds on its own, before any log
/// replay (redb recovers it to its last durable commit: the checkpoint).
fn count_in_redb_alone(dir: &Path, acked: &BTreeSet<u64>) -> usize {
    use redb::{ReadableDatabase, TableDefinition};
    let kv: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");
    let db = redb::Database::open(dir.join(DB_FILE)).expect("redb file opens after kill -9");
    let txn = db.begin_read().unwrap();
    let Ok(table) = txn.open_table(kv) else {
        return 0;
    };
    acked
        .iter()
        .filter(|&&n| table.get(key(n).as_slice()).unwrap().is_some())
        .count()
}
