//! DynamoDB operations, one module per family, each function named after the
//! AWS operation it implements.

pub mod backup;
pub mod batch;
pub mod items;
pub mod pitr;
pub mod query;
pub mod tables;
pub mod tags;
pub mod transact;
pub mod ttl;
pub(crate) mod write;
