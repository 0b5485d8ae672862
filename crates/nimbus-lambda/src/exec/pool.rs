//! Warm environments waiting for their next invocation, per function
//! version and configuration revision, and the reaper that stops those idle
//! too long.
//!
//! Environments are never shared between functions or versions (the key
//! names both) and never outlive the configuration they were started with
//! (the key also names the revision, so an update starts fresh ones and the
//! old ones are dropped by [`Pool::retire`]).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::environment::Environment;

/// `account/region/name/version/revision`
pub type PoolKey = String;

#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<PoolKey, Vec<Environment>>>,
    /// When each key prefix was last retired: an environment started
    /// before that (busy with an invocation, or still starting, when the
    /// function changed or was deleted) is not taken back.
    retired: Mutex<HashMap<String, Instant>>,
}

impl Pool {
    /// The most recently used idle environment for `key` that is still alive.
    pub fn take(&self, key: &str) -> Option<Environment> {
        let mut idle = self.lock();
        let list = idle.get_mut(key)?;
        while let Some(env) = list.pop() {
            if env.alive() {
                return Some(env);
            }
        }
        None
    }

    pub fn put(&self, key: PoolKey, env: Environment) {
        let stale = self
            .retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(prefix, at)| key.starts_with(prefix.as_str()) && env.started < *at);
        if stale {
            drop(env);
            return;
        }
        self.lock().entry(key).or_default().push(env);
    }

    /// Drops every idle environment of a function (all versions), e.g. after
    /// its code or configuration changed or it was deleted.
    pub fn retire(&self, function_prefix: &str) {
        self.retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(function_prefix.to_owned(), Instant::now());
        let removed: Vec<Vec<Environment>> = {
            let mut idle = self.lock();
            let keys: Vec<PoolKey> = idle
                .keys()
                .filter(|k| k.starts_with(function_prefix))
                .cloned()
                .collect();
            keys.iter().filter_map(|k| idle.remove(k)).collect()
        };
        drop(removed);
    }

    /// Drops environments idle for longer than `max_idle` (except
    /// provisioned ones, kept while their configuration exists) and dead ones.
    pub fn reap(&self, max_idle: Duration) -> usize {
        let now = Instant::now();
        let mut removed = Vec::new();
        {
            let mut idle = self.lock();
            for list in idle.values_mut() {
                let (keep, gone): (Vec<_>, Vec<_>) =
                    std::mem::take(list).into_iter().partition(|e| {
                        e.alive() && (e.provisioned || now.duration_since(e.last_used) < max_idle)
                    });
                *list = keep;
                removed.extend(gone);
            }
            idle.retain(|_, list| !list.is_empty());
        }
        removed.len()
    }

    /// Idle environments per key (for introspection).
    pub fn counts(&self) -> Vec<(PoolKey, usize)> {
        let mut out: Vec<_> = self
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        out.sort();
        out
    }

    /// Drops every idle environment (server shutdown).
    pub fn clear(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PoolKey, Vec<Environment>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
