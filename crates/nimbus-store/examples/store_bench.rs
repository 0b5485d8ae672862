//! Throughput of nimbus-store in durable mode.
//!
//! ```text
//! cargo run --release -p nimbus-store --example store_bench -- \
//!     [--dir PATH] [--secs N] [--read-keys N] [--random-keys true]
//!     [--mode throughput|latency] [--rate N] [--cache-mib N] [--checkpoint-mib N]
//! ```
//!
//! `--mode latency` runs only an open-loop write load instead: `--rate`
//! writes per second (default 8000) of 1 KB values to scattered keys for
//! `--secs` (default 40 in this mode, long enough to cross several 64 MiB
//! checkpoints), each timed from when it was due, not when it was sent (so a
//! stall counts against every write it delays). It prints write latency
//! percentiles and what the checkpoints cost.
//!
//! Measures: open time on an empty directory; group-committed writes of 1 KB
//! values from 64 concurrent tokio tasks (and from 1, for comparison);
//! point gets from one long snapshot and from a fresh snapshot per get.
//! `--random-keys true` scatters the written keys over the key space (like
//! hashed partition keys) instead of writing them in ascending order.
//! `--cache-mib` and `--checkpoint-mib` override the store's page cache size
//! and write-ahead log checkpoint threshold.
//! `--dir` chooses the file system (default: a temporary directory), since
//! fsync cost is what group commit amortises.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_store::{ReadView, Store, StoreError, StoreOptions};

const VALUE_BYTES: usize = 1024;

struct Args {
    dir: Option<std::path::PathBuf>,
    secs: u64,
    read_keys: u64,
    random_keys: bool,
    latency_mode: bool,
    rate: u64,
    cache_mib: Option<usize>,
    checkpoint_mib: Option<u64>,
}

fn parse_args() -> Args {
    let mut args = Args {
        dir: None,
        secs: 5,
        read_keys: 100_000,
        random_keys: false,
        latency_mode: false,
        rate: 8000,
        cache_mib: None,
        checkpoint_mib: None,
    };
    let mut secs_given = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => args.dir = Some(value.into()),
            "--secs" => {
                args.secs = value.parse().expect("--secs takes a number");
                secs_given = true;
            }
            "--rate" => args.rate = value.parse().expect("--rate takes a number"),
            "--checkpoint-mib" => {
                args.checkpoint_mib = Some(value.parse().expect("--checkpoint-mib takes a number"))
            }
            "--cache-mib" => {
                args.cache_mib = Some(value.parse().expect("--cache-mib takes a number"))
            }
            "--mode" => {
                args.latency_mode = match value.as_str() {
                    "latency" => true,
                    "throughput" => false,
                    other => panic!("unknown mode {other}; use throughput or latency"),
                }
            }
            "--read-keys" => args.read_keys = value.parse().expect("--read-keys takes a number"),
            "--random-keys" => {
                args.random_keys = value.parse().expect("--random-keys takes true/false")
            }
            other => panic!(
                "unknown flag {other}; use --dir PATH, --secs N, --read-keys N, --random-keys BOOL, --mode M, --rate N"
            ),
        }
    }
    if args.latency_mode && !secs_given {
        args.secs = 40;
    }
    args
}

fn key(n: u64) -> [u8; 16] {
    let mut k = *b"bench/0000000000";
    k[6..].copy_from_slice(format!("{n:010}").as_bytes());
    k
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Latency percentiles of a set of samples, in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> (u128, u128, u128) {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_micros();
    (at(0.5), at(0.99), samples.last().unwrap().as_micros())
}

/// Spreads consecutive numbers over the key space (a bijective mixer), so
/// consecutive writes land on unrelated B-tree pages.
fn scatter(n: u64) -> u64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

/// `writers` tasks each write 1 KB values to fresh keys for `secs`.
fn write_phase(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    writers: usize,
    secs: u64,
    random_keys: bool,
) -> u64 {
    let next = Arc::new(AtomicU64::new(1_000_000 * writers as u64));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let latencies = rt.block_on(async {
        let tasks: Vec<_> = (0..writers)
            .map(|_| {
                let (store, next, stop) = (store.clone(), next.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let value = vec![0xA5u8; VALUE_BYTES];
                    while !stop.load(Ordering::Relaxed) {
                        let mut n = next.fetch_add(1, Ordering::Relaxed);
                        if random_keys {
                            // Collisions are rare and harmless (1 KB over 1 KB).
                            n = scatter(n) % 10_000_000_000;
                        }
                        let value = value.clone();
                        let t = Instant::now();
                        store
                            .write(move |w| {
                                w.put(&key(n), &value);
                                Ok::<_, StoreError>(())
                            })
                            .await
                            .unwrap();
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let count = latencies.len() as u64;
    let (p50, p99, max) = percentiles(latencies);
    println!(
        "writes, {writers:>2} concurrent writers, 1 KB values: {:>9.0} writes/s  ({count} in {elapsed:.1}s; latency p50 {p50} us, p99 {p99} us, max {max} us)",
        count as f64 / elapsed
    );
    count
}

/// Open loop: `rate` writes per second for `secs`, issued in 1 ms ticks
/// whatever the earlier ones are doing; each is timed from its tick.
fn latency_phase(rt: &tokio::runtime::Runtime, store: &Store, rate: u64, secs: u64) {
    let before = store.checkpoint_stats();
    let started = Instant::now();
    let latencies = rt.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let value = Arc::new(vec![0xA5u8; VALUE_BYTES]);
        let mut pending = Vec::new();
        let mut issued = 0u64;
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let due = tick.tick().await;
            if due >= end {
                break;
            }
            // Whole writes due by this tick (handles rates not divisible by 1000).
            let elapsed_ms = (due - (end - Duration::from_secs(secs))).as_millis() as u64 + 1;
            let want = rate * elapsed_ms / 1000;
            while issued < want {
                let n = scatter(issued) % 10_000_000_000;
                issued += 1;
                let (store, value) = (store.clone(), value.clone());
                let due = due.into_std();
                pending.push(tokio::spawn(async move {
                    store
                        .write(move |w| {
                            w.put(&key(n), &value);
                            Ok::<_, StoreError>(())
                        })
                        .await
                        .unwrap();
                    due.elapsed()
                }));
            }
        }
        let mut all = Vec::with_capacity(pending.len());
        for t in pending {
            all.push(t.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let count = latencies.len();
    let mut samples = latencies;
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let over_10ms = samples.iter().filter(|d| d.as_millis() >= 10).count();
    println!(
        "open-loop writes at {rate}/s, 1 KB values, scattered keys: {count} in {elapsed:.1}s; \
         latency ms p50 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.1}; {over_10ms} writes >= 10 ms",
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0),
    );
    let after = store.checkpoint_stats();
    let n = after.count - before.count;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if n > 0 {
        println!(
            "checkpoints: {n}; writer busy per checkpoint mean {:.1} ms, max {:.1} ms; until durable mean {:.1} ms, max {:.1} ms",
            ms(after.writer_busy_total - before.writer_busy_total) / n as f64,
            ms(after.writer_busy_max),
            ms(after.durable_total - before.durable_total) / n as f64,
            ms(after.durable_max),
        );
    } else {
        println!("checkpoints: none (run longer or faster)");
    }
}

/// Point gets of random existing keys on 2 threads, for `secs`.
fn get_phase(store: &Store, keys: u64, secs: u64, fresh_snapshot_per_get: bool) {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                let mut snap = store.snapshot().unwrap();
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..1000 {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        if fresh_snapshot_per_get {
                            snap = store.snapshot().unwrap();
                        }
                        let len = snap.get_with(&key(rng % keys), |v| v.len()).unwrap();
                        assert_eq!(len, Some(VALUE_BYTES));
                    }
                    done += 1000;
                }
                done
            })
        })
        .collect();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "gets, 2 threads, {}: {:>9.0} gets/s",
        if fresh_snapshot_per_get {
            "fresh snapshot per get"
        } else {
            "one snapshot per thread"
        },
        total as f64 / elapsed
    );
}

fn main() {
    let args = parse_args();
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.join(format!("store-bench-{}", std::process::id())),
        None => {
            tmp = tempfile::tempdir().unwrap();
            tmp.path().to_path_buf()
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();

    let rss_before = rss_kib();
    let t = Instant::now();
    let mut opts = StoreOptions::default();
    if let Some(mib) = args.cache_mib {
        opts.cache_size_bytes = mib << 20;
    }
    if let Some(mib) = args.checkpoint_mib {
        opts.wal_checkpoint_bytes = mib << 20;
    }
    let store = Store::open(&dir, &opts).unwrap();
    println!(
        "open empty dir: {:.2} ms (RSS {} KiB before, {} KiB after)",
        t.elapsed().as_secs_f64() * 1e3,
        rss_before,
        rss_kib()
    );

    if args.latency_mode {
        latency_phase(&rt, &store, args.rate, args.secs);
        store.close();
        if args.dir.is_some() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return;
    }

    write_phase(&rt, &store, 1, args.secs.min(3), args.random_keys);
    write_phase(&rt, &store, 64, args.secs, args.random_keys);

    println!("RSS after writes: {} KiB", rss_kib());

    // A dense key range of 1 KB values for the read phases (1000 per call).
    let read_keys = args.read_keys.div_ceil(1000) * 1000;
    let t = Instant::now();
    for chunk in 0..read_keys / 1000 {
        store
            .write_blocking(move |w| {
                let value = vec![0x5Au8; VALUE_BYTES];
                for n in chunk * 1000..(chunk + 1) * 1000 {
                    w.put(&key(n), &value);
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    println!(
        "bulk load {read_keys} x 1 KB in 1000-key calls: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    get_phase(&store, read_keys, args.secs, false);
    get_phase(&store, read_keys, args.secs.min(3), true);
    println!("RSS at end: {} KiB", rss_kib());

    store.close();
    drop(store);
    let t = Instant::now();
    let store = Store::open(&dir, &StoreOptions::default()).unwrap();
    println!(
        "reopen after clean close: {:.2} ms (RSS {} KiB)",
        t.elapsed().as_secs_f64() * 1e3,
        rss_kib()
    );
    store.close();
    if args.dir.is_some() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
