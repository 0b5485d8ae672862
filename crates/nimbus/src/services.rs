//! The services this binary runs, opened on one shared store.

use nimbus_clock::Clock;
use nimbus_dynamodb::{DynamoConfig, DynamoDb};
use nimbus_sqs::Sqs;
use nimbus_store::Store;
use nimbus_wire::route::Service;
use nimbus_wire::AwsError;

/// Every running service; shared by all connections. The store itself is
/// owned by `serve`, which closes it after the last request.
pub struct Services {
    /// The one clock every service reads; `/_nimbus/clock` moves it.
    pub clock: Clock,
    pub dynamodb: DynamoDb,
    pub sqs: Sqs,
}

/// The services implemented so far, as reported by `/_nimbus/health`.
pub const IMPLEMENTED: &[Service] = &[Service::DynamoDb, Service::Sqs];

impl Services {
    pub fn open(store: Store, default_region: &str) -> Result<Services, AwsError> {
        let clock = Clock::new();
        let sqs = Sqs::open(store.clone(), clock.clone());
        let dynamodb = DynamoDb::open(
            store,
            DynamoConfig {
                default_region: default_region.to_owned(),
            },
            clock.clone(),
        )?;
        Ok(Services {
            clock,
            dynamodb,
            sqs,
        })
    }
}
