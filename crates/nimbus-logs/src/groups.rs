//! Log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups.

use std::collections::BTreeMap;
use std::ops::Bound;

use nimbus_store::{ReadView, WriteTxn};
use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::error::{LogsError, Result};
use crate::model::{self, GroupRecord};
use crate::request::{self, Object};
use crate::{keys, tags, token, Logs};

const MAX_DESCRIBE: i64 = 50;
const CLASSES: [&str; 3] = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

pub async fn create_log_group(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    let kms_key_id = request::opt_str(req, "kmsKeyId")?.map(str::to_owned);
    if let Some(kms) = &kms_key_id {
        if kms.chars().count() > 256 {
            return Err(LogsError::validation(
                kms,
                "kmsKeyId",
                "Member must have length less than or equal to 256",
            ));
        }
    }
    let class = request::opt_str(req, "logGroupClass")?.unwrap_or("STANDARD");
    if !CLASSES.contains(&class) {
        return Err(LogsError::validation(
            class,
            "logGroupClass",
            "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
        ));
    }
    let class = class.to_owned();
    let tags = match request::opt_str_map(req, "tags")? {
        Some(tags) => tags::validate_new(tags, "tags")?,
        None => BTreeMap::new(),
    };
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    let now = logs.now_ms();
    logs.store()
        .write(move |txn| {
            if model::load_group(txn, &account, &region, &name)?.is_some() {
                return Err(LogsError::ResourceAlreadyExists(
                    "The specified log group already exists".into(),
                ));
            }
            let mut group = new_group(txn, &name, now)?;
            group.kms_key_id = kms_key_id;
            group.log_group_class = class;
            group.tags = tags;
            put_group(txn, &account, &region, &group);
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

/// A fresh group record with a newly allocated id (not yet written).
pub(crate) fn new_group(txn: &mut WriteTxn<'_>, name: &str, now: i64) -> Result<GroupRecord> {
    Ok(GroupRecord {
        name: name.to_owned(),
        id: model::next_id(txn)?,
        created_ms: now,
        retention_days: None,
        kms_key_id: None,
        log_group_class: "STANDARD".into(),
        tags: BTreeMap::new(),
        stored_bytes: 0,
    })
}

pub(crate) fn put_group(txn: &mut WriteTxn<'_>, account: &str, region: &str, group: &GroupRecord) {
    txn.put(
        &keys::group(account, region, &group.name),
        &model::encode(group),
    );
}

pub async fn delete_log_group(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name = request::group_name(req)?.to_owned();
    let (account, region) = (ctx.account_id.clone(), ctx.region.clone());
    logs.store()
        .write(move |txn| {
            let group = model::require_group(txn, &account, &region, &name)?;
            // Events, streams, then the group: all in this one write call.
            for prefix in [
                keys::by_time(group.id, &[]),
                keys::by_stream(group.id, &[]),
                keys::streams_prefix(group.id),
            ] {
                let end = keys::prefix_end(&prefix);
                txn.delete_range(Bound::Included(&prefix), Bound::Excluded(&end))?;
            }
            txn.delete(&keys::group(&account, &region, &name));
            Ok::<(), LogsError>(())
        })
        .await?;
    Ok(json!({}))
}

pub fn describe_log_groups(logs: &Logs, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let name_prefix = request::prefix(req, "logGroupNamePrefix")?;
    if let Some(p) = name_prefix {
        request::check_group_name(p, "logGroupNamePrefix")?;
    }
    let pattern = request::opt_str(req, "logGroupNamePattern")?;
    if let Some(p) = pattern {
        if p.chars().count() > 512 {
            return Err(LogsError::validation(
                p,
                "logGroupNamePattern",
                "Member must have length less than or equal to 512",
            ));
        }
    }
    if name_prefix.is_some() && pattern.is_some() {
        return Err(LogsError::InvalidParameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
                .into(),
        ));
    }
    let class = request::opt_str(req, "logGroupClass")?;
    if let Some(c) = class {
        if !CLASSES.contains(&c) {
            return Err(LogsError::validation(
                c,
                "logGroupClass",
                "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
            ));
        }
    }
    let limit = request::limit(req, MAX_DESCRIBE)?;
    let after = request::next_token(req)?
        .map(token::decode_name)
        .transpose()?;

    let base = keys::groups_prefix(&ctx.account_id, &ctx.region);
    let mut start = base.clone();
    start.extend_from_slice(name_prefix.unwrap_or("").as_bytes());
    let end = keys::prefix_end(&start);
    let resume = after.map(|name| {
        let mut k = base.clone();
        k.extend_from_slice(name.as_bytes());
        k
    });
    let lower = match &resume {
        Some(k) if *k >= start => Bound::Excluded(k.as_slice()),
        _ => Bound::Included(start.as_slice()),
    };
    // Case-insensitive substring match, as AWS documents for the pattern.
    let needle = pattern.map(str::to_lowercase);

    let snapshot = logs.store().snapshot()?;
    let mut groups = Vec::new();
    let mut more = false;
    let mut failure = None;
    snapshot.scan(lower, Bound::Excluded(&end), false, &mut |_, v| {
        let group: GroupRecord = match serde_json::from_slice(v) {
            Ok(g) => g,
            Err(e) => {
                failure = Some(LogsError::ServiceUnavailable(format!(
                    "a stored log group is unreadable: {e}"
                )));
                return false;
            }
        };
        if let Some(n) = &needle {
            if !group.name.to_lowercase().contains(n.as_str()) {
                return true;
            }
        }
        if class.is_some_and(|c| c != group.log_group_class) {
            return true;
        }
        if groups.len() == limit {
            more = true;
            return false;
        }
        groups.push(group);
        true
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let described: Vec<Value> = groups
        .iter()
        .map(|g| g.describe(&ctx.region, &ctx.account_id))
        .collect();
    let mut out = json!({ "logGroups": described });
    if more {
        if let Some(last) = groups.last() {
            out["nextToken"] = json!(token::encode_name(&last.name));
        }
    }
    Ok(out)
}
