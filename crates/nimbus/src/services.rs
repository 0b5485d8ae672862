//! The services this binary runs, opened on one shared store.

use std::path::PathBuf;
use std::time::Duration;

use nimbus_dynamodb::{DynamoConfig, DynamoDb};
use nimbus_lambda::{Lambda, LambdaConfig};
use nimbus_logs::Logs;
use nimbus_sqs::Sqs;
use nimbus_store::Store;
use nimbus_wire::route::Service;
use nimbus_wire::AwsError;

/// Every running service; shared by all connections. The store itself is
/// owned by `serve`, which closes it after the last request.
pub struct Services {
    pub dynamodb: DynamoDb,
    pub sqs: Sqs,
    pub lambda: Lambda,
    pub logs: Logs,
    /// With --in-memory, Lambda's packages and environments live in a
    /// temporary directory removed when the server stops.
    _scratch: Option<tempfile::TempDir>,
}

/// Where services keep files (Lambda packages, environments), and their
/// tunables.
pub struct ServiceOptions {
    /// `None` with --in-memory: a temporary directory is used.
    pub data_dir: Option<PathBuf>,
    pub lambda_idle_timeout: Duration,
    pub lambda_concurrency: u32,
}

/// The services implemented so far, as reported by `/_nimbus/health`.
pub const IMPLEMENTED: &[Service] = &[
    Service::DynamoDb,
    Service::Sqs,
    Service::Lambda,
    Service::CloudWatchLogs,
];

impl Services {
    pub fn open(
        store: Store,
        default_region: &str,
        options: &ServiceOptions,
    ) -> Result<Services, AwsError> {
        let (work_dir, scratch) = match &options.data_dir {
            Some(dir) => (dir.join("lambda"), None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("nimbus-lambda-")
                    .tempdir()
                    .map_err(|e| {
                        AwsError::internal_failure(format!(
                            "cannot create a temporary directory for Lambda: {e}"
                        ))
                    })?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        let lambda = Lambda::open(
            store.clone(),
            LambdaConfig {
                work_dir,
                idle_timeout: options.lambda_idle_timeout,
                account_concurrency: options.lambda_concurrency,
            },
        )?;
        let sqs = Sqs::open(store.clone());
        let logs = Logs::open(store.clone());
        let dynamodb = DynamoDb::open(
            store,
            DynamoConfig {
                default_region: default_region.to_owned(),
            },
        )?;
        Ok(Services {
            dynamodb,
            sqs,
            lambda,
            logs,
            _scratch: scratch,
        })
    }
}
