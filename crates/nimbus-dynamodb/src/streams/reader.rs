//! Reading a stream: the records GetRecords returns, and the in-process
//! interface other services (Lambda event source mappings) use instead of
//! HTTP; see the module documentation of `streams` for its contract.

use std::ops::Bound;
use std::time::Duration;

use nimbus_store::ReadView;
use serde_json::Value;

use super::{
    api, parse_sequence_number, record_key, record_number, records_prefix, sequence_number, Stream,
};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::DynamoDb;

/// What [`DynamoDb::stream_records`] returns.
#[derive(Debug, Clone)]
pub struct StreamBatch {
    /// Records as GetRecords returns them, in sequence order.
    pub records: Vec<Value>,
    /// The sequence number of the last record returned (pass it back as
    /// `after_sequence`), or the one given when none were.
    pub last_sequence: Option<String>,
    /// The stream is disabled and every record of it has been read.
    pub exhausted: bool,
}

/// One read of a stream: records numbered `from` onwards.
pub(crate) struct Read {
    pub records: Vec<Value>,
    /// The number after the last record returned.
    pub next: u64,
    pub exhausted: bool,
}

/// Reads records numbered `from` onwards, up to `limit` records and
/// `max_bytes` of record JSON (at least one record when any is there).
pub(crate) fn read_records(
    db: &DynamoDb,
    stream: &Stream,
    from: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Read> {
    let meta = stream.meta();
    if from < meta.trimmed_before {
        return Err(DynamoError::TrimmedDataAccess(
            "The operation attempted to read past the oldest stream record in a shard.".into(),
        ));
    }
    let snapshot = db.store.snapshot()?;
    let start = record_key(meta.id, from);
    let end = layout::prefix_end(&records_prefix(meta.id));
    let mut records = Vec::new();
    let mut next = from;
    let mut bytes = 0;
    let mut bad = None;
    snapshot.scan(
        Bound::Included(&start[..]),
        Bound::Excluded(&end[..]),
        false,
        &mut |k, v| {
            let json = v.get(8..).unwrap_or_default();
            if !records.is_empty() && bytes + json.len() > max_bytes {
                return false;
            }
            match serde_json::from_slice::<Value>(json) {
                Ok(r) => records.push(r),
                Err(e) => {
                    bad = Some(format!("a stream record is unreadable: {e}"));
                    return false;
                }
            }
            bytes += json.len();
            next = record_number(k).unwrap_or(next) + 1;
            records.len() < limit
        },
    )?;
    if let Some(msg) = bad {
        return Err(DynamoError::Internal(msg));
    }
    // Closed-ness read after the scan would race a close; the meta read
    // before it is what the scan can be complete against.
    let exhausted = meta.closed.is_some_and(|c| next > c.last);
    Ok(Read {
        records,
        next,
        exhausted,
    })
}

impl DynamoDb {
    /// Records of the stream `stream_arn` after `after_sequence` (`None`:
    /// from the oldest retained one), at most `limit` (1..=1000).
    pub fn stream_records(
        &self,
        stream_arn: &str,
        after_sequence: Option<&str>,
        limit: usize,
    ) -> std::result::Result<StreamBatch, nimbus_wire::AwsError> {
        let stream = self
            .streams
            .get(stream_arn)
            .ok_or_else(|| api::stream_not_found(stream_arn).into_aws())?;
        let from = match after_sequence {
            None => stream.meta().trimmed_before,
            Some(s) => parse_sequence_number(s)
                .ok_or_else(|| {
                    DynamoError::validation(format!("Invalid SequenceNumber: {s}")).into_aws()
                })?
                .saturating_add(1),
        };
        let read = read_records(self, &stream, from, limit.clamp(1, 1000), api::MAX_BYTES)
            .map_err(DynamoError::into_aws)?;
        let last_sequence = match read.next.checked_sub(1) {
            Some(n) if !read.records.is_empty() => Some(sequence_number(n)),
            _ => after_sequence.map(str::to_owned),
        };
        Ok(StreamBatch {
            records: read.records,
            last_sequence,
            exhausted: read.exhausted,
        })
    }

    /// Resolves when a record after `after_sequence` may be readable, the
    /// stream closes, or `timeout` passes; true when something is there.
    pub async fn wait_for_stream_records(
        &self,
        stream_arn: &str,
        after_sequence: Option<&str>,
        timeout: Duration,
    ) -> bool {
        let Some(stream) = self.streams.get(stream_arn) else {
            return false;
        };
        let deadline = tokio::time::Instant::now() + timeout;
        // The first record number wanted.
        let from = after_sequence
            .and_then(parse_sequence_number)
            .map(|n| n.saturating_add(1));
        loop {
            // Registered before reading, so a record written between the
            // read and the wait still wakes this waiter.
            let notified = stream.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.stream_records(stream_arn, after_sequence, 1) {
                Ok(b) if !b.records.is_empty() || b.exhausted => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return false;
            }
            // A record is announced from inside its write, just before its
            // commit: when its number is handed out but it is not readable
            // yet, look again shortly rather than wait for the next write.
            let wanted = from.unwrap_or_else(|| stream.meta().trimmed_before);
            let mut nap = deadline - now;
            if stream.next_number() > wanted {
                nap = nap.min(Duration::from_millis(2));
            }
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    /// Every stream of an account and region: (ARN, table name, status).
    pub fn stream_arns(&self, account: &str, region: &str) -> Vec<(String, String, &'static str)> {
        self.streams
            .all()
            .into_iter()
            .map(|s| s.meta())
            .filter(|m| m.account == account && m.region == region)
            .map(|m| (m.arn.clone(), m.table_name.clone(), m.status()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use nimbus_clock::Clock;

    use super::*;

    /// The in-process interface Lambda uses: a waiter wakes on a write and
    /// reads the record; a no-op write wakes no one with nothing.
    #[tokio::test]
    async fn in_process_readers_wait_and_read() {
        let store = nimbus_store::Store::in_memory().unwrap();
        let db = DynamoDb::open(
            store,
            crate::DynamoConfig {
                default_region: "us-east-1".into(),
            },
            Clock::new(),
        )
        .unwrap();
        let ctx = nimbus_wire::RequestContext {
            access_key: "AKID".into(),
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            request_id: "r".into(),
            host: None,
        };
        let created = db
            .handle(
                &ctx,
                "CreateTable",
                br#"{"TableName":"jobs","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
                "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
                "BillingMode":"PAY_PER_REQUEST",
                "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}}"#,
            )
            .await
            .unwrap();
        let created: Value = serde_json::from_slice(&created).unwrap();
        let arn = created["TableDescription"]["LatestStreamArn"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(db.stream_arns("000000000000", "us-east-1").len(), 1);
        assert!(db
            .stream_records(&arn, None, 10)
            .unwrap()
            .records
            .is_empty());
        assert!(
            !db.wait_for_stream_records(&arn, None, Duration::from_millis(20))
                .await
        );

        let waiter = {
            let db = db.clone();
            let arn = arn.clone();
            tokio::spawn(async move {
                db.wait_for_stream_records(&arn, None, Duration::from_secs(10))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        db.handle(
            &ctx,
            "PutItem",
            br#"{"TableName":"jobs","Item":{"pk":{"S":"a"}}}"#,
        )
        .await
        .unwrap();
        assert!(waiter.await.unwrap());
        let batch = db.stream_records(&arn, None, 10).unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.records[0]["eventName"], "INSERT");
        assert_eq!(batch.records[0]["dynamodb"]["NewImage"]["pk"]["S"], "a");
        assert!(!batch.exhausted);
        let last = batch.last_sequence.clone();
        assert_eq!(
            last.as_deref(),
            batch.records[0]["dynamodb"]["SequenceNumber"].as_str()
        );
        // Nothing after the last one read; an unknown ARN is an error.
        let after = db.stream_records(&arn, last.as_deref(), 10).unwrap();
        assert!(after.records.is_empty());
        assert_eq!(
            db.stream_records("arn:nope", None, 10).unwrap_err().code,
            "ResourceNotFoundException"
        );
        let bad = db.stream_records(&arn, Some("abc"), 10).unwrap_err();
        assert_eq!(
            (bad.code.as_ref(), bad.message.as_str()),
            ("ValidationException", "Invalid SequenceNumber: abc")
        );
    }
}
