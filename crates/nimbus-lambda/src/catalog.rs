//! Every function record, in memory for fast lookups on the invoke path,
//! and in the store for durability.
//!
//! Invariant: a record is in memory exactly when its latest durable store
//! write put it there. Changes are serialised by one async lock (control
//! plane writes are rare); each change is computed from the current record,
//! written durably, and only then swapped into memory, so a failed write
//! leaves memory as it was.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use nimbus_store::{ReadView, Store};

use crate::error::{LambdaError, Result};
use crate::model::{function_key, FunctionRecord, FUNCTION_PREFIX};

/// (account, region, name)
pub type FunctionKey = (String, String, String);

pub struct Catalog {
    store: Store,
    functions: RwLock<HashMap<FunctionKey, Arc<FunctionRecord>>>,
    /// Function URL id -> the function that owns it, so a URL request finds
    /// its function without scanning them all. Kept in step with
    /// `functions` under its write lock.
    urls: RwLock<HashMap<String, FunctionKey>>,
    changes: tokio::sync::Mutex<()>,
}

/// What a change does to a record.
pub enum Change<T> {
    Put(Box<FunctionRecord>, T),
    Delete(T),
    /// Nothing to write; return `T`.
    Keep(T),
}

impl Catalog {
    /// Loads every function record from the store.
    pub fn load(store: Store) -> Result<Catalog> {
        let snapshot = store.snapshot()?;
        let mut functions = HashMap::new();
        let end = crate::model::prefix_end(FUNCTION_PREFIX);
        let mut bad = None;
        snapshot.scan(
            std::ops::Bound::Included(FUNCTION_PREFIX),
            std::ops::Bound::Excluded(end.as_slice()),
            false,
            &mut |key, value| {
                match serde_json::from_slice::<FunctionRecord>(value) {
                    Ok(record) => {
                        functions.insert(key_of(&record), Arc::new(record));
                    }
                    Err(e) => bad = Some(format!("{}: {e}", String::from_utf8_lossy(key))),
                }
                true
            },
        )?;
        if let Some(bad) = bad {
            return Err(LambdaError::Service(format!(
                "a stored function record could not be read ({bad})"
            )));
        }
        let urls = functions
            .iter()
            .flat_map(|(key, f)| f.urls.values().map(|u| (u.url_id.clone(), key.clone())))
            .collect();
        Ok(Catalog {
            store,
            functions: RwLock::new(functions),
            urls: RwLock::new(urls),
            changes: tokio::sync::Mutex::new(()),
        })
    }

    /// The function that owns the function URL `url_id`, and the qualifier
    /// the URL is for ("" for the unqualified function).
    pub fn by_url(&self, url_id: &str) -> Option<(Arc<FunctionRecord>, String)> {
        let key = self
            .urls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url_id)
            .cloned()?;
        let f = self.read().get(&key).cloned()?;
        let qualifier = f
            .urls
            .iter()
            .find(|(_, u)| u.url_id == url_id)
            .map(|(q, _)| q.clone())?;
        Some((f, qualifier))
    }

    /// Swaps `record` in for `key` (or removes it), keeping the URL index
    /// in step.
    fn replace(&self, key: FunctionKey, record: Option<FunctionRecord>) {
        let mut functions = self.write();
        let mut urls = self.urls.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = functions.get(&key) {
            for u in old.urls.values() {
                urls.remove(&u.url_id);
            }
        }
        match record {
            Some(record) => {
                for u in record.urls.values() {
                    urls.insert(u.url_id.clone(), key.clone());
                }
                functions.insert(key, Arc::new(record));
            }
            None => {
                functions.remove(&key);
            }
        }
    }

    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<FunctionRecord>> {
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        self.read().get(&key).cloned()
    }

    /// The functions of one account and region, by name.
    pub fn list(&self, account: &str, region: &str) -> Vec<Arc<FunctionRecord>> {
        let mut out: Vec<_> = self
            .read()
            .values()
            .filter(|f| f.account == account && f.region == region)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Every function record.
    pub fn all(&self) -> Vec<Arc<FunctionRecord>> {
        self.read().values().cloned().collect()
    }

    /// Applies one change to a function's record, durably.
    pub async fn change<T: Send + 'static>(
        &self,
        account: &str,
        region: &str,
        name: &str,
        f: impl FnOnce(Option<&FunctionRecord>) -> Result<Change<T>>,
    ) -> Result<T> {
        let _serialised = self.changes.lock().await;
        let current = self.get(account, region, name);
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let store_key = function_key(account, region, name);
        match f(current.as_deref())? {
            Change::Keep(out) => Ok(out),
            Change::Put(record, out) => {
                let record = *record;
                let value = serde_json::to_vec(&record)
                    .map_err(|e| LambdaError::Service(format!("encode a function record: {e}")))?;
                self.store
                    .write(move |txn| {
                        txn.put(&store_key, &value);
                        Ok::<_, LambdaError>(())
                    })
                    .await?;
                self.replace(key, Some(record));
                Ok(out)
            }
            Change::Delete(out) => {
                self.store
                    .write(move |txn| {
                        txn.delete(&store_key);
                        Ok::<_, LambdaError>(())
                    })
                    .await?;
                self.replace(key, None);
                Ok(out)
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<FunctionKey, Arc<FunctionRecord>>> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<FunctionKey, Arc<FunctionRecord>>> {
        self.functions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn key_of(r: &FunctionRecord) -> FunctionKey {
    (r.account.clone(), r.region.clone(), r.name.clone())
}
