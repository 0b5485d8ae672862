//! Table operations: CreateTable, DescribeTable, ListTables, DeleteTable,
//! UpdateTable, DescribeLimits, DescribeEndpoints.

use std::sync::Arc;

use nimbus_store::{ReadView, WriteTxn};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::catalog::{IndexDef, IndexProjection, KeyAttr, KeyType, Table, TableDef, Throughput};
use crate::codec::{check_table_name, decode, epoch_seconds, Violations};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::streams::{self, Stream, ViewType};
use crate::{Caller, DynamoDb};

/// AWS's default per-region table quota.
pub const MAX_TABLES: usize = 2500;
const MAX_CAPACITY_UNITS: i64 = 40_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaElement {
    attribute_name: Option<String>,
    key_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: Option<String>,
    attribute_type: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProvisionedThroughput {
    read_capacity_units: Option<i64>,
    write_capacity_units: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateTableInput {
    table_name: Option<String>,
    #[serde(default)]
    key_schema: Vec<KeySchemaElement>,
    #[serde(default)]
    attribute_definitions: Vec<AttributeDefinition>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    tags: Option<Vec<Tag>>,
    global_secondary_indexes: Option<Vec<IndexInput>>,
    local_secondary_indexes: Option<Vec<IndexInput>>,
    stream_specification: Option<StreamSpecification>,
    deletion_protection_enabled: Option<bool>,
    table_class: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct IndexInput {
    pub(crate) index_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    projection: Option<ProjectionInput>,
    pub(crate) provisioned_throughput: Option<ProvisionedThroughput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionInput {
    projection_type: Option<String>,
    non_key_attributes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSpecification {
    stream_enabled: Option<bool>,
    stream_view_type: Option<String>,
}

/// What an UpdateTable does to the table's stream, in its store write.
#[derive(Clone, Copy)]
enum StreamChange {
    Enable(ViewType),
    Disable,
}

/// A StreamSpecification checked as AWS checks it: the view type to enable
/// with, or `None` to disable (or, on CreateTable, to have no stream).
fn parse_stream_spec(spec: &StreamSpecification) -> Result<Option<ViewType>> {
    let mut v = Violations::new();
    if spec.stream_enabled.is_none() {
        v.add(
            "null",
            "streamSpecification.streamEnabled",
            "Member must not be null",
        );
    }
    let view = spec.stream_view_type.as_deref();
    if let Some(t) = view.filter(|t| ViewType::parse(t).is_none()) {
        v.add(
            &Violations::quoted(t),
            "streamSpecification.streamViewType",
            &format!("Member must satisfy enum value set: {}", ViewType::ENUM),
        );
    }
    v.into_result()?;
    match (spec.stream_enabled == Some(true), view.and_then(ViewType::parse)) {
        (true, Some(view)) => Ok(Some(view)),
        (true, None) => Err(DynamoError::validation(
            "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required",
        )),
        (false, Some(_)) => Err(DynamoError::validation(
            "One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified",
        )),
        (false, None) => Ok(None),
    }
}

/// Inside an UpdateTable's store write: enables or closes the table's
/// stream, notes it in `def`, and switches the live stream item writes
/// record to. Checked against the live stream, so two concurrent
/// UpdateTables cannot both enable one.
fn apply_stream_change(
    txn: &mut WriteTxn<'_>,
    db: &DynamoDb,
    t: &Table,
    def: &mut TableDef,
    change: StreamChange,
) -> Result<Option<Arc<Stream>>> {
    match change {
        StreamChange::Enable(view) => {
            if t.live_stream().is_some() {
                return Err(stream_already_enabled(&def.name));
            }
            let stream = streams::create_stream(txn, &db.streams, &db.clock, def, view)?;
            def.stream = Some(streams::table_stream(&stream, true));
            t.switch_live_stream(txn, Some(stream.clone()));
            Ok(Some(stream))
        }
        StreamChange::Disable => {
            let Some(stream) = t.live_stream() else {
                return Err(no_stream_to_disable(&def.name));
            };
            streams::close_stream(txn, &stream, db.clock.now_ms());
            if let Some(s) = def.stream.as_mut() {
                s.enabled = false;
            }
            t.switch_live_stream(txn, None);
            Ok(None)
        }
    }
}

/// A definition derived from an older one must not undo a stream change
/// committed since: it keeps the stream note as stored.
fn keep_stored_stream(txn: &mut WriteTxn<'_>, def: &mut TableDef) -> Result<()> {
    let key = layout::table_key(&def.account, &def.region, &def.name);
    if let Some(current) = txn.get(&key)? {
        let current: TableDef = serde_json::from_slice(&current).map_err(|e| {
            DynamoError::Internal(format!("table definition {} is unreadable: {e}", def.name))
        })?;
        def.stream = current.stream;
    }
    Ok(())
}

fn stream_already_enabled(table: &str) -> DynamoError {
    DynamoError::validation(format!(
        "Table already has an enabled stream: TableName: {table}"
    ))
}

fn no_stream_to_disable(table: &str) -> DynamoError {
    DynamoError::validation(format!(
        "Table has no stream to disable: TableName: {table}"
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableNameInput {
    table_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTablesInput {
    exclusive_start_table_name: Option<String>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTableInput {
    table_name: Option<String>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
    deletion_protection_enabled: Option<bool>,
    table_class: Option<String>,
    global_secondary_index_updates: Option<Vec<GsiUpdateInput>>,
    stream_specification: Option<StreamSpecification>,
    #[serde(default)]
    attribute_definitions: Vec<AttributeDefinition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiUpdateInput {
    create: Option<IndexInput>,
    delete: Option<IndexNameInput>,
    update: Option<GsiThroughputInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexNameInput {
    index_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GsiThroughputInput {
    index_name: Option<String>,
    provisioned_throughput: Option<ProvisionedThroughput>,
}

/// What an UpdateTable does to the index entries, in its store write.
#[derive(Clone, Copy)]
enum IndexChange {
    /// Backfill the index with this number from every item.
    Create(u32),
    /// Drop every entry of the index with this number.
    Delete(u32),
}

/// A table's keys and attribute definitions, as CreateTable accepted them.
struct KeySchema {
    hash: KeyAttr,
    range: Option<KeyAttr>,
    attributes: Vec<(String, KeyType)>,
}

/// The key schema and its attribute definitions, checked as CreateTable
/// checks them.
fn parse_key_schema(
    key_schema: &[KeySchemaElement],
    definitions: &[AttributeDefinition],
    index_keys: &[&str],
) -> Result<KeySchema> {
    let mut v = Violations::new();
    if key_schema.is_empty() {
        v.add(
            "[]",
            "keySchema",
            "Member must have length greater than or equal to 1",
        );
    }
    if key_schema.len() > 2 {
        v.add(
            "[...]",
            "keySchema",
            "Member must have length less than or equal to 2",
        );
    }
    for (i, k) in key_schema.iter().enumerate() {
        let member = format!("keySchema.{}.member.keyType", i + 1);
        match k.key_type.as_deref() {
            None => v.add("null", &member, "Member must not be null"),
            Some("HASH" | "RANGE") => {}
            Some(other) => v.add(
                &Violations::quoted(other),
                &member,
                "Member must satisfy enum value set: [HASH, RANGE]",
            ),
        }
        let member = format!("keySchema.{}.member.attributeName", i + 1);
        match k.attribute_name.as_deref() {
            None => v.add("null", &member, "Member must not be null"),
            Some(n) if n.is_empty() || n.len() > 255 => v.add(
                &Violations::quoted(n),
                &member,
                "Member must have length between 1 and 255",
            ),
            Some(_) => {}
        }
    }
    for (i, d) in definitions.iter().enumerate() {
        let member = format!("attributeDefinitions.{}.member.attributeType", i + 1);
        match d.attribute_type.as_deref() {
            None => v.add("null", &member, "Member must not be null"),
            Some(t) if KeyType::parse(t).is_none() => v.add(
                &Violations::quoted(t),
                &member,
                "Member must satisfy enum value set: [B, N, S]",
            ),
            Some(_) => {}
        }
        if d.attribute_name.is_none() {
            let member = format!("attributeDefinitions.{}.member.attributeName", i + 1);
            v.add("null", &member, "Member must not be null");
        }
    }
    v.into_result()?;

    let defs: Vec<(String, KeyType)> = definitions
        .iter()
        .map(|d| {
            (
                d.attribute_name.clone().unwrap_or_default(),
                KeyType::parse(d.attribute_type.as_deref().unwrap_or_default())
                    .unwrap_or(KeyType::S),
            )
        })
        .collect();
    for (i, (name, _)) in defs.iter().enumerate() {
        if defs[..i].iter().any(|(n, _)| n == name) {
            return Err(DynamoError::validation(format!(
                "Cannot have two attributes with the same name; attribute name: {name}"
            )));
        }
    }
    let hash = &key_schema[0];
    if hash.key_type.as_deref() != Some("HASH") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    let range = key_schema.get(1);
    if let Some(r) = range {
        if r.key_type.as_deref() != Some("RANGE") {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if r.attribute_name == hash.attribute_name {
            return Err(DynamoError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    let lookup = |k: &KeySchemaElement| -> Option<KeyAttr> {
        let name = k.attribute_name.as_deref()?;
        defs.iter().find(|(n, _)| n == name).map(|(n, t)| KeyAttr {
            name: n.clone(),
            key_type: *t,
        })
    };
    // Every key attribute the table and its indexes use, each once, in the
    // order they first appear.
    let mut key_names: Vec<&str> = Vec::new();
    for name in key_schema
        .iter()
        .filter_map(|k| k.attribute_name.as_deref())
        .chain(index_keys.iter().copied())
    {
        if !key_names.contains(&name) {
            key_names.push(name);
        }
    }
    let (Some(hash_attr), range_attr) = (lookup(hash), range.map(lookup)) else {
        return Err(undefined_key(&key_names, &defs));
    };
    if range_attr == Some(None) || index_keys.iter().any(|k| !defs.iter().any(|(n, _)| n == k)) {
        return Err(undefined_key(&key_names, &defs));
    }
    if defs.len() != key_names.len() {
        if !index_keys.is_empty() {
            let def_names: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
                def_names.join(", "),
                key_names.join(", ")
            )));
        }
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(KeySchema {
        hash: hash_attr,
        range: range_attr.flatten(),
        attributes: defs,
    })
}

/// A key attribute without a definition: AWS words it differently when
/// there are fewer definitions than key attributes.
fn undefined_key(keys: &[&str], defs: &[(String, KeyType)]) -> DynamoError {
    if defs.len() < keys.len() {
        return DynamoError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        );
    }
    let def_names: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
    DynamoError::validation(format!(
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
        keys.join(", "),
        def_names.join(", ")
    ))
}

/// Most global secondary indexes a table may have.
pub const MAX_GSIS: usize = 20;
/// Most local secondary indexes a table may have.
pub const MAX_LSIS: usize = 5;
/// Most NonKeyAttributes over all of a table's indexes.
pub const MAX_PROJECTED: usize = 100;

/// The request framework's checks of the index lists' members, reported
/// together.
pub(crate) fn check_index_members(gsis: &[IndexInput], lsis: &[IndexInput]) -> Result<()> {
    let mut v = Violations::new();
    for (list, indexes) in [
        ("globalSecondaryIndexes", gsis),
        ("localSecondaryIndexes", lsis),
    ] {
        for (i, index) in indexes.iter().enumerate() {
            let member = format!("{list}.{}.member", i + 1);
            v.check_name(
                index.index_name.as_deref(),
                &format!("{member}.indexName"),
                3,
                255,
            );
            match &index.key_schema {
                None => v.add(
                    "null",
                    &format!("{member}.keySchema"),
                    "Member must not be null",
                ),
                Some(k) if k.is_empty() => v.add(
                    "[]",
                    &format!("{member}.keySchema"),
                    "Member must have length greater than or equal to 1",
                ),
                Some(k) if k.len() > 2 => v.add(
                    "[...]",
                    &format!("{member}.keySchema"),
                    "Member must have length less than or equal to 2",
                ),
                Some(k) => {
                    for (j, e) in k.iter().enumerate() {
                        let m = format!("{member}.keySchema.{}.member", j + 1);
                        match e.key_type.as_deref() {
                            None => {
                                v.add("null", &format!("{m}.keyType"), "Member must not be null")
                            }
                            Some("HASH" | "RANGE") => {}
                            Some(other) => v.add(
                                &Violations::quoted(other),
                                &format!("{m}.keyType"),
                                "Member must satisfy enum value set: [HASH, RANGE]",
                            ),
                        }
                        if e.attribute_name.is_none() {
                            v.add(
                                "null",
                                &format!("{m}.attributeName"),
                                "Member must not be null",
                            );
                        }
                    }
                }
            }
            match &index.projection {
                None => v.add(
                    "null",
                    &format!("{member}.projection"),
                    "Member must not be null",
                ),
                Some(p) => match p.projection_type.as_deref() {
                    None | Some("ALL" | "KEYS_ONLY" | "INCLUDE") => {}
                    Some(other) => v.add(
                        &Violations::quoted(other),
                        &format!("{member}.projection.projectionType"),
                        "Member must satisfy enum value set: [INCLUDE, ALL, KEYS_ONLY]",
                    ),
                },
            }
        }
    }
    v.into_result()
}

/// The indexes of a CreateTable request, checked as AWS checks them (after
/// the table's key schema, whose checks cover the index key attributes'
/// definitions).
pub(crate) fn parse_indexes(
    gsis: &[IndexInput],
    lsis: &[IndexInput],
    defs: &[(String, KeyType)],
    hash: &KeyAttr,
    range: Option<&KeyAttr>,
    billing_mode: &str,
) -> Result<Vec<IndexDef>> {
    let invalid = |m: String| {
        DynamoError::validation(format!("One or more parameter values were invalid: {m}"))
    };
    if !lsis.is_empty() && range.is_none() {
        return Err(invalid(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex".into(),
        ));
    }
    if gsis.len() > MAX_GSIS {
        return Err(invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
        )));
    }
    if lsis.len() > MAX_LSIS {
        return Err(invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
        )));
    }
    let mut out: Vec<IndexDef> = Vec::with_capacity(gsis.len() + lsis.len());
    let mut projected = 0;
    for (local, index) in lsis
        .iter()
        .map(|i| (true, i))
        .chain(gsis.iter().map(|i| (false, i)))
    {
        let name = index.index_name.clone().unwrap_or_default();
        let key_schema = index.key_schema.as_deref().unwrap_or_default();
        let first = &key_schema[0];
        if first.key_type.as_deref() != Some("HASH") {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
        if let Some(second) = key_schema.get(1) {
            if second.key_type.as_deref() != Some("RANGE") {
                return Err(DynamoError::validation(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
                ));
            }
            if second.attribute_name == first.attribute_name {
                return Err(DynamoError::validation(
                    "Both the Hash Key and the Range Key element in the KeySchema have the same name",
                ));
            }
        }
        let attr = |k: &KeySchemaElement| {
            let n = k.attribute_name.as_deref().unwrap_or_default();
            let t = defs
                .iter()
                .find(|(d, _)| d == n)
                .map_or(KeyType::S, |(_, t)| *t);
            KeyAttr {
                name: n.to_string(),
                key_type: t,
            }
        };
        let hash_key = attr(first);
        let range_key = key_schema.get(1).map(attr);
        if local {
            let Some(range_key) = &range_key else {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            };
            if hash_key.name != hash.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                    hash_key.name, hash.name
                )));
            }
            let _ = range_key;
        }
        let p = index.projection.as_ref().expect("checked present");
        let projection = match (p.projection_type.as_deref(), &p.non_key_attributes) {
            (Some("INCLUDE"), Some(names)) if !names.is_empty() => {
                if let Some(dup) = names
                    .iter()
                    .enumerate()
                    .find(|(i, n)| names[..*i].contains(n))
                {
                    return Err(invalid(format!(
                        "Duplicate element in NonKeyAttributes: {}",
                        dup.1
                    )));
                }
                projected += names.len();
                IndexProjection::Include(names.clone())
            }
            (Some("INCLUDE"), _) => {
                return Err(invalid(
                    "ProjectionType is INCLUDE, but NonKeyAttributes is not specified".into(),
                ))
            }
            (t, Some(_)) => {
                return Err(invalid(format!(
                    "ProjectionType is {}, but NonKeyAttributes is specified",
                    t.unwrap_or("ALL")
                )))
            }
            (Some("KEYS_ONLY"), None) => IndexProjection::KeysOnly,
            _ => IndexProjection::All,
        };
        if out.iter().any(|i| i.name == name) {
            return Err(invalid(format!("Duplicate index name: {name}")));
        }
        let throughput = if local {
            None
        } else {
            match (billing_mode, index.provisioned_throughput) {
                ("PROVISIONED", None) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput is not specified for index: {name}"
                    )))
                }
                ("PROVISIONED", Some(t)) => Some(check_throughput(t)?),
                (_, Some(_)) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )))
                }
                _ => None,
            }
        };
        out.push(IndexDef {
            number: out.len() as u32,
            name,
            local,
            hash_key,
            range_key,
            projection,
            throughput,
            backfilled: false,
        });
    }
    if projected > MAX_PROJECTED {
        return Err(invalid(format!(
            "Number of projected attributes in all indexes exceeds limit of {MAX_PROJECTED}"
        )));
    }
    Ok(out)
}

/// Billing mode and throughput, checked together as AWS checks them.
fn parse_billing(
    mode: Option<&str>,
    throughput: Option<ProvisionedThroughput>,
) -> Result<(String, Throughput)> {
    match mode.unwrap_or("PROVISIONED") {
        "PAY_PER_REQUEST" => {
            if throughput.is_some() {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            Ok(("PAY_PER_REQUEST".into(), Throughput::default()))
        }
        "PROVISIONED" => {
            let Some(t) = throughput else {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ));
            };
            Ok(("PROVISIONED".into(), check_throughput(t)?))
        }
        other => {
            let mut v = Violations::new();
            v.add(
                &Violations::quoted(other),
                "billingMode",
                "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
            );
            v.into_result()?;
            unreachable!("a violation was added")
        }
    }
}

pub(crate) fn check_throughput(t: ProvisionedThroughput) -> Result<Throughput> {
    let mut v = Violations::new();
    for (value, member) in [
        (
            t.read_capacity_units,
            "provisionedThroughput.readCapacityUnits",
        ),
        (
            t.write_capacity_units,
            "provisionedThroughput.writeCapacityUnits",
        ),
    ] {
        match value {
            None => v.add("null", member, "Member must not be null"),
            Some(n) if n < 1 => v.add(
                &Violations::quoted(&n.to_string()),
                member,
                "Member must have value greater than or equal to 1",
            ),
            Some(_) => {}
        }
    }
    v.into_result()?;
    let (read, write) = (
        t.read_capacity_units.unwrap_or(1),
        t.write_capacity_units.unwrap_or(1),
    );
    if read > MAX_CAPACITY_UNITS || write > MAX_CAPACITY_UNITS {
        return Err(DynamoError::LimitExceeded(format!(
            "Subscriber limit exceeded: Provisioned throughput for the table cannot exceed {MAX_CAPACITY_UNITS} read or write capacity units"
        )));
    }
    Ok(Throughput {
        read,
        write,
        ..Throughput::default()
    })
}

pub(crate) fn parse_tags(tags: &[Tag], member: &str) -> Result<Vec<(String, String)>> {
    let mut v = Violations::new();
    for (i, t) in tags.iter().enumerate() {
        match t.key.as_deref() {
            None => v.add(
                "null",
                &format!("{member}.{}.member.key", i + 1),
                "Member must not be null",
            ),
            Some(k) if k.is_empty() || k.chars().count() > 128 => v.add(
                &Violations::quoted(k),
                &format!("{member}.{}.member.key", i + 1),
                "Member must have length between 1 and 128",
            ),
            _ => {}
        }
        match t.value.as_deref() {
            None => v.add(
                "null",
                &format!("{member}.{}.member.value", i + 1),
                "Member must not be null",
            ),
            Some(val) if val.chars().count() > 256 => v.add(
                &Violations::quoted(val),
                &format!("{member}.{}.member.value", i + 1),
                "Member must have length less than or equal to 256",
            ),
            _ => {}
        }
    }
    v.into_result()?;
    Ok(tags
        .iter()
        .map(|t| {
            (
                t.key.clone().unwrap_or_default(),
                t.value.clone().unwrap_or_default(),
            )
        })
        .collect())
}

pub async fn create_table(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: CreateTableInput = decode(body)?;
    let name = check_table_name(input.table_name.as_deref())?.to_string();
    for (list, given) in [
        ("GlobalSecondaryIndexes", &input.global_secondary_indexes),
        ("LocalSecondaryIndexes", &input.local_secondary_indexes),
    ] {
        if given.as_ref().is_some_and(Vec::is_empty) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: List of {list} is empty"
            )));
        }
    }
    let gsis = input.global_secondary_indexes.unwrap_or_default();
    let lsis = input.local_secondary_indexes.unwrap_or_default();
    check_index_members(&gsis, &lsis)?;
    let index_keys: Vec<&str> = gsis
        .iter()
        .chain(&lsis)
        .flat_map(|i| i.key_schema.iter().flatten())
        .filter_map(|k| k.attribute_name.as_deref())
        .collect();
    let KeySchema {
        hash: hash_key,
        range: range_key,
        attributes,
    } = parse_key_schema(&input.key_schema, &input.attribute_definitions, &index_keys)?;
    let (billing_mode, throughput) =
        parse_billing(input.billing_mode.as_deref(), input.provisioned_throughput)?;
    let indexes = parse_indexes(
        &gsis,
        &lsis,
        &attributes,
        &hash_key,
        range_key.as_ref(),
        &billing_mode,
    )?;
    let tags = parse_tags(input.tags.as_deref().unwrap_or_default(), "tags")?;
    if tags.len() > 50 {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Too many tags: the limit is 50",
        ));
    }
    let stream_view = match &input.stream_specification {
        Some(spec) => parse_stream_spec(spec)?,
        None => None,
    };
    if let Some(class) = input.table_class.as_deref() {
        if class != "STANDARD" && class != "STANDARD_INFREQUENT_ACCESS" {
            let mut v = Violations::new();
            v.add(
                &Violations::quoted(class),
                "tableClass",
                "Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]",
            );
            v.into_result()?;
        }
    }
    if db
        .catalog
        .get(&caller.account_id, &caller.region, &name)
        .is_some()
    {
        return Err(DynamoError::ResourceInUse(format!(
            "Table already exists: {name}"
        )));
    }
    if db
        .backups
        .restores
        .get(&caller.account_id, &caller.region, &name)
        .is_some()
    {
        return Err(DynamoError::ResourceInUse(format!(
            "Table is being used: {name}"
        )));
    }
    if db.catalog.count(&caller.account_id, &caller.region) >= MAX_TABLES {
        return Err(DynamoError::LimitExceeded(format!(
            "Subscriber limit exceeded: Only {MAX_TABLES} tables can be created in this region"
        )));
    }
    let now = epoch_seconds(db.clock.now());
    let def = TableDef {
        name: name.clone(),
        account: caller.account_id.clone(),
        region: caller.region.clone(),
        id: uuid::Uuid::new_v4().to_string(),
        number: 0, // assigned in the write transaction
        hash_key,
        range_key,
        attributes,
        billing_mode,
        billing_mode_updated: now,
        throughput,
        created: now,
        tags,
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        table_class: input.table_class,
        next_index: indexes.len() as u32,
        indexes,
        stream: None,
    };
    let d = db.clone();
    let (def, stream) = db
        .store
        .write(
            move |txn: &mut WriteTxn<'_>| -> Result<(TableDef, Option<Arc<Stream>>)> {
                // Two concurrent CreateTable calls for one name: the second to
                // reach the writer finds the first's definition here.
                let Some(number) = claim_table_number(txn, &def)? else {
                    return Err(DynamoError::ResourceInUse(format!(
                        "Table already exists: {}",
                        def.name
                    )));
                };
                let mut def = TableDef { number, ..def };
                // The stream starts with the table, in the same write.
                let stream = match stream_view {
                    Some(view) => {
                        let s = streams::create_stream(txn, &d.streams, &d.clock, &def, view)?;
                        def.stream = Some(streams::table_stream(&s, true));
                        Some(s)
                    }
                    None => None,
                };
                write_definition(txn, &def);
                Ok((def, stream))
            },
        )
        .await?;
    let desc = describe(&def, "CREATING", Stats::default(), &[]);
    let table = Table::new(def);
    if let Some(stream) = stream {
        table.set_live_stream(Some(stream.clone()));
        streams::register(&db.streams, stream);
    }
    db.catalog.insert(table);
    tracing::info!(table = %name, "created table");
    Ok(json!({ "TableDescription": desc }))
}

/// Inside the write that creates a table: `None` if a table of that name
/// exists (or is being restored), else the new table's number, which is
/// never reused.
pub(crate) fn claim_table_number(txn: &mut WriteTxn<'_>, def: &TableDef) -> Result<Option<u64>> {
    let key = layout::table_key(&def.account, &def.region, &def.name);
    if txn.get(&key)?.is_some() {
        return Ok(None);
    }
    let number = txn
        .get(layout::NEXT_TABLE_NUMBER_KEY)?
        .and_then(|v| v.try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(1);
    txn.put(layout::NEXT_TABLE_NUMBER_KEY, &(number + 1).to_be_bytes());
    Ok(Some(number))
}

/// Stores a table's definition.
pub(crate) fn write_definition(txn: &mut WriteTxn<'_>, def: &TableDef) {
    txn.put(
        &layout::table_key(&def.account, &def.region, &def.name),
        &serde_json::to_vec(def).expect("table definitions serialize"),
    );
}

/// Item count and total size of a table, kept up to date by every write.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub items: i64,
    pub bytes: i64,
}

impl Stats {
    pub fn decode(v: &[u8]) -> Stats {
        let get = |r: std::ops::Range<usize>| {
            v.get(r)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .unwrap_or(0)
        };
        Stats {
            items: get(0..8),
            bytes: get(8..16),
        }
    }

    pub fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.items.to_be_bytes());
        out[8..].copy_from_slice(&self.bytes.to_be_bytes());
        out
    }

    pub fn read(view: &impl ReadView, table_number: u64) -> Result<Stats> {
        Ok(view
            .get_with(&layout::stats_key(table_number), Stats::decode)?
            .unwrap_or_default())
    }

    /// Applies an item replacement (`old` and `new` sizes; `None` when there
    /// was or will be no item) inside a write transaction.
    pub fn apply(
        txn: &mut WriteTxn<'_>,
        table_number: u64,
        old: Option<usize>,
        new: Option<usize>,
    ) -> Result<()> {
        Stats::apply_at(txn, &layout::stats_key(table_number), old, new)
    }

    /// [`Stats::apply`] for the stats stored under `key` (a table's or an
    /// index's).
    pub fn apply_at(
        txn: &mut WriteTxn<'_>,
        key: &[u8],
        old: Option<usize>,
        new: Option<usize>,
    ) -> Result<()> {
        if old.is_none() && new.is_none() {
            return Ok(());
        }
        let mut s = txn.get_with(key, Stats::decode)?.unwrap_or_default();
        s.items += new.is_some() as i64 - old.is_some() as i64;
        s.bytes += new.unwrap_or(0) as i64 - old.unwrap_or(0) as i64;
        txn.put(key, &s.encode());
        Ok(())
    }
}

/// The stats of each of a table's indexes, in `def.indexes` order.
pub fn read_index_stats(view: &impl ReadView, def: &TableDef) -> Result<Vec<Stats>> {
    stats_of(view, def, &def.indexes)
}

/// The stats of each of `indexes` (the table's, or ones being deleted).
fn stats_of(view: &impl ReadView, def: &TableDef, indexes: &[IndexDef]) -> Result<Vec<Stats>> {
    indexes
        .iter()
        .map(|i| {
            Ok(view
                .get_with(
                    &layout::index_stats_key(def.number, i.number),
                    Stats::decode,
                )?
                .unwrap_or_default())
        })
        .collect()
}

pub(crate) fn key_schema_json(hash: &KeyAttr, range: Option<&KeyAttr>) -> Vec<Value> {
    std::iter::once((hash, "HASH"))
        .chain(range.map(|r| (r, "RANGE")))
        .map(|(k, t)| json!({"AttributeName": k.name, "KeyType": t}))
        .collect()
}

/// An index's Projection member.
pub(crate) fn projection_json(projection: &IndexProjection) -> Value {
    let mut out = json!({ "ProjectionType": projection.type_name() });
    if let IndexProjection::Include(names) = projection {
        out["NonKeyAttributes"] = json!(names);
    }
    out
}

/// One index's entry in a TableDescription (a GSI's ACTIVE).
pub fn index_description(def: &TableDef, index: &IndexDef, stats: Stats) -> Value {
    let mut d = json!({
        "IndexName": index.name,
        "KeySchema": key_schema_json(&index.hash_key, index.range_key.as_ref()),
        "Projection": projection_json(&index.projection),
        "IndexSizeBytes": stats.bytes,
        "ItemCount": stats.items,
        "IndexArn": def.index_arn(&index.name),
    });
    if !index.local {
        let t = index.throughput.clone().unwrap_or_default();
        d["IndexStatus"] = json!("ACTIVE");
        if index.backfilled {
            // Its backfill is over (a running one reports true).
            d["Backfilling"] = json!(false);
        }
        d["ProvisionedThroughput"] = json!({
            "NumberOfDecreasesToday": t.decreases_today,
            "ReadCapacityUnits": t.read,
            "WriteCapacityUnits": t.write,
        });
    }
    d
}

/// The GlobalSecondaryIndexes and LocalSecondaryIndexes members of a
/// TableDescription.
fn describe_indexes(def: &TableDef, table_status: &str, stats: &[Stats], desc: &mut Value) {
    let mut gsis = Vec::new();
    let mut lsis = Vec::new();
    for (i, index) in def.indexes.iter().enumerate() {
        let mut d = index_description(def, index, stats.get(i).copied().unwrap_or_default());
        if index.local {
            lsis.push(d);
        } else {
            if table_status == "CREATING" {
                d["IndexStatus"] = json!("CREATING");
            }
            gsis.push(d);
        }
    }
    if !gsis.is_empty() {
        desc["GlobalSecondaryIndexes"] = Value::Array(gsis);
    }
    if !lsis.is_empty() {
        desc["LocalSecondaryIndexes"] = Value::Array(lsis);
    }
}

/// The TableDescription structure of DescribeTable and friends;
/// `index_stats` follows `def.indexes`.
pub fn describe(def: &TableDef, status: &str, stats: Stats, index_stats: &[Stats]) -> Value {
    let key_schema = key_schema_json(&def.hash_key, def.range_key.as_ref());
    let attrs: Vec<Value> = def
        .attributes
        .iter()
        .map(|(n, t)| json!({"AttributeName": n, "AttributeType": t.as_str()}))
        .collect();
    let mut throughput = json!({
        "NumberOfDecreasesToday": def.throughput.decreases_today,
        "ReadCapacityUnits": def.throughput.read,
        "WriteCapacityUnits": def.throughput.write,
    });
    if let Some(t) = def.throughput.last_increase {
        throughput["LastIncreaseDateTime"] = json!(t);
    }
    if let Some(t) = def.throughput.last_decrease {
        throughput["LastDecreaseDateTime"] = json!(t);
    }
    let mut billing = json!({ "BillingMode": def.billing_mode });
    if def.billing_mode == "PAY_PER_REQUEST" {
        billing["LastUpdateToPayPerRequestDateTime"] = json!(def.billing_mode_updated);
    }
    let mut desc = json!({
        "TableName": def.name,
        "TableStatus": status,
        "TableArn": def.arn(),
        "TableId": def.id,
        "KeySchema": key_schema,
        "AttributeDefinitions": attrs,
        "CreationDateTime": def.created,
        "ItemCount": stats.items,
        "TableSizeBytes": stats.bytes,
        "ProvisionedThroughput": throughput,
        "BillingModeSummary": billing,
        "DeletionProtectionEnabled": def.deletion_protection,
    });
    if let Some(class) = &def.table_class {
        desc["TableClassSummary"] = json!({ "TableClass": class });
    }
    describe_indexes(def, status, index_stats, &mut desc);
    if let Some(s) = &def.stream {
        // After a stream is disabled AWS drops StreamSpecification but
        // keeps naming the latest stream.
        if s.enabled {
            desc["StreamSpecification"] =
                json!({"StreamEnabled": true, "StreamViewType": s.view_type.as_str()});
        }
        desc["LatestStreamArn"] = json!(s.arn);
        desc["LatestStreamLabel"] = json!(s.label);
    }
    desc
}

fn lookup(db: &DynamoDb, caller: &Caller, name: &str) -> Result<Arc<Table>> {
    db.catalog
        .get(&caller.account_id, &caller.region, name)
        .ok_or_else(|| DynamoError::table_not_found(name))
}

pub async fn describe_table(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: TableNameInput = decode(body)?;
    let name = check_table_name(input.table_name.as_deref())?;
    let table = match lookup(db, caller, name) {
        Ok(table) => table,
        // A table being restored is described CREATING (see `backup`).
        Err(e) => match db
            .backups
            .restores
            .get(&caller.account_id, &caller.region, name)
        {
            Some(restoring) => {
                let snapshot = db.store.snapshot()?;
                return Ok(json!({ "Table": restoring.describe(&snapshot)? }));
            }
            None => return Err(e),
        },
    };
    // Jobs first: one that ends after the snapshot reads as still running,
    // never as done with stats from before it.
    let jobs = table.jobs();
    let snapshot = db.store.snapshot()?;
    let stats = Stats::read(&snapshot, table.def.number)?;
    let index_stats = read_index_stats(&snapshot, &table.def)?;
    // An index being created or deleted keeps the table UPDATING, as on AWS.
    let status = if jobs.is_empty() {
        "ACTIVE"
    } else {
        "UPDATING"
    };
    let mut desc = describe(&table.def, status, stats, &index_stats);
    let drop_stats = stats_of(&snapshot, &table.def, &jobs.drops)?;
    crate::backfill::describe_jobs(&mut desc, &table, &jobs, &drop_stats);
    Ok(json!({ "Table": desc }))
}

pub async fn list_tables(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: ListTablesInput = decode(body)?;
    let mut v = Violations::new();
    if let Some(limit) = input.limit {
        if !(1..=100).contains(&limit) {
            let constraint = if limit < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 100"
            };
            v.add(&Violations::quoted(&limit.to_string()), "limit", constraint);
        }
    }
    if let Some(start) = input.exclusive_start_table_name.as_deref() {
        v.check_name(Some(start), "exclusiveStartTableName", 3, 255);
    }
    v.into_result()?;
    let limit = input.limit.unwrap_or(100) as usize;
    let mut names = db.catalog.names(&caller.account_id, &caller.region);
    // Tables being restored are listed too, as on AWS.
    names.extend(
        db.backups
            .restores
            .names(&caller.account_id, &caller.region),
    );
    names.sort();
    names.dedup();
    let start = match input.exclusive_start_table_name.as_deref() {
        Some(s) => names.partition_point(|n| n.as_str() <= s),
        None => 0,
    };
    let page: Vec<&String> = names[start..].iter().take(limit).collect();
    let mut out = json!({ "TableNames": page });
    if start + page.len() < names.len() {
        if let Some(last) = page.last() {
            out["LastEvaluatedTableName"] = json!(last);
        }
    }
    Ok(out)
}

pub async fn delete_table(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: TableNameInput = decode(body)?;
    let name = check_table_name(input.table_name.as_deref())?.to_string();
    let table = lookup(db, caller, &name).map_err(|e| {
        match db
            .backups
            .restores
            .get(&caller.account_id, &caller.region, &name)
        {
            Some(_) => DynamoError::ResourceInUse(format!(
                "Attempt to change a resource which is still in use: Table is being created: {name}"
            )),
            None => e,
        }
    })?;
    if table.def.deletion_protection {
        return Err(DynamoError::validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        ));
    }
    let t = table.clone();
    let clock = db.clock.clone();
    let stats = db
        .store
        .write(
            move |txn: &mut WriteTxn<'_>| -> Result<(Stats, Vec<Stats>)> {
                if t.is_dropped() {
                    return Err(DynamoError::table_not_found(&t.def.name));
                }
                // The stream outlives its table (readable, DISABLED, for
                // the retention period); its shard closes here.
                if let Some(stream) = t.live_stream() {
                    streams::close_stream(txn, &stream, clock.now_ms());
                    t.switch_live_stream(txn, None);
                }
                let stats = Stats::read(txn, t.def.number)?;
                let index_stats = read_index_stats(txn, &t.def)?;
                txn.delete(&layout::table_key(
                    &t.def.account,
                    &t.def.region,
                    &t.def.name,
                ));
                txn.delete(&layout::stats_key(t.def.number));
                // Items, index entries, index stats and index jobs.
                for prefix in [
                    layout::items_prefix(t.def.number),
                    layout::table_indexes_prefix(t.def.number),
                    layout::table_index_stats_prefix(t.def.number),
                    crate::backfill::table_jobs_prefix(t.def.number),
                ] {
                    let end = layout::prefix_end(&prefix);
                    txn.delete_range(
                        std::ops::Bound::Included(&prefix[..]),
                        std::ops::Bound::Excluded(&end[..]),
                    )?;
                }
                crate::ttl::drop_table(txn, t.def.number)?;
                // Set inside the writer so every write queued after this one
                // sees the table gone (and taken back if this write is lost).
                t.mark_dropped_in(txn);
                Ok((stats, index_stats))
            },
        )
        .await?;
    let (stats, index_stats) = stats;
    db.catalog.remove(&caller.account_id, &caller.region, &name);
    tracing::info!(table = %name, items = stats.items, "deleted table");
    Ok(json!({ "TableDescription": describe(&table.def, "DELETING", stats, &index_stats) }))
}

pub async fn update_table(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: UpdateTableInput = decode(body)?;
    let name = check_table_name(input.table_name.as_deref())?.to_string();
    let table = lookup(db, caller, &name)?;
    let stream_change = match &input.stream_specification {
        None => None,
        Some(spec) => {
            let enabled = table.def.stream.as_ref().is_some_and(|s| s.enabled);
            match (parse_stream_spec(spec)?, enabled) {
                (Some(_), true) => return Err(stream_already_enabled(&name)),
                (None, false) => return Err(no_stream_to_disable(&name)),
                (Some(view), false) => Some(StreamChange::Enable(view)),
                (None, true) => Some(StreamChange::Disable),
            }
        }
    };
    let mut def = table.def.clone();
    let now = epoch_seconds(db.clock.now());
    let mut changed = stream_change.is_some();
    match (input.billing_mode.as_deref(), input.provisioned_throughput) {
        (None, None) => {}
        (Some(mode), t) if mode != def.billing_mode => {
            let (mode, throughput) = parse_billing(Some(mode), t)?;
            def.billing_mode = mode;
            def.billing_mode_updated = now;
            // GSIs follow the table's billing mode: to PROVISIONED, the
            // request must give each GSI's throughput as an index Update.
            for index in def.indexes.iter_mut().filter(|i| !i.local) {
                index.throughput = None;
            }
            def.throughput = throughput;
            changed = true;
        }
        (_, Some(t)) => {
            if def.billing_mode == "PAY_PER_REQUEST" {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            let new = check_throughput(t)?;
            if new.read == def.throughput.read && new.write == def.throughput.write {
                return Err(DynamoError::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    def.throughput.read, new.read, def.throughput.write, new.write
                )));
            }
            apply_throughput(&mut def.throughput, &new, now);
            changed = true;
        }
        (Some(_), None) => {}
    }
    if let Some(p) = input.deletion_protection_enabled {
        changed |= p != def.deletion_protection;
        def.deletion_protection = p;
    }
    if let Some(class) = input.table_class {
        changed |= def.table_class.as_deref() != Some(class.as_str());
        def.table_class = Some(class);
    }
    let updates = input.global_secondary_index_updates.unwrap_or_default();
    changed |= !updates.is_empty();
    let change = gsi_updates(&mut def, updates, &input.attribute_definitions, now)?;
    if def.billing_mode == "PROVISIONED" {
        let missing: Vec<&str> = def
            .indexes
            .iter()
            .filter(|i| !i.local && i.throughput.is_none())
            .map(|i| i.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {}",
                missing.join(",")
            )));
        }
    }
    if !changed {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    // The index a Delete removes, for the response's DELETING entry.
    let deleted = match change {
        Some(IndexChange::Delete(number)) => table
            .def
            .indexes
            .iter()
            .find(|i| i.number == number)
            .cloned(),
        _ => None,
    };
    let (stats, def) = match change {
        None => save_definition_with(db, &table, def, stream_change).await?,
        Some(change) => change_index(db, &table, def, change, stream_change).await?,
    };
    let table = db
        .catalog
        .get(&caller.account_id, &caller.region, &name)
        .unwrap_or(table);
    let mut jobs = table.jobs();
    // As of this call's write, even when a small job has finished since.
    match change {
        Some(IndexChange::Create(number)) => {
            jobs.backfills
                .entry(number)
                .or_insert(crate::backfill::Progress::Started);
        }
        Some(IndexChange::Delete(number)) => {
            if let Some(index) = deleted.filter(|_| !jobs.drops.iter().any(|d| d.number == number))
            {
                jobs.drops.push(index);
            }
        }
        None => {}
    }
    let snapshot = db.store.snapshot()?;
    let index_stats = read_index_stats(&snapshot, &def)?;
    let mut desc = describe(&def, "UPDATING", stats, &index_stats);
    let drop_stats = stats_of(&snapshot, &def, &jobs.drops)?;
    crate::backfill::describe_jobs(&mut desc, &table, &jobs, &drop_stats);
    Ok(json!({ "TableDescription": desc }))
}

fn apply_throughput(current: &mut Throughput, new: &Throughput, now: f64) {
    let increased = new.read > current.read || new.write > current.write;
    let decreased = new.read < current.read || new.write < current.write;
    current.read = new.read;
    current.write = new.write;
    if increased {
        current.last_increase = Some(now);
    }
    if decreased {
        current.last_decrease = Some(now);
        current.decreases_today += 1;
    }
}

/// Applies UpdateTable's GlobalSecondaryIndexUpdates to `def`, returning
/// the index creation or deletion to carry out in the store.
fn gsi_updates(
    def: &mut TableDef,
    updates: Vec<GsiUpdateInput>,
    new_definitions: &[AttributeDefinition],
    now: f64,
) -> Result<Option<IndexChange>> {
    if updates.is_empty() {
        return Ok(None);
    }
    let mut named: Vec<&str> = Vec::new();
    for u in &updates {
        let actions = [u.create.is_some(), u.delete.is_some(), u.update.is_some()]
            .iter()
            .filter(|a| **a)
            .count();
        if actions == 0 {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
            ));
        }
        if actions > 1 {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object",
            ));
        }
        let name = u
            .create
            .as_ref()
            .and_then(|c| c.index_name.as_deref())
            .or(u.delete.as_ref().and_then(|d| d.index_name.as_deref()))
            .or(u.update.as_ref().and_then(|d| d.index_name.as_deref()))
            .unwrap_or_default();
        if named.contains(&name) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
        named.push(name);
    }
    let online = updates
        .iter()
        .filter(|u| u.create.is_some() || u.delete.is_some())
        .count();
    if online > 1 {
        return Err(DynamoError::LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table".into(),
        ));
    }
    let mut change = None;
    for u in updates {
        match (u.create, u.delete, u.update) {
            (Some(create), None, None) => {
                check_index_members(std::slice::from_ref(&create), &[])?;
                if new_definitions.is_empty() {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: AttributeDefinitions is not specified for index: {}",
                        create.index_name.as_deref().unwrap_or_default()
                    )));
                }
                // Definitions: the table's, plus those this request adds.
                let mut defs = def.attributes.clone();
                for d in new_definitions {
                    let (Some(n), Some(t)) = (
                        d.attribute_name.as_deref(),
                        d.attribute_type.as_deref().and_then(KeyType::parse),
                    ) else {
                        continue;
                    };
                    match defs.iter().find(|(e, _)| e == n) {
                        Some((_, existing)) if *existing != t => {
                            return Err(DynamoError::validation(format!(
                                "One or more parameter values were invalid: Attribute {n} is already defined with type {}",
                                existing.as_str()
                            )));
                        }
                        Some(_) => {}
                        None => defs.push((n.to_string(), t)),
                    }
                }
                let keys: Vec<&str> = create
                    .key_schema
                    .iter()
                    .flatten()
                    .filter_map(|k| k.attribute_name.as_deref())
                    .collect();
                if keys.iter().any(|k| !defs.iter().any(|(n, _)| n == k)) {
                    return Err(undefined_key(&keys, &defs));
                }
                let name = create.index_name.clone().unwrap_or_default();
                if def.index(&name).is_some() {
                    return Err(DynamoError::validation(
                        "Attempting to create an index which already exists",
                    ));
                }
                if def.indexes.iter().filter(|i| !i.local).count() >= MAX_GSIS {
                    return Err(DynamoError::LimitExceeded(format!(
                        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
                    )));
                }
                let mut parsed = parse_indexes(
                    std::slice::from_ref(&create),
                    &[],
                    &defs,
                    &def.hash_key,
                    def.range_key.as_ref(),
                    &def.billing_mode,
                )?;
                let mut index = parsed.remove(0);
                index.backfilled = true;
                index.number = def.next_index;
                def.next_index += 1;
                change = Some(IndexChange::Create(index.number));
                def.indexes.push(index);
                def.attributes = defs;
            }
            (None, Some(delete), None) => {
                let name = delete.index_name.unwrap_or_default();
                if def.index(&name).is_some_and(|i| i.local) {
                    return Err(DynamoError::validation(format!(
                        "Cannot delete an index that is not a GlobalSecondaryIndex: {name}"
                    )));
                }
                let Some(pos) = def.indexes.iter().position(|i| !i.local && i.name == name) else {
                    return Err(DynamoError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found"
                    )));
                };
                let index = def.indexes.remove(pos);
                change = Some(IndexChange::Delete(index.number));
            }
            (None, None, Some(update)) => {
                let name = update.index_name.unwrap_or_default();
                if def.index(&name).is_some_and(|i| i.local) {
                    return Err(DynamoError::validation(format!(
                        "Cannot update an index that is not a GlobalSecondaryIndex: {name}"
                    )));
                }
                let billing = def.billing_mode.clone();
                let Some(index) = def.indexes.iter_mut().find(|i| !i.local && i.name == name)
                else {
                    return Err(DynamoError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found"
                    )));
                };
                let Some(t) = update.provisioned_throughput else {
                    continue;
                };
                if billing == "PAY_PER_REQUEST" {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )));
                }
                let new = check_throughput(t)?;
                apply_throughput(
                    index.throughput.get_or_insert_with(Throughput::default),
                    &new,
                    now,
                );
            }
            _ => unreachable!("each update was checked to hold exactly one action"),
        }
    }
    // Keep only the definitions some key still uses.
    let used: Vec<String> = def
        .key_attrs()
        .chain(def.indexes.iter().flat_map(|i| i.key_attrs()))
        .map(|k| k.name.clone())
        .collect();
    def.attributes.retain(|(n, _)| used.contains(n));
    Ok(change)
}

/// Refuses to write a definition derived from `t.def` when another
/// UpdateTable changed the table's indexes since `t.def` was read: writing
/// it would forget that change.
fn check_not_raced(t: &Table) -> Result<()> {
    let numbers = |v: &[IndexDef]| v.iter().map(|i| i.number).collect::<Vec<_>>();
    if numbers(&t.live_indexes()) != numbers(&t.def.indexes) {
        return Err(DynamoError::ResourceInUse(format!(
            "Attempt to change a resource which is still in use: Table is being updated: {}",
            t.def.name
        )));
    }
    Ok(())
}

/// Writes the new definition together with the job that backfills or
/// empties the index, and switches the table's live index set inside that
/// write; the worker is woken after the commit.
async fn change_index(
    db: &DynamoDb,
    table: &Arc<Table>,
    def: TableDef,
    change: IndexChange,
    stream_change: Option<StreamChange>,
) -> Result<(Stats, TableDef)> {
    let t = table.clone();
    let mut stored = def;
    let d = db.clone();
    let (stats, def, stream) = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<_> {
            if t.is_dropped() {
                return Err(DynamoError::table_not_found(&t.def.name));
            }
            check_not_raced(&t)?;
            let stream = match stream_change {
                Some(c) => apply_stream_change(txn, &d, &t, &mut stored, c)?,
                None => {
                    keep_stored_stream(txn, &mut stored)?;
                    None
                }
            };
            let key = layout::table_key(&stored.account, &stored.region, &stored.name);
            txn.put(
                &key,
                &serde_json::to_vec(&stored).expect("table definitions serialize"),
            );
            let stats = Stats::read(txn, stored.number)?;
            // From here on, every item write maintains the new index set
            // (a new index only behind its backfill's cursor), and the
            // background worker fills or empties the index (`backfill`).
            t.switch_live_indexes(txn, stored.indexes.clone());
            match change {
                IndexChange::Create(number) => crate::backfill::start_backfill(txn, &t, number),
                IndexChange::Delete(number) => {
                    if let Some(index) = t.def.indexes.iter().find(|i| i.number == number) {
                        crate::backfill::start_drop(txn, &t, index.clone());
                    }
                }
            }
            Ok((stats, stored, stream))
        })
        .await?;
    if let Some(stream) = stream {
        streams::register(&db.streams, stream);
    }
    db.catalog.insert(table.replaced(def.clone()));
    db.index_jobs.notify_one();
    Ok((stats, def))
}

/// Writes a changed definition and swaps it into the catalog after commit.
pub(crate) async fn save_definition(
    db: &DynamoDb,
    table: &Arc<Table>,
    def: TableDef,
) -> Result<Stats> {
    Ok(save_definition_with(db, table, def, None).await?.0)
}

/// [`save_definition`], enabling or disabling the stream in the same write;
/// returns the definition as written.
async fn save_definition_with(
    db: &DynamoDb,
    table: &Arc<Table>,
    def: TableDef,
    stream_change: Option<StreamChange>,
) -> Result<(Stats, TableDef)> {
    let t = table.clone();
    let mut stored = def;
    let d = db.clone();
    let (stats, def, stream) = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<_> {
            if t.is_dropped() {
                return Err(DynamoError::table_not_found(&t.def.name));
            }
            check_not_raced(&t)?;
            let stream = match stream_change {
                Some(c) => apply_stream_change(txn, &d, &t, &mut stored, c)?,
                None => {
                    keep_stored_stream(txn, &mut stored)?;
                    None
                }
            };
            let key = layout::table_key(&stored.account, &stored.region, &stored.name);
            txn.put(
                &key,
                &serde_json::to_vec(&stored).expect("table definitions serialize"),
            );
            Ok((Stats::read(txn, stored.number)?, stored, stream))
        })
        .await?;
    if let Some(stream) = stream {
        streams::register(&db.streams, stream);
    }
    // The old Arc may still be used by requests in flight; they write with the
    // same table number, so they stay correct.
    db.catalog.insert(table.replaced(def.clone()));
    Ok((stats, def))
}

pub async fn describe_limits(_db: &DynamoDb, _caller: &Caller, body: &[u8]) -> Result<Value> {
    let _: serde::de::IgnoredAny = decode(body)?;
    Ok(json!({
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": MAX_CAPACITY_UNITS,
        "TableMaxWriteCapacityUnits": MAX_CAPACITY_UNITS,
    }))
}

pub async fn describe_endpoints(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let _: serde::de::IgnoredAny = decode(body)?;
    let _ = db;
    // The address the client reached nimbus at: naming AWS's regional
    // endpoint would send clients that use endpoint discovery to AWS.
    let address = caller
        .host
        .clone()
        .unwrap_or_else(|| format!("dynamodb.{}.amazonaws.com", caller.region));
    Ok(json!({
        "Endpoints": [{
            "Address": address,
            "CachePeriodInMinutes": 1440,
        }]
    }))
}
