//! The workloads, named after what they measure. DynamoDB ones are
//! implemented; the others are named here so the CLI and the report can say
//! they are not yet available instead of printing made-up numbers.

pub mod api;
pub mod dynamodb;

use clap::ValueEnum;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// PutItem of a new 1 KB item (unique key per request).
    DynamodbPut,
    /// GetItem of a random seeded 1 KB item; the item returned must match.
    DynamodbGet,
    /// Query with Limit 100 on a partition of 128 1 KB items; must return a
    /// 100-item page of that partition, in sort-key order.
    #[value(name = "dynamodb-query-100")]
    #[serde(rename = "dynamodb-query-100")]
    DynamodbQuery100,
    /// TransactWriteItems with 10 Puts of 1 KB items ('unsupported' when the
    /// server does not implement it).
    #[value(name = "dynamodb-transact-10")]
    #[serde(rename = "dynamodb-transact-10")]
    DynamodbTransact10,
    /// Not yet available: SQS SendMessage + ReceiveMessage + DeleteMessage.
    SqsSendReceiveDelete,
    /// Not yet available: Lambda Invoke of an already-warm function.
    LambdaInvokeWarm,
    /// Not yet available: Lambda Invoke that has to start a new environment.
    LambdaColdStart,
}

/// A throughput and tail-latency bar nimbus is expected to clear.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Target {
    pub min_rps: f64,
    pub max_p99_ms: f64,
}

impl Workload {
    pub const DEFAULT: [Workload; 4] = [
        Workload::DynamodbPut,
        Workload::DynamodbGet,
        Workload::DynamodbQuery100,
        Workload::DynamodbTransact10,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::DynamodbPut => "dynamodb-put",
            Workload::DynamodbGet => "dynamodb-get",
            Workload::DynamodbQuery100 => "dynamodb-query-100",
            Workload::DynamodbTransact10 => "dynamodb-transact-10",
            Workload::SqsSendReceiveDelete => "sqs-send-receive-delete",
            Workload::LambdaInvokeWarm => "lambda-invoke-warm",
            Workload::LambdaColdStart => "lambda-cold-start",
        }
    }

    pub fn available(self) -> bool {
        matches!(
            self,
            Workload::DynamodbPut
                | Workload::DynamodbGet
                | Workload::DynamodbQuery100
                | Workload::DynamodbTransact10
        )
    }

    /// nimbus's targets at the default 64 connections (from the benchmark
    /// issue). Workloads without one are reported without pass/fail.
    pub fn target(self) -> Option<Target> {
        match self {
            Workload::DynamodbGet => Some(Target {
                min_rps: 20_000.0,
                max_p99_ms: 10.0,
            }),
            Workload::DynamodbPut => Some(Target {
                min_rps: 10_000.0,
                max_p99_ms: 10.0,
            }),
            Workload::DynamodbQuery100 => Some(Target {
                min_rps: 3_000.0,
                max_p99_ms: 10.0,
            }),
            _ => None,
        }
    }
}
