//! Concurrency accounting: how many invocations run at once, per function
//! and per account, against reserved concurrency and the account limit.
//!
//! AWS's model: functions with reserved concurrency may use up to their
//! reservation and nothing else; all other functions share what is left of
//! the account limit after every reservation ("unreserved concurrency").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::LambdaError;

/// The AWS default account concurrency limit.
pub const DEFAULT_ACCOUNT_LIMIT: u32 = 1000;
/// AWS keeps this much of the account limit unreserved.
pub const MIN_UNRESERVED: u32 = 100;

#[derive(Default)]
struct Counts {
    /// Running invocations per function ARN (unqualified).
    running: HashMap<String, u32>,
    /// Running invocations of functions without a reservation.
    unreserved_running: u32,
    /// Reservations per function ARN.
    reserved: HashMap<String, u32>,
    reserved_total: u32,
}

pub struct Concurrency {
    limit: u32,
    counts: Mutex<Counts>,
}

/// One running invocation's claim; released on drop.
pub struct Slot {
    owner: Arc<Concurrency>,
    function: String,
    reserved: bool,
}

impl Concurrency {
    pub fn new(limit: u32) -> Arc<Concurrency> {
        Arc::new(Concurrency {
            limit,
            counts: Mutex::default(),
        })
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Concurrency not reserved by any function.
    pub fn unreserved(&self) -> u32 {
        self.limit.saturating_sub(self.lock().reserved_total)
    }

    /// Records a function's reservation (None removes it). Fails when it
    /// would leave less than [`MIN_UNRESERVED`] unreserved.
    pub fn set_reservation(
        &self,
        function: &str,
        reserved: Option<u32>,
    ) -> Result<(), LambdaError> {
        let mut c = self.lock();
        let previous = c.reserved.get(function).copied().unwrap_or(0);
        let total_without = c.reserved_total - previous;
        if let Some(r) = reserved {
            if total_without + r > self.limit.saturating_sub(MIN_UNRESERVED) {
                return Err(LambdaError::invalid(format!(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
                )));
            }
            c.reserved.insert(function.to_owned(), r);
            c.reserved_total = total_without + r;
        } else {
            c.reserved.remove(function);
            c.reserved_total = total_without;
        }
        Ok(())
    }

    /// Claims a slot for one invocation of `function`, or says why not.
    pub fn acquire(self: &Arc<Self>, function: &str) -> Result<Slot, LambdaError> {
        let mut c = self.lock();
        let running = c.running.get(function).copied().unwrap_or(0);
        let reserved = c.reserved.get(function).copied();
        match reserved {
            Some(r) => {
                if running >= r {
                    return Err(LambdaError::TooManyRequests {
                        reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
                    });
                }
            }
            None => {
                let available = self.limit.saturating_sub(c.reserved_total);
                if c.unreserved_running >= available {
                    return Err(LambdaError::TooManyRequests {
                        reason: "ConcurrentInvocationLimitExceeded",
                    });
                }
                c.unreserved_running += 1;
            }
        }
        *c.running.entry(function.to_owned()).or_default() += 1;
        Ok(Slot {
            owner: self.clone(),
            function: function.to_owned(),
            reserved: reserved.is_some(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.owner.lock();
        if let Some(n) = c.running.get_mut(&self.function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.running.remove(&self.function);
            }
        }
        if !self.reserved {
            c.unreserved_running = c.unreserved_running.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_unreserved() {
        let c = Concurrency::new(200);
        c.set_reservation("a", Some(1)).unwrap();
        let s1 = c.acquire("a").unwrap();
        let err = c.acquire("a").err().unwrap();
        assert!(matches!(
            err,
            LambdaError::TooManyRequests {
                reason: "ReservedFunctionConcurrentInvocationLimitExceeded"
            }
        ));
        drop(s1);
        assert!(c.acquire("a").is_ok());
        c.set_reservation("z", Some(0)).unwrap();
        assert!(c.acquire("z").is_err());
        // 200 - 1 reserved = 199 unreserved.
        let slots: Vec<_> = (0..199).map(|_| c.acquire("b").unwrap()).collect();
        assert!(matches!(
            c.acquire("c").err().unwrap(),
            LambdaError::TooManyRequests {
                reason: "ConcurrentInvocationLimitExceeded"
            }
        ));
        drop(slots);
        assert!(c.set_reservation("d", Some(150)).is_err());
        assert!(c.set_reservation("d", Some(99)).is_ok());
    }
}
