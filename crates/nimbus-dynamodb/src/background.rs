//! Background threads that work in rounds: the TTL sweeper, the stream
//! trimmer and the backup janitor.
//!
//! Each runs on a thread of its own with a single-threaded runtime, starts
//! a round every `interval` and at once after every clock advance (so a test
//! that advances the clock sees the effect within milliseconds), holds the
//! service weakly, and stops when a round says so (service dropped, store
//! closed).

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nimbus_store::StoreError;

use crate::error::DynamoError;
use crate::{DynamoDb, Inner};

/// Why a round (or a step of one) ended early.
pub(crate) enum Stop {
    /// The store is closed: the thread ends.
    Closed,
    /// This step failed; later rounds try again.
    Failed(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        match e {
            StoreError::Closed => Stop::Closed,
            other => Stop::Failed(other.to_string()),
        }
    }
}

impl From<DynamoError> for Stop {
    fn from(e: DynamoError) -> Stop {
        Stop::Failed(e.into_aws().message)
    }
}

/// Starts a thread named `name` running `round` until it returns false.
pub(crate) fn spawn_rounds<F, Fut>(
    db: &DynamoDb,
    name: &str,
    interval: Duration,
    round: F,
) -> std::io::Result<()>
where
    F: Fn(Weak<Inner>) -> Fut + Send + 'static,
    Fut: Future<Output = bool>,
{
    let weak = Arc::downgrade(&db.inner);
    let clock = db.clock.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    // Subscribed before the round: an advance during it
                    // starts the next one at once.
                    let mut advanced = clock.subscribe();
                    advanced.borrow_and_update();
                    if !round(weak.clone()).await {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(interval) => {}
                        _ = advanced.changed() => {}
                    }
                }
            })
        })?;
    Ok(())
}
