//! Query and Scan: range reads over one partition or the whole table, with
//! filters, projections, Limit, the 1 MB page limit and pagination.

use std::collections::HashMap;
use std::ops::Bound;

use nimbus_store::ReadView;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::capacity::{self, Kind, ReturnCapacity};
use crate::catalog::{IndexDef, IndexProjection, KeyAttr, KeyType, TableDef};
use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::expr::legacy::{key_condition as legacy_key_condition, KeyAttribute};
use crate::expr::{
    parse_condition, parse_key_condition, parse_projection, Condition, ExprKind, Projection,
    SortCondition,
};
use crate::keys::key_from_request;
use crate::layout::{self, decode_stored};
use crate::legacy::{self, Members};
use crate::model::AttributeValue;
use crate::ops::items::{parse_stored, table_for};
use crate::request::substitutions;
use crate::{Caller, DynamoDb, Output};

/// A page stops once this much item data has been read (AWS's 1 MB).
pub const PAGE_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueryInput {
    table_name: Option<String>,
    index_name: Option<String>,
    key_condition_expression: Option<String>,
    filter_expression: Option<String>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    select: Option<String>,
    limit: Option<i64>,
    scan_index_forward: Option<bool>,
    exclusive_start_key: Option<Map<String, Value>>,
    consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
    key_conditions: Option<legacy::Conditions>,
    query_filter: Option<legacy::Conditions>,
    attributes_to_get: Option<Vec<String>>,
    conditional_operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScanInput {
    table_name: Option<String>,
    index_name: Option<String>,
    filter_expression: Option<String>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<HashMap<String, String>>,
    expression_attribute_values: Option<Map<String, Value>>,
    select: Option<String>,
    limit: Option<i64>,
    exclusive_start_key: Option<Map<String, Value>>,
    consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
    segment: Option<i64>,
    total_segments: Option<i64>,
    scan_filter: Option<legacy::Conditions>,
    attributes_to_get: Option<Vec<String>>,
    conditional_operator: Option<String>,
}

/// What the caller wants back for each matching item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    Specific,
    Count,
}

/// Select, checked against the projection member the request has
/// (`projection`: "AttributesToGet" or "ProjectionExpression").
fn parse_select(select: Option<&str>, projection: Option<&str>, has_index: bool) -> Result<Select> {
    let select = match select {
        None => {
            return Ok(if projection.is_some() {
                Select::Specific
            } else {
                Select::All
            })
        }
        Some(s) => s,
    };
    let parsed = match select {
        "ALL_ATTRIBUTES" => Select::All,
        "SPECIFIC_ATTRIBUTES" => Select::Specific,
        "COUNT" => Select::Count,
        "ALL_PROJECTED_ATTRIBUTES" => {
            if !has_index {
                return Err(DynamoError::validation(
                    "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
                ));
            }
            Select::All
        }
        other => {
            let mut v = Violations::new();
            v.add(
                &Violations::quoted(other),
                "select",
                "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
            );
            v.into_result()?;
            Select::All
        }
    };
    match (parsed, projection) {
        (Select::Specific, None) => Err(DynamoError::validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        (Select::All, Some(member)) => Err(DynamoError::validation(format!(
            "Cannot specify the {member} when choosing to get {select}"
        ))),
        (Select::Count, Some(member)) => Err(DynamoError::validation(format!(
            "Cannot specify the {member} when choosing to get only the Count"
        ))),
        _ => Ok(parsed),
    }
}

fn key_attribute(k: &KeyAttr) -> KeyAttribute<'_> {
    KeyAttribute {
        name: k.name.as_str(),
        type_name: k.key_type.as_str(),
    }
}

/// The member a read projects with, as AWS names it in Select's messages.
fn projection_member(
    expression: &Option<String>,
    attributes_to_get: &Option<Vec<String>>,
) -> Option<&'static str> {
    match (expression, attributes_to_get) {
        (Some(_), _) => Some("ProjectionExpression"),
        (None, Some(_)) => Some("AttributesToGet"),
        (None, None) => None,
    }
}

fn check_limit(limit: Option<i64>) -> Result<Option<usize>> {
    match limit {
        Some(l) if l < 1 => {
            let mut v = Violations::new();
            v.add(
                &Violations::quoted(&l.to_string()),
                "limit",
                "Member must have value greater than or equal to 1",
            );
            v.into_result()?;
            Ok(None)
        }
        Some(l) => Ok(Some(l as usize)),
        None => Ok(None),
    }
}

/// The index a request names, checked against how it is read.
fn find_index<'a>(
    def: &'a TableDef,
    name: Option<&str>,
    consistent: Option<bool>,
    select: Option<&str>,
) -> Result<Option<&'a IndexDef>> {
    let Some(name) = name else {
        return Ok(None);
    };
    let index = def.index(name).ok_or_else(|| {
        DynamoError::validation(format!(
            "The table does not have the specified index: {name}"
        ))
    })?;
    if !index.local && consistent == Some(true) {
        return Err(DynamoError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    if !index.local && select == Some("ALL_ATTRIBUTES") && index.projection != IndexProjection::All
    {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
        )));
    }
    Ok(Some(index))
}

/// How a read of an index treats attributes the index does not project: a
/// GSI refuses to be asked for them, an LSI fetches them from the table.
/// Returns whether every entry must be replaced by its table item.
fn check_projected(
    def: &TableDef,
    index: Option<&IndexDef>,
    select: Option<&str>,
    filter: Option<&Condition>,
    projection: Option<&Projection>,
) -> Result<bool> {
    let Some(index) = index else {
        return Ok(false);
    };
    if index.projection == IndexProjection::All {
        return Ok(false);
    }
    let missing = |names: Vec<&str>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if !crate::index::projects(def, index, n) && !out.iter().any(|o| o == n) {
                out.push(n.to_string());
            }
        }
        out
    };
    let unprojected = projection
        .map(|p| missing(p.paths.iter().map(|p| p.top_level()).collect()))
        .unwrap_or_default();
    let unfiltered = filter
        .map(|f| missing(f.top_level_attributes()))
        .unwrap_or_default();
    if index.local {
        return Ok(select == Some("ALL_ATTRIBUTES")
            || !unprojected.is_empty()
            || !unfiltered.is_empty());
    }
    if !unprojected.is_empty() {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Global secondary index {} does not project [{}]",
            index.name,
            unprojected.join(", ")
        )));
    }
    if !unfiltered.is_empty() {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{}]",
            index.name,
            unfiltered.join(", ")
        )));
    }
    Ok(false)
}

/// The stored table item an LSI entry stands for.
fn table_item(snapshot: &impl ReadView, def: &TableDef, entry: &[u8]) -> Result<Option<Vec<u8>>> {
    let item = parse_stored(decode_stored(entry).1)?;
    let mut encoded = def.key_attrs().map(|k| {
        item.get(&k.name)
            .and_then(layout::encode_component)
            .ok_or_else(|| DynamoError::Internal("index entry lacks the table key".into()))
    });
    let pk = encoded.next().expect("a table has a partition key")?;
    let sk = encoded.next().transpose()?;
    Ok(snapshot.get(&layout::item_key(def.number, &pk, sk.as_deref()))?)
}

/// Feeds one scanned value to `page`: the entry itself, or with `fetch`
/// the table item behind it (skipped if it is gone, which cannot happen in
/// one snapshot).
fn visit(page: &mut Page<'_>, snapshot: &impl ReadView, fetch: bool, value: &[u8]) -> bool {
    if !fetch {
        return page.visit(value);
    }
    match table_item(snapshot, page.def, value) {
        Ok(Some(item)) => page.visit(&item),
        Ok(None) => true,
        Err(e) => {
            page.error = Some(e);
            false
        }
    }
}

/// The attributes LastEvaluatedKey carries: the table's keys, and the
/// index's when reading an index.
fn page_keys(def: &TableDef, index: Option<&IndexDef>) -> Vec<String> {
    let mut keys: Vec<String> = def.key_attrs().map(|k| k.name.clone()).collect();
    for k in index.into_iter().flat_map(|i| i.key_attrs()) {
        if !keys.contains(&k.name) {
            keys.push(k.name.clone());
        }
    }
    keys
}

/// The storage key an index read resumes after: ExclusiveStartKey must hold
/// the index's and the table's keys.
fn index_start(
    def: &TableDef,
    index: &IndexDef,
    esk: Option<&Map<String, Value>>,
) -> Result<Option<Vec<u8>>> {
    let Some(esk) = esk else {
        return Ok(None);
    };
    let invalid = || {
        DynamoError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    let mut item = crate::model::Item::new();
    for (name, raw) in esk {
        item.insert(name.clone(), crate::model::value::decode_value(raw)?);
    }
    let keys = page_keys(def, Some(index));
    if item.len() != keys.len() || !keys.iter().all(|k| item.contains_key(k)) {
        return Err(invalid());
    }
    crate::index::entry_key(def, index, &item)
        .map(Some)
        .ok_or_else(invalid)
}

/// The shared page loop of Query and Scan.
struct Page<'a> {
    def: &'a TableDef,
    /// The attributes of LastEvaluatedKey.
    keys: Vec<String>,
    /// The index read, which ConsumedCapacity INDEXES charges.
    index: Option<&'a IndexDef>,
    filter: Option<Condition>,
    projection: Option<Projection>,
    select: Select,
    limit: Option<usize>,
    /// The response body being built: `{"Items":[` and the items so far, so
    /// item JSON is copied once, straight from the store into the response.
    out: Vec<u8>,
    count: usize,
    scanned: usize,
    bytes_read: usize,
    /// Stored JSON of the last item read, for LastEvaluatedKey.
    last: Option<Vec<u8>>,
    /// Whether the loop stopped early (Limit or 1 MB), so more may follow.
    truncated: bool,
    error: Option<DynamoError>,
}

impl<'a> Page<'a> {
    fn new(
        def: &'a TableDef,
        keys: Vec<String>,
        filter: Option<Condition>,
        projection: Option<Projection>,
        select: Select,
        limit: Option<usize>,
    ) -> Self {
        Page {
            def,
            keys,
            index: None,
            filter,
            projection,
            select,
            limit,
            out: if select == Select::Count {
                b"{".to_vec()
            } else {
                let mut out = Vec::with_capacity(16 * 1024);
                out.extend_from_slice(b"{\"Items\":[");
                out
            },
            count: 0,
            scanned: 0,
            bytes_read: 0,
            last: None,
            truncated: false,
            error: None,
        }
    }

    /// Handles one stored item; returns whether to continue.
    fn visit(&mut self, value: &[u8]) -> bool {
        let (size, json) = decode_stored(value);
        self.scanned += 1;
        self.bytes_read += size;
        if let Err(e) = self.accept(json) {
            self.error = Some(e);
            return false;
        }
        let full = self.limit.is_some_and(|l| self.scanned >= l) || self.bytes_read >= PAGE_BYTES;
        if full {
            self.last = Some(json.to_vec());
            self.truncated = true;
        }
        !full
    }

    fn accept(&mut self, json: &[u8]) -> Result<()> {
        // Parse only when a filter or projection needs the item.
        let parsed = if self.filter.is_some() || self.projection.is_some() {
            Some(parse_stored(json)?)
        } else {
            None
        };
        if let (Some(filter), Some(item)) = (&self.filter, &parsed) {
            if !filter.evaluate(item) {
                return Ok(());
            }
        }
        self.count += 1;
        if self.select == Select::Count {
            return Ok(());
        }
        if self.count > 1 {
            self.out.push(b',');
        }
        match (&self.projection, &parsed) {
            (Some(p), Some(item)) => {
                serde_json::to_writer(&mut self.out, &p.apply(item)).expect("items serialize")
            }
            _ => self.out.extend_from_slice(json),
        }
        Ok(())
    }

    fn finish(mut self, capacity_mode: ReturnCapacity, consistent: bool) -> Result<Output> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut out = std::mem::take(&mut self.out);
        if self.select != Select::Count {
            out.extend_from_slice(b"],");
        }
        out.extend_from_slice(
            format!("\"Count\":{},\"ScannedCount\":{}", self.count, self.scanned).as_bytes(),
        );
        if self.truncated {
            if let Some(last) = &self.last {
                let item = parse_stored(last)?;
                out.extend_from_slice(b",\"LastEvaluatedKey\":");
                let key: crate::model::Item = self
                    .keys
                    .iter()
                    .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                serde_json::to_writer(&mut out, &key).expect("keys serialize");
            }
        }
        let units = capacity::read_units(self.bytes_read, consistent);
        if let Some(mut c) = capacity::consumed(capacity_mode, &self.def.name, units, Kind::Read) {
            if let (ReturnCapacity::Indexes, Some(index)) = (capacity_mode, self.index) {
                let unit =
                    |u: f64| serde_json::json!({ "CapacityUnits": u, "ReadCapacityUnits": u });
                c["Table"] = unit(0.0);
                let member = if index.local {
                    "LocalSecondaryIndexes"
                } else {
                    "GlobalSecondaryIndexes"
                };
                c[member] = serde_json::json!({ index.name.as_str(): unit(units) });
            }
            out.extend_from_slice(b",\"ConsumedCapacity\":");
            serde_json::to_writer(&mut out, &c).expect("json serializes");
        }
        out.push(b'}');
        Ok(Output::Bytes(out))
    }
}

fn key_type_matches(t: KeyType, v: &AttributeValue) -> bool {
    v.type_name() == t.as_str()
}

fn encoded(v: &AttributeValue) -> Vec<u8> {
    layout::encode_component(v).unwrap_or_default()
}

fn exclusive_start(def: &TableDef, esk: Option<&Map<String, Value>>) -> Result<Option<Vec<u8>>> {
    match esk {
        None => Ok(None),
        Some(esk) => {
            let key = key_from_request(def, esk).map_err(|e| match e {
                DynamoError::Validation(m) => {
                    DynamoError::validation(format!("The provided starting key is invalid: {m}"))
                }
                other => other,
            })?;
            Ok(Some(key.storage_key(def.number)))
        }
    }
}

pub async fn query(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: QueryInput = decode(body)?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    let def = &table.def;
    let legacy = legacy::read(
        Some(("queryFilter", input.query_filter.as_ref())),
        input.key_conditions.as_ref(),
        input.conditional_operator.as_deref(),
        input.attributes_to_get.as_deref(),
        Members {
            attributes_to_get: input.attributes_to_get.is_some(),
            query_filter: input.query_filter.is_some(),
            conditional_operator: input.conditional_operator.is_some(),
            key_conditions: input.key_conditions.is_some(),
            projection_expression: input.projection_expression.is_some(),
            filter_expression: input.filter_expression.is_some(),
            key_condition_expression: input.key_condition_expression.is_some(),
            ..Members::default()
        },
    )?;
    let index = find_index(
        def,
        input.index_name.as_deref(),
        input.consistent_read,
        input.select.as_deref(),
    )?;
    if let Some(i) = index {
        crate::backfill::check_readable(&table, i)?;
    }
    // The keys the key condition is on: the index's when reading one.
    let (hash_key, range_key): (&KeyAttr, Option<&KeyAttr>) = match index {
        Some(i) => (&i.hash_key, i.range_key.as_ref()),
        None => (&def.hash_key, def.range_key.as_ref()),
    };
    let no_key_condition = || {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    };
    if input.key_conditions.is_none() && input.key_condition_expression.is_none() {
        return Err(no_key_condition());
    }
    let select = parse_select(
        input.select.as_deref(),
        projection_member(&input.projection_expression, &input.attributes_to_get),
        input.index_name.is_some(),
    )?;
    let limit = check_limit(input.limit)?;
    let mut subs = substitutions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
            (
                "KeyConditionExpression",
                input.key_condition_expression.is_some(),
            ),
        ],
    )?;
    let key_condition = match (&input.key_condition_expression, &input.key_conditions) {
        (Some(expr), _) => parse_key_condition(
            expr,
            &mut subs,
            &hash_key.name,
            range_key.map(|r| r.name.as_str()),
        )?,
        (None, Some(conds)) => {
            let conds = legacy::conditions(conds)?;
            if !(1..=2).contains(&conds.len()) {
                return Err(DynamoError::validation(
                    "Conditions can be of length 1 or 2 only",
                ));
            }
            legacy_key_condition(
                &conds,
                key_attribute(hash_key),
                range_key.map(key_attribute),
            )?
        }
        (None, None) => return Err(no_key_condition()),
    };
    let filter = match input.filter_expression.as_deref() {
        Some(f) => Some(parse_condition(f, ExprKind::Filter, &mut subs)?),
        None => legacy.filter,
    };
    if let Some(key_attr) = filter.as_ref().and_then(|f| {
        f.top_level_attributes()
            .into_iter()
            .find(|a| hash_key.name == *a || range_key.is_some_and(|r| r.name == *a))
    }) {
        let member = if input.query_filter.is_some() {
            "QueryFilter"
        } else {
            "Filter Expression"
        };
        return Err(DynamoError::validation(format!(
            "{member} can only contain non-primary key attributes: Primary key attribute: {key_attr}"
        )));
    }
    let projection = match input.projection_expression.as_deref() {
        Some(p) => Some(parse_projection(p, &mut subs)?),
        None => legacy.projection,
    };
    subs.check_all_used()?;
    let fetch = check_projected(
        def,
        index,
        input.select.as_deref(),
        filter.as_ref(),
        projection.as_ref(),
    )?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);
    let forward = input.scan_index_forward.unwrap_or(true);

    let type_mismatch = || {
        DynamoError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    };
    let (_, pk_value) = &key_condition.partition;
    if !key_type_matches(hash_key.key_type, pk_value) {
        return Err(type_mismatch());
    }
    let prefix = match index {
        Some(i) => layout::index_partition_prefix(def.number, i.number, &encoded(pk_value)),
        None => layout::partition_prefix(def.number, &encoded(pk_value)),
    };
    let prefix_end = layout::prefix_end(&prefix);
    // A table's sort key ends its storage key; an index's is followed by
    // the table key, so it is escaped, and all entries with one sort key
    // value lie between `with(v)` and `prefix_end(with(v))`.
    let escaped = index.is_some();
    let with = |v: &AttributeValue| {
        let mut k = prefix.clone();
        if escaped {
            layout::escape(&encoded(v), &mut k);
        } else {
            k.extend_from_slice(&encoded(v));
        }
        k
    };
    // The first key after every entry with sort key `v`.
    let after = |v: &AttributeValue| {
        if escaped {
            Bound::Included(layout::prefix_end(&with(v)))
        } else {
            Bound::Excluded(with(v))
        }
    };
    // The last bound of entries with sort key `v`.
    let through = |v: &AttributeValue| {
        if escaped {
            Bound::Excluded(layout::prefix_end(&with(v)))
        } else {
            Bound::Included(with(v))
        }
    };
    let (mut lower, mut upper): (Bound<Vec<u8>>, Bound<Vec<u8>>) = (
        Bound::Included(prefix.clone()),
        Bound::Excluded(prefix_end.clone()),
    );
    if let Some(sort) = &key_condition.sort {
        let range = range_key
            .ok_or_else(|| DynamoError::validation("Query key condition not supported"))?;
        let values: Vec<&AttributeValue> = match sort {
            SortCondition::Eq(v)
            | SortCondition::Lt(v)
            | SortCondition::Le(v)
            | SortCondition::Gt(v)
            | SortCondition::Ge(v)
            | SortCondition::BeginsWith(v) => vec![v],
            SortCondition::Between(a, b) => vec![a, b],
        };
        if values.iter().any(|v| !key_type_matches(range.key_type, v)) {
            return Err(type_mismatch());
        }
        match sort {
            SortCondition::Eq(v) => {
                lower = Bound::Included(with(v));
                upper = through(v);
            }
            SortCondition::Lt(v) => upper = Bound::Excluded(with(v)),
            SortCondition::Le(v) => upper = through(v),
            SortCondition::Gt(v) => lower = after(v),
            SortCondition::Ge(v) => lower = Bound::Included(with(v)),
            SortCondition::Between(a, b) => {
                lower = Bound::Included(with(a));
                upper = through(b);
            }
            SortCondition::BeginsWith(v) => {
                if range.key_type == KeyType::N {
                    return Err(DynamoError::validation(
                        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                    ));
                }
                let mut start = prefix.clone();
                if escaped {
                    layout::escape_body(&encoded(v), &mut start);
                } else {
                    start.extend_from_slice(&encoded(v));
                }
                upper = Bound::Excluded(layout::prefix_end(&start));
                lower = Bound::Included(start);
            }
        }
    }
    let start = match index {
        Some(i) => index_start(def, i, input.exclusive_start_key.as_ref())?,
        None => exclusive_start(def, input.exclusive_start_key.as_ref())?,
    };
    if let Some(start) = start {
        // The start key narrows the key condition's range; it never widens
        // it, so a page can only hold items the condition selects.
        if !start.starts_with(&prefix) || !within(&start, &lower, &upper) {
            return Err(DynamoError::validation(
                "The provided starting key is outside query boundaries based on provided conditions",
            ));
        }
        if forward {
            lower = Bound::Excluded(start);
        } else {
            upper = Bound::Excluded(start);
        }
    }

    let mut page = Page::new(
        def,
        page_keys(def, index),
        filter,
        projection,
        select,
        limit,
    );
    page.index = index;
    if !empty_range(&lower, &upper) {
        let snapshot = db.store.snapshot()?;
        snapshot.scan(as_ref(&lower), as_ref(&upper), !forward, &mut |_, v| {
            visit(&mut page, &snapshot, fetch, v)
        })?;
    }
    page.finish(capacity_mode, consistent)
}

/// Whether `key` lies in the range `[lower, upper]` (each bound inclusive or
/// exclusive as given).
fn within(key: &[u8], lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    let above = match lower {
        Bound::Included(l) => key >= l.as_slice(),
        Bound::Excluded(l) => key > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => key <= u.as_slice(),
        Bound::Excluded(u) => key < u.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether a range holds no key at all (a BETWEEN with bounds reversed, or a
/// start key past the end); scanning such a range is skipped, since store
/// engines may reject inverted bounds.
fn empty_range(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

pub async fn scan(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Output> {
    let input: ScanInput = decode(body)?;
    let table = table_for(db, caller, input.table_name.as_deref())?;
    let def = &table.def;
    let legacy = legacy::read(
        Some(("scanFilter", input.scan_filter.as_ref())),
        None,
        input.conditional_operator.as_deref(),
        input.attributes_to_get.as_deref(),
        Members {
            attributes_to_get: input.attributes_to_get.is_some(),
            scan_filter: input.scan_filter.is_some(),
            conditional_operator: input.conditional_operator.is_some(),
            projection_expression: input.projection_expression.is_some(),
            filter_expression: input.filter_expression.is_some(),
            ..Members::default()
        },
    )?;
    let index = find_index(
        def,
        input.index_name.as_deref(),
        input.consistent_read,
        input.select.as_deref(),
    )?;
    if let Some(i) = index {
        crate::backfill::check_readable(&table, i)?;
    }
    let select = parse_select(
        input.select.as_deref(),
        projection_member(&input.projection_expression, &input.attributes_to_get),
        input.index_name.is_some(),
    )?;
    let limit = check_limit(input.limit)?;
    let (segment, total) = check_segments(input.segment, input.total_segments)?;
    let mut subs = substitutions(
        input.expression_attribute_names,
        input.expression_attribute_values,
        &[
            (
                "ProjectionExpression",
                input.projection_expression.is_some(),
            ),
            ("FilterExpression", input.filter_expression.is_some()),
        ],
    )?;
    let filter = match input.filter_expression.as_deref() {
        Some(f) => Some(parse_condition(f, ExprKind::Filter, &mut subs)?),
        None => legacy.filter,
    };
    let projection = match input.projection_expression.as_deref() {
        Some(p) => Some(parse_projection(p, &mut subs)?),
        None => legacy.projection,
    };
    subs.check_all_used()?;
    let fetch = check_projected(
        def,
        index,
        input.select.as_deref(),
        filter.as_ref(),
        projection.as_ref(),
    )?;
    let capacity_mode = ReturnCapacity::parse(input.return_consumed_capacity.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);

    let (start, upper, esk) = match index {
        Some(i) => {
            let (start, upper) = layout::segment_bounds_in(
                &layout::index_prefix(def.number, i.number),
                segment,
                total,
            );
            (
                start,
                upper,
                index_start(def, i, input.exclusive_start_key.as_ref())?,
            )
        }
        None => {
            let (start, upper) = layout::segment_bounds(def.number, segment, total);
            (
                start,
                upper,
                exclusive_start(def, input.exclusive_start_key.as_ref())?,
            )
        }
    };
    let mut lower = Bound::Included(start.clone());
    if let Some(esk) = esk {
        let in_segment = esk >= start
            && match &upper {
                Bound::Excluded(u) => &esk < u,
                _ => true,
            };
        if !in_segment {
            return Err(DynamoError::validation(format!(
                "The provided Exclusive start key does not map to the provided segment: {segment}"
            )));
        }
        lower = Bound::Excluded(esk);
    }
    let mut page = Page::new(
        def,
        page_keys(def, index),
        filter,
        projection,
        select,
        limit,
    );
    page.index = index;
    if !empty_range(&lower, &upper) {
        let snapshot = db.store.snapshot()?;
        snapshot.scan(as_ref(&lower), as_ref(&upper), false, &mut |_, v| {
            visit(&mut page, &snapshot, fetch, v)
        })?;
    }
    page.finish(capacity_mode, consistent)
}

fn check_segments(segment: Option<i64>, total: Option<i64>) -> Result<(u32, u32)> {
    let mut v = Violations::new();
    if let Some(s) = segment {
        if s < 0 {
            v.add(
                &Violations::quoted(&s.to_string()),
                "segment",
                "Member must have value greater than or equal to 0",
            );
        }
        if s > 999_999 {
            v.add(
                &Violations::quoted(&s.to_string()),
                "segment",
                "Member must have value less than or equal to 999999",
            );
        }
    }
    if let Some(t) = total {
        if t < 1 {
            v.add(
                &Violations::quoted(&t.to_string()),
                "totalSegments",
                "Member must have value greater than or equal to 1",
            );
        }
        if t > 1_000_000 {
            v.add(
                &Violations::quoted(&t.to_string()),
                "totalSegments",
                "Member must have value less than or equal to 1000000",
            );
        }
    }
    v.into_result()?;
    match (segment, total) {
        (None, None) => Ok((0, 1)),
        (Some(_), None) => Err(DynamoError::validation(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )),
        (None, Some(_)) => Err(DynamoError::validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )),
        (Some(s), Some(t)) if s >= t => Err(DynamoError::validation(format!(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
        ))),
        (Some(s), Some(t)) => Ok((s as u32, t as u32)),
    }
}
