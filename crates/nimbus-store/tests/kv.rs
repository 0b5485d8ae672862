//! Reads and writes through the public API, in both modes: point operations,
//! scans in both directions with every kind of bound, the write-call overlay
//! (read-your-writes, merge with the table, discard on `Err` and panic), and
//! `delete_range`. A randomized test checks the overlay merge against a
//! `BTreeMap` model.

use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use nimbus_store::{ReadView, Store, StoreError, StoreOptions, MAX_ENTRY_BYTES};

/// Runs `check` against an in-memory store and a durable one.
fn both_modes(check: impl Fn(&Store)) {
    let mem = Store::in_memory().unwrap();
    assert!(!mem.is_durable());
    check(&mem);
    let dir = tempfile::tempdir().unwrap();
    let disk = Store::open(dir.path(), &StoreOptions::default()).unwrap();
    assert!(disk.is_durable());
    check(&disk);
}

fn put_all(store: &Store, pairs: &[(&str, &str)]) {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    store
        .write_blocking(move |w| {
            for (k, v) in &pairs {
                w.put(k.as_bytes(), v.as_bytes());
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

fn collect(
    view: &impl ReadView,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    reverse: bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    view.scan(lower, upper, reverse, &mut |k, v| {
        out.push((
            String::from_utf8(k.to_vec()).unwrap(),
            String::from_utf8(v.to_vec()).unwrap(),
        ));
        true
    })
    .unwrap();
    out
}

fn keys(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn put_get_delete() {
    both_modes(|store| {
        put_all(store, &[("a", "1"), ("b", "2")]);
        let snap = store.snapshot().unwrap();
        assert_eq!(snap.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(snap.get(b"zz").unwrap(), None);
        assert_eq!(snap.get_with(b"b", |v| v.len()).unwrap(), Some(1));
        assert_eq!(snap.get_with(b"zz", |v| v.len()).unwrap(), None);

        store
            .write_blocking(|w| {
                w.delete(b"a");
                w.put(b"b", b"two");
                w.delete(b"never-existed");
                Ok::<_, StoreError>(())
            })
            .unwrap();
        // The old snapshot is a fixed point in time.
        assert_eq!(snap.get(b"a").unwrap(), Some(b"1".to_vec()));
        let now = store.snapshot().unwrap();
        assert_eq!(now.get(b"a").unwrap(), None);
        assert_eq!(now.get(b"b").unwrap(), Some(b"two".to_vec()));
    });
}

#[test]
fn empty_keys_and_values_are_ordinary() {
    both_modes(|store| {
        put_all(store, &[("", ""), ("k", "")]);
        let snap = store.snapshot().unwrap();
        assert_eq!(snap.get(b"").unwrap(), Some(vec![]));
        assert_eq!(snap.get(b"k").unwrap(), Some(vec![]));
        assert_eq!(
            keys(&collect(&snap, Unbounded, Unbounded, false)),
            ["", "k"]
        );
    });
}

#[test]
fn scan_bounds_and_direction() {
    both_modes(|store| {
        put_all(store, &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        let s = store.snapshot().unwrap();
        let all = collect(&s, Unbounded, Unbounded, false);
        assert_eq!(keys(&all), ["a", "b", "c", "d"]);
        assert_eq!(
            keys(&collect(&s, Unbounded, Unbounded, true)),
            ["d", "c", "b", "a"]
        );
        assert_eq!(
            keys(&collect(&s, Included(b"b"), Excluded(b"d"), false)),
            ["b", "c"]
        );
        assert_eq!(
            keys(&collect(&s, Excluded(b"b"), Included(b"d"), false)),
            ["c", "d"]
        );
        assert_eq!(
            keys(&collect(&s, Excluded(b"a"), Excluded(b"d"), true)),
            ["c", "b"]
        );
        assert_eq!(
            keys(&collect(&s, Included(b"bb"), Unbounded, true)),
            ["d", "c"]
        );
        assert_eq!(
            keys(&collect(&s, Unbounded, Included(b"b"), true)),
            ["b", "a"]
        );
        // Empty and inverted ranges yield nothing instead of panicking.
        assert!(collect(&s, Included(b"c"), Excluded(b"c"), false).is_empty());
        assert!(collect(&s, Excluded(b"c"), Excluded(b"c"), true).is_empty());
        assert!(collect(&s, Included(b"d"), Included(b"a"), false).is_empty());
        assert_eq!(
            keys(&collect(&s, Included(b"c"), Included(b"c"), false)),
            ["c"]
        );

        // `visit` returning false stops the scan.
        let mut seen = Vec::new();
        s.scan(Unbounded, Unbounded, true, &mut |k, _| {
            seen.push(k.to_vec());
            seen.len() < 2
        })
        .unwrap();
        assert_eq!(seen, [b"d".to_vec(), b"c".to_vec()]);
    });
}

#[test]
fn write_call_reads_its_own_writes_merged_with_the_table() {
    both_modes(|store| {
        put_all(store, &[("a", "1"), ("c", "3"), ("e", "5"), ("g", "7")]);
        let (fwd, rev, bounded, got) = store
            .write_blocking(|w| {
                w.put(b"b", b"new");
                w.put(b"c", b"over");
                w.delete(b"e");
                w.put(b"h", b"8");
                let fwd = collect(w, Unbounded, Unbounded, false);
                let rev = collect(w, Unbounded, Unbounded, true);
                let bounded = collect(w, Excluded(b"b"), Included(b"g"), true);
                let got = (w.get(b"c")?, w.get(b"e")?, w.get(b"a")?);
                Ok::<_, StoreError>((fwd, rev, bounded, got))
            })
            .unwrap();
        let expect = [
            ("a", "1"),
            ("b", "new"),
            ("c", "over"),
            ("g", "7"),
            ("h", "8"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(fwd, expect);
        let mut reversed = expect.clone();
        reversed.reverse();
        assert_eq!(rev, reversed);
        assert_eq!(keys(&bounded), ["g", "c"]);
        assert_eq!(got, (Some(b"over".to_vec()), None, Some(b"1".to_vec())));
        // And the committed state matches what the call saw.
        assert_eq!(
            collect(&store.snapshot().unwrap(), Unbounded, Unbounded, false),
            expect
        );
    });
}

#[derive(Debug)]
enum AppError {
    Store(#[allow(dead_code)] StoreError),
    Conflict,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Store(e)
    }
}

#[test]
fn err_discards_the_calls_writes_only() {
    both_modes(|store| {
        put_all(store, &[("keep", "1")]);
        let result = store.write_blocking(|w| {
            w.put(b"doomed", b"x");
            w.delete(b"keep");
            w.delete_range(Unbounded, Unbounded)?;
            Err::<(), _>(AppError::Conflict)
        });
        assert!(matches!(result, Err(AppError::Conflict)));
        let s = store.snapshot().unwrap();
        assert_eq!(s.get(b"keep").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(b"doomed").unwrap(), None);
    });
}

#[test]
fn panic_in_a_call_reaches_the_caller_and_writes_nothing() {
    both_modes(|store| {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.write_blocking(|w| -> Result<(), StoreError> {
                w.put(b"p", b"x");
                panic!("boom in a write call");
            })
        }));
        let payload = caught.unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"boom in a write call")
        );
        assert_eq!(store.snapshot().unwrap().get(b"p").unwrap(), None);
        // The writer thread survived.
        put_all(store, &[("after", "ok")]);
        assert!(store.snapshot().unwrap().get(b"after").unwrap().is_some());
    });
}

#[test]
fn oversized_entry_fails_only_its_call() {
    let store = Store::in_memory().unwrap();
    let big = vec![0u8; MAX_ENTRY_BYTES];
    let err = store
        .write_blocking(move |w| {
            w.put(b"small", b"x");
            w.put(b"k", &big);
            Ok::<_, StoreError>(())
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::EntryTooLarge { key_len: 1, .. }),
        "{err}"
    );
    assert_eq!(store.snapshot().unwrap().get(b"small").unwrap(), None);
}

#[test]
fn delete_range_counts_and_respects_later_writes() {
    both_modes(|store| {
        put_all(
            store,
            &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")],
        );
        let (n, inside, after) = store
            .write_blocking(|w| {
                w.put(b"bb", b"mine"); // overlay key inside the range: counted, deleted
                w.delete(b"c"); // already deleted by this call: not counted
                let n = w.delete_range(Included(b"b"), Excluded(b"d"))?;
                let inside = collect(w, Unbounded, Unbounded, false);
                // A put after the range delete, inside the range, survives.
                w.put(b"b", b"again");
                let again = w.delete_range(Included(b"b"), Excluded(b"d"))?;
                assert_eq!(again, 1);
                w.put(b"c", b"final");
                let after = collect(w, Unbounded, Unbounded, true);
                Ok::<_, StoreError>((n, inside, after))
            })
            .unwrap();
        assert_eq!(n, 2, "b and bb");
        assert_eq!(keys(&inside), ["a", "d", "e"]);
        assert_eq!(keys(&after), ["e", "d", "c", "a"]);
        let s = store.snapshot().unwrap();
        assert_eq!(
            keys(&collect(&s, Unbounded, Unbounded, false)),
            ["a", "c", "d", "e"]
        );
        assert_eq!(s.get(b"c").unwrap(), Some(b"final".to_vec()));

        let n = store
            .write_blocking(|w| w.delete_range(Excluded(b"a"), Unbounded))
            .unwrap();
        assert_eq!(n, 3);
        let n = store
            .write_blocking(|w| w.delete_range(Included(b"z"), Included(b"a")))
            .unwrap();
        assert_eq!(n, 0, "inverted range deletes nothing");
        let s = store.snapshot().unwrap();
        assert_eq!(keys(&collect(&s, Unbounded, Unbounded, false)), ["a"]);
    });
}

#[test]
fn later_calls_see_earlier_calls_in_order() {
    // Many blocking submissions from threads: every increment is seen by the
    // next, so the counter ends exact (calls are serialized).
    let store = Store::in_memory().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    store
                        .write_blocking(|w| {
                            let n = w
                                .get_with(b"counter", |v| {
                                    u64::from_be_bytes(v.try_into().unwrap())
                                })?
                                .unwrap_or(0);
                            w.put(b"counter", &(n + 1).to_be_bytes());
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v = store.snapshot().unwrap().get(b"counter").unwrap().unwrap();
    assert_eq!(u64::from_be_bytes(v.try_into().unwrap()), 400);
}

/// xorshift64*: deterministic, dependency-free randomness for the model test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn key(&mut self) -> Vec<u8> {
        // A small key space so operations collide often.
        let len = 1 + self.below(2) as usize;
        (0..len).map(|_| b'a' + self.below(6) as u8).collect()
    }
    fn bound(&mut self) -> Bound<Vec<u8>> {
        match self.below(3) {
            0 => Unbounded,
            1 => Included(self.key()),
            _ => Excluded(self.key()),
        }
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(|k| k.as_slice())
}

fn in_range(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>, k: &[u8]) -> bool {
    (match lower {
        Included(l) => k >= l.as_slice(),
        Excluded(l) => k > l.as_slice(),
        Unbounded => true,
    }) && (match upper {
        Included(u) => k <= u.as_slice(),
        Excluded(u) => k < u.as_slice(),
        Unbounded => true,
    })
}

#[test]
fn overlay_merge_matches_a_model() {
    merge_matches_a_model(&Store::in_memory().unwrap());
}

/// The same with checkpoints after almost every call, so reads go through
/// a call's overlay, the active layer, a frozen layer being applied, and the
/// table, in every combination.
#[test]
fn memtable_layers_merge_matches_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        wal_checkpoint_bytes: 300,
        wal_idle_checkpoint: std::time::Duration::from_millis(1),
        apply_every: std::time::Duration::ZERO,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), &opts).unwrap();
    merge_matches_a_model(&store);
    assert!(
        store.checkpoint_stats().count > 10,
        "{:?}",
        store.checkpoint_stats()
    );
    // And what the table alone holds after a reopen is the same.
    let all = |store: &Store| {
        let mut out = Vec::new();
        let snapshot = store.snapshot().unwrap();
        snapshot
            .scan(Unbounded, Unbounded, false, &mut |k, v| {
                out.push((k.to_vec(), v.to_vec()));
                true
            })
            .unwrap();
        out
    };
    let want = all(&store);
    store.close();
    let store = Store::open(dir.path(), &opts).unwrap();
    assert_eq!(all(&store), want);
}

fn merge_matches_a_model(store: &Store) {
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..300 {
        // One call of random operations, checked step by step against a model
        // that starts from the committed state.
        let seed = rng.next();
        let commit = rng.below(4) != 0;
        let start = model.clone();
        let end = store
            .write_blocking(move |w| {
                let mut rng = Rng(seed | 1);
                let mut m = start;
                for _ in 0..20 {
                    match rng.below(10) {
                        0..=3 => {
                            let (k, v) = (rng.key(), rng.next().to_be_bytes().to_vec());
                            w.put(&k, &v);
                            m.insert(k, v);
                        }
                        4..=5 => {
                            let k = rng.key();
                            w.delete(&k);
                            m.remove(&k);
                        }
                        6 => {
                            let (l, u) = (rng.bound(), rng.bound());
                            let n = w.delete_range(as_ref(&l), as_ref(&u))?;
                            let before = m.len();
                            m.retain(|k, _| !in_range(&l, &u, k));
                            assert_eq!(n as usize, before - m.len());
                        }
                        7 => {
                            let k = rng.key();
                            assert_eq!(w.get(&k)?, m.get(&k).cloned(), "get {k:?}");
                        }
                        _ => {
                            let (l, u) = (rng.bound(), rng.bound());
                            let reverse = rng.below(2) == 0;
                            let mut got = Vec::new();
                            w.scan(as_ref(&l), as_ref(&u), reverse, &mut |k, v| {
                                got.push((k.to_vec(), v.to_vec()));
                                true
                            })?;
                            let mut want: Vec<_> = m
                                .iter()
                                .filter(|(k, _)| in_range(&l, &u, k))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect();
                            if reverse {
                                want.reverse();
                            }
                            assert_eq!(got, want, "scan {l:?}..{u:?} rev={reverse}");
                        }
                    }
                }
                if commit {
                    Ok(m)
                } else {
                    Err(StoreError::Closed) // any error: discard
                }
            })
            .map_err(|e| assert!(!commit, "round {round}: {e}"));
        if let Ok(m) = end {
            model = m;
        }
        let mut committed = BTreeMap::new();
        store
            .snapshot()
            .unwrap()
            .scan(Unbounded, Unbounded, false, &mut |k, v| {
                committed.insert(k.to_vec(), v.to_vec());
                true
            })
            .unwrap();
        assert_eq!(committed, model, "round {round}");
        // A random range of a snapshot, in either direction.
        let (l, u) = (rng.bound(), rng.bound());
        let reverse = rng.below(2) == 0;
        let snapshot = store.snapshot().unwrap();
        let mut got = Vec::new();
        snapshot
            .scan(as_ref(&l), as_ref(&u), reverse, &mut |k, v| {
                got.push((k.to_vec(), v.to_vec()));
                true
            })
            .unwrap();
        let mut want: Vec<_> = model
            .iter()
            .filter(|(k, _)| in_range(&l, &u, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if reverse {
            want.reverse();
        }
        assert_eq!(
            got, want,
            "round {round}: snapshot scan {l:?}..{u:?} rev={reverse}"
        );
        let k = rng.key();
        assert_eq!(
            snapshot.get(&k).unwrap(),
            model.get(&k).cloned(),
            "round {round}: get {k:?}"
        );
    }
}
