//! Reading a stream: the records GetRecords returns, and the in-process
//! interface other services (Lambda event source mappings) use instead of
//! HTTP; see the module documentation of `streams` for its contract.

use std::ops::Bound;
use std::time::Duration;

use nimbus_store::{ReadView, Snapshot};
use serde_json::Value;

use super::shards::{self, Span};
use super::{
    api, parse_sequence_number, record_key, record_number, records_prefix, sequence_number,
    stream_key, Stream, StreamMeta,
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
    /// The range read is closed and nothing of it is left after `next`.
    pub exhausted: bool,
}

/// A stream as one snapshot holds it: its stored metadata and its shards.
/// Shard ends and closed-ness come from here, never from memory, so a
/// reader that sees a shard closed also sees all of its records.
pub(crate) struct View {
    pub snapshot: Snapshot,
    pub meta: StreamMeta,
    /// Empty for a view of the whole sequence ([`View::sequence`]).
    pub spans: Vec<Span>,
}

impl View {
    /// The stream with its shards (the Streams API).
    pub fn of(db: &DynamoDb, stream: &Stream) -> Result<View> {
        let mut view = View::sequence(db, stream)?;
        view.spans = shards::spans(&view.snapshot, &view.meta)?;
        Ok(view)
    }

    /// The stream as one sequence, without reading its shards (in-process
    /// readers, which poll often).
    pub fn sequence(db: &DynamoDb, stream: &Stream) -> Result<View> {
        let snapshot = db.store.snapshot()?;
        let id = stream.meta().id;
        let meta = snapshot
            .get_with(&stream_key(id), |v| serde_json::from_slice::<StreamMeta>(v))?
            .ok_or_else(|| api::stream_not_found(&stream.meta().arn))?
            .map_err(|e| DynamoError::Internal(format!("a stored stream is unreadable: {e}")))?;
        Ok(View {
            snapshot,
            meta,
            spans: Vec::new(),
        })
    }

    /// The shards DescribeStream lists: all but those trimmed away.
    pub fn listed(&self) -> impl Iterator<Item = &Span> {
        self.spans
            .iter()
            .filter(|s| !s.trimmed_away(self.meta.trimmed_before))
    }

    /// The last record number of the shard starting at `first` (`None`
    /// while open). A shard the trimmer has forgotten ends where its
    /// successor starts.
    pub fn shard_last(&self, first: u64) -> Option<u64> {
        match self.spans.iter().find(|s| s.shard.first == first) {
            Some(s) => s.last,
            None => self
                .spans
                .iter()
                .find(|s| s.shard.first > first)
                .map(|s| s.shard.first - 1),
        }
    }

    /// The shard holding record `number`.
    pub fn shard_of(&self, number: u64) -> Option<&Span> {
        self.spans.iter().rev().find(|s| s.contains(number))
    }

    /// Reads records numbered `from` up to `last` (`None`: to the end), at
    /// most `limit` records and `max_bytes` of record JSON (at least one
    /// record when any is there). `closed` says the range can grow no more.
    pub fn read(
        &self,
        from: u64,
        last: Option<u64>,
        closed: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Read> {
        if from < self.meta.trimmed_before {
            return Err(api::trimmed());
        }
        let id = self.meta.id;
        let start = record_key(id, from);
        let end = match last {
            Some(l) if l < from => {
                return Ok(Read {
                    records: Vec::new(),
                    next: from,
                    exhausted: closed,
                })
            }
            Some(l) => record_key(id, l + 1).to_vec(),
            None => layout::prefix_end(&records_prefix(id)),
        };
        let mut records = Vec::new();
        let mut next = from;
        let mut bytes = 0;
        let mut bad = None;
        let mut cut = false;
        self.snapshot.scan(
            Bound::Included(&start[..]),
            Bound::Excluded(&end[..]),
            false,
            &mut |k, v| {
                let json = v.get(8..).unwrap_or_default();
                if records.len() >= limit || (!records.is_empty() && bytes + json.len() > max_bytes)
                {
                    cut = true;
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
                true
            },
        )?;
        if let Some(msg) = bad {
            return Err(DynamoError::Internal(msg));
        }
        Ok(Read {
            records,
            next,
            exhausted: closed && !cut,
        })
    }
}

/// Reads the shard starting at `shard_first` from record `from` on
/// (GetRecords).
pub(crate) fn read_shard(
    db: &DynamoDb,
    stream: &Stream,
    shard_first: u64,
    from: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Read> {
    let view = View::of(db, stream)?;
    let last = view.shard_last(shard_first);
    view.read(from, last, last.is_some(), limit, max_bytes)
}

impl DynamoDb {
    /// Records of the stream `stream_arn` after `after_sequence` (`None`:
    /// from the oldest retained one), at most `limit` (1..=1000), across
    /// all of its shards in sequence order.
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
        let view = View::sequence(self, &stream).map_err(DynamoError::into_aws)?;
        let from = match after_sequence {
            None => view.meta.trimmed_before,
            Some(s) => parse_sequence_number(s)
                .ok_or_else(|| {
                    DynamoError::validation(format!("Invalid SequenceNumber: {s}")).into_aws()
                })?
                .saturating_add(1),
        };
        let closed = view.meta.closed.is_some();
        let read = view
            .read(from, None, closed, limit.clamp(1, 1000), api::MAX_BYTES)
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

    /// The id of the shard of stream `stream_arn` that holds the record
    /// with `sequence`; `None` for an unknown stream or number.
    pub fn stream_shard_id(&self, stream_arn: &str, sequence: &str) -> Option<String> {
        let stream = self.streams.get(stream_arn)?;
        let number = parse_sequence_number(sequence)?;
        let view = View::of(self, &stream).ok()?;
        view.shard_of(number).map(|s| s.shard.id.clone())
    }

    /// The sequence number of the newest record of stream `stream_arn`
    /// that is readable now (`None` when it has none): where a reader that
    /// starts at LATEST begins.
    pub fn stream_last_sequence(
        &self,
        stream_arn: &str,
    ) -> std::result::Result<Option<String>, nimbus_wire::AwsError> {
        let stream = self
            .streams
            .get(stream_arn)
            .ok_or_else(|| api::stream_not_found(stream_arn).into_aws())?;
        let id = stream.meta().id;
        let snapshot = self
            .store
            .snapshot()
            .map_err(|e| DynamoError::from(e).into_aws())?;
        let prefix = records_prefix(id);
        let end = layout::prefix_end(&prefix);
        let mut last = None;
        snapshot
            .scan(
                Bound::Included(&prefix[..]),
                Bound::Excluded(&end[..]),
                true,
                &mut |k, _| {
                    last = record_number(k);
                    false
                },
            )
            .map_err(|e| DynamoError::from(e).into_aws())?;
        Ok(last.map(sequence_number))
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

    /// Creates table `name` (key `pk`) with a `view` stream; returns the
    /// stream's ARN.
    async fn stream_table(
        db: &DynamoDb,
        ctx: &nimbus_wire::RequestContext,
        name: &str,
        view: &str,
    ) -> String {
        let body = format!(
            r#"{{"TableName":"{name}","KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],
            "AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],
            "BillingMode":"PAY_PER_REQUEST",
            "StreamSpecification":{{"StreamEnabled":true,"StreamViewType":"{view}"}}}}"#
        );
        let created = db
            .handle(ctx, "CreateTable", body.as_bytes())
            .await
            .unwrap();
        let created: Value = serde_json::from_slice(&created).unwrap();
        created["TableDescription"]["LatestStreamArn"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The in-process interface Lambda uses: a waiter wakes on a write and
    /// reads the record; a no-op write wakes no one with nothing.
    #[tokio::test]
    async fn in_process_readers_wait_and_read() {
        let store = nimbus_store::Store::in_memory().unwrap();
        let db =
            DynamoDb::open(store, crate::DynamoConfig::new("us-east-1"), Clock::new()).unwrap();
        let ctx = nimbus_wire::RequestContext {
            access_key: "AKID".into(),
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            request_id: "r".into(),
            host: None,
        };
        let arn = stream_table(&db, &ctx, "jobs", "NEW_IMAGE").await;
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

    /// In-process readers see one sequence across shard rollovers, and can
    /// ask which shard a record is in and where the stream ends.
    #[tokio::test]
    async fn in_process_readers_cross_shards() {
        let clock = Clock::new();
        let db = DynamoDb::open(
            nimbus_store::Store::in_memory().unwrap(),
            crate::DynamoConfig {
                stream_shard_rollover: Duration::from_secs(60),
                ..crate::DynamoConfig::new("us-east-1")
            },
            clock.clone(),
        )
        .unwrap();
        let ctx = nimbus_wire::RequestContext::local("us-east-1");
        let arn = stream_table(&db, &ctx, "rolls", "KEYS_ONLY").await;
        assert_eq!(db.stream_last_sequence(&arn).unwrap(), None);
        let put = |pk: &'static str| {
            let db = db.clone();
            let ctx = ctx.clone();
            async move {
                let body = format!(r#"{{"TableName":"rolls","Item":{{"pk":{{"S":"{pk}"}}}}}}"#);
                db.handle(&ctx, "PutItem", body.as_bytes()).await.unwrap();
            }
        };
        put("a").await;
        clock.advance(Duration::from_secs(61));
        put("b").await;
        clock.advance(Duration::from_secs(61));
        put("c").await;
        let batch = db.stream_records(&arn, None, 10).unwrap();
        let seqs: Vec<String> = batch
            .records
            .iter()
            .map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seqs.len(), 3, "one sequence across three shards");
        let shards: Vec<String> = seqs
            .iter()
            .map(|s| db.stream_shard_id(&arn, s).unwrap())
            .collect();
        assert!(shards[0] != shards[1] && shards[1] != shards[2] && shards[0] != shards[2]);
        assert_eq!(
            db.stream_last_sequence(&arn).unwrap().as_deref(),
            Some(seqs[2].as_str())
        );
        assert_eq!(db.stream_shard_id(&arn, "1"), None);
        assert_eq!(db.stream_shard_id("arn:nope", &seqs[0]), None);
        assert_eq!(
            db.stream_last_sequence("arn:nope").unwrap_err().code,
            "ResourceNotFoundException"
        );
    }
}
