//! The definition of a restored table: the source's keys and indexes with
//! the request's overrides, checked as AWS checks them.
//!
//! What a restore keeps and drops follows AWS: keys, attribute
//! definitions, billing mode, throughput and secondary indexes carry over;
//! streams, TTL, PITR, tags, deletion protection and the table class do not.
//! The table gets a new TableId and its own creation time.

use serde_json::Value;

use crate::catalog::{IndexDef, TableDef, Throughput};
use crate::codec::Violations;
use crate::error::{DynamoError, Result};
use crate::ops::tables::{
    check_index_members, check_throughput, parse_indexes, IndexInput, ProvisionedThroughput,
};

/// The override members both restore operations take.
pub(crate) struct Overrides {
    pub billing_mode: Option<String>,
    pub throughput: Option<ProvisionedThroughput>,
    /// `None`: keep every recorded index; `Some([])`: drop them all.
    pub gsis: Option<Vec<IndexInput>>,
    pub lsis: Option<Vec<IndexInput>>,
}

const PROVISIONED: &str = "PROVISIONED";
const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";

/// Checks the overrides' members before anything else (the request
/// framework's checks).
pub(crate) fn check_members(o: &Overrides) -> Result<()> {
    let mut v = Violations::new();
    if let Some(mode) = o.billing_mode.as_deref() {
        if mode != PROVISIONED && mode != PAY_PER_REQUEST {
            v.add(
                &Violations::quoted(mode),
                "billingModeOverride",
                "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
            );
        }
    }
    v.into_result()?;
    check_index_members(
        o.gsis.as_deref().unwrap_or_default(),
        o.lsis.as_deref().unwrap_or_default(),
    )
}

/// The restored table's definition (number 0: assigned when it is
/// stored), from `source` and the overrides.
pub(crate) fn target_definition(
    source: &TableDef,
    o: Overrides,
    (account, region, name): (&str, &str, &str),
    now: f64,
) -> Result<TableDef> {
    let mode = o
        .billing_mode
        .clone()
        .unwrap_or_else(|| source.billing_mode.clone());
    if o.throughput.is_some() && mode != PROVISIONED {
        return Err(DynamoError::validation(
            "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED",
        ));
    }
    if o.billing_mode.as_deref() == Some(PROVISIONED) && o.throughput.is_none() {
        return Err(DynamoError::validation(
            "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED",
        ));
    }
    let throughput = match o.throughput {
        Some(t) => check_throughput(t)?,
        None if mode == PROVISIONED => Throughput {
            read: source.throughput.read,
            write: source.throughput.write,
            ..Throughput::default()
        },
        None => Throughput::default(),
    };
    let mut indexes = Vec::new();
    for (local, list) in [(true, o.lsis), (false, o.gsis)] {
        match list {
            None => indexes.extend(source.indexes.iter().filter(|i| i.local == local).cloned()),
            Some(inputs) => indexes.extend(matched_indexes(source, local, inputs, &mode)?),
        }
    }
    for index in indexes.iter_mut() {
        index.throughput = match (index.local, mode.as_str()) {
            (true, _) | (false, PAY_PER_REQUEST) => None,
            // A GSI recorded without throughput (from an on-demand table)
            // gets the table's.
            (false, _) => Some(Throughput {
                read: index
                    .throughput
                    .as_ref()
                    .map_or(throughput.read, |t| t.read),
                write: index
                    .throughput
                    .as_ref()
                    .map_or(throughput.write, |t| t.write),
                ..Throughput::default()
            }),
        };
    }
    for (n, index) in indexes.iter_mut().enumerate() {
        index.number = n as u32;
    }
    let used: Vec<&str> = source
        .key_attrs()
        .chain(indexes.iter().flat_map(|i| i.key_attrs()))
        .map(|k| k.name.as_str())
        .collect();
    let attributes = source
        .attributes
        .iter()
        .filter(|(n, _)| used.contains(&n.as_str()))
        .cloned()
        .collect();
    Ok(TableDef {
        name: name.to_string(),
        account: account.to_string(),
        region: region.to_string(),
        id: uuid::Uuid::new_v4().to_string(),
        number: 0,
        hash_key: source.hash_key.clone(),
        range_key: source.range_key.clone(),
        attributes,
        billing_mode: mode,
        billing_mode_updated: now,
        throughput,
        created: now,
        tags: Vec::new(),
        deletion_protection: false,
        table_class: None,
        next_index: indexes.len() as u32,
        indexes,
        stream: None,
    })
}

/// An index override list, each entry checked as CreateTable checks it and
/// matched to a recorded index of the same kind, keys and projection (its
/// name may differ). The entry's ProvisionedThroughput, if any, replaces
/// the recorded one.
fn matched_indexes(
    source: &TableDef,
    local: bool,
    mut inputs: Vec<IndexInput>,
    mode: &str,
) -> Result<Vec<IndexDef>> {
    let given: Vec<Option<ProvisionedThroughput>> = inputs
        .iter_mut()
        .map(|i| i.provisioned_throughput.take())
        .collect();
    let (gsis, lsis) = if local {
        (&[][..], &inputs[..])
    } else {
        (&inputs[..], &[][..])
    };
    // Throughput was taken out above: it is checked against the restored
    // table's billing mode below, not CreateTable's.
    let parsed = parse_indexes(
        gsis,
        lsis,
        &source.attributes,
        &source.hash_key,
        source.range_key.as_ref(),
        PAY_PER_REQUEST,
    )?;
    let mut out = Vec::with_capacity(parsed.len());
    for (mut index, given) in parsed.into_iter().zip(given) {
        let Some(recorded) = source.indexes.iter().find(|r| {
            r.local == index.local
                && r.hash_key == index.hash_key
                && r.range_key == index.range_key
                && r.projection == index.projection
        }) else {
            return Err(DynamoError::validation(format!(
                "Index {} does not match a secondary index that existed in the source table and cannot be created during the restore operation",
                index.name
            )));
        };
        index.throughput = match given {
            Some(_) if mode != PROVISIONED => {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                    index.name
                )))
            }
            Some(t) => Some(check_throughput(t)?),
            None => recorded.throughput.clone(),
        };
        out.push(index);
    }
    Ok(out)
}

/// RestoreSummary while the restore runs (AWS drops it once the table is
/// ACTIVE).
pub(crate) fn restore_summary(
    source_backup_arn: Option<&str>,
    source_table_arn: &str,
    restore_ms: u64,
) -> Value {
    let mut s = serde_json::json!({
        "SourceTableArn": source_table_arn,
        "RestoreDateTime": restore_ms as f64 / 1000.0,
        "RestoreInProgress": true,
    });
    if let Some(arn) = source_backup_arn {
        s["SourceBackupArn"] = Value::String(arn.to_string());
    }
    s
}
