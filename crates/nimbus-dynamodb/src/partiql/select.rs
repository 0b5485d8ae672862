//! Running a SELECT through ExecuteStatement: each planned read is a Query
//! (or the one Scan), run through the operation itself, so pages, Limit,
//! the 1 MB page size, index projections and capacity are the operation's.
//!
//! A page runs the reads in order from where the NextToken says, giving each
//! what remains of Limit, and stops at the first read that stops early; the
//! NextToken then names that read and its LastEvaluatedKey.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::ast::{Projection, Select, Step};
use super::error::{self, invalid, without_expression_prefix, PartiqlError};
use super::plan::{mentions, output_name, plan, sort_text, Plan};
use super::translate::{and_all, condition, or_all, Cond, Writer};
use super::{merge_capacity, output_json};
use crate::catalog::{IndexDef, KeyAttr, TableDef};
use crate::expr::{parse_condition, Condition, ExprKind as ExprParam, Path, PathElement};
use crate::model::{AttributeValue, Item};
use crate::ops::items::table_for;
use crate::ops::query::{query, scan, PAGE_BYTES};
use crate::{Caller, DynamoDb};

/// What ExecuteStatement passes a SELECT.
pub struct Request<'a> {
    pub select: &'a Select,
    pub params: &'a [AttributeValue],
    pub consistent: Option<bool>,
    pub limit: Option<usize>,
    pub next_token: Option<&'a str>,
    pub capacity: Option<&'a str>,
    /// Identifies the statement and its parameters in NextToken.
    pub fingerprint: String,
}

/// One read of the plan: a partition (a Query) or the whole table (a Scan).
struct Read<'e> {
    pk: Option<AttributeValue>,
    sort: Option<&'e super::ast::Expr>,
    /// The alternatives selecting from this read, each an AND of factors
    /// (empty: everything).
    alternatives: Vec<Vec<&'e super::ast::Expr>>,
}

/// The token a page hands out: the request it belongs to, the read to go
/// on with and where in it.
#[derive(Serialize, Deserialize)]
struct Token {
    h: String,
    r: usize,
    k: Option<Value>,
}

/// The projected paths and the names their values come back under.
pub fn projected_paths(projection: &Projection) -> Result<Vec<(Path, String)>, PartiqlError> {
    let Projection::Paths(items) = projection else {
        return Ok(vec![]);
    };
    let mut out: Vec<(Path, String)> = Vec::with_capacity(items.len());
    for (steps, _) in items {
        let name = output_name(steps);
        if out.iter().any(|(_, n)| *n == name) {
            return Err(invalid(format!(
                "Duplicate identifiers in select clause: {name}"
            )));
        }
        out.push((to_path(steps), name));
    }
    Ok(out)
}

pub fn to_path(steps: &[Step]) -> Path {
    let elements = steps
        .iter()
        .map(|s| match s {
            Step::Name(n) => PathElement::Attr(n.clone()),
            Step::Index(i) => PathElement::Index(*i as usize),
        })
        .collect();
    Path::new(elements).unwrap_or_else(|| Path::attribute(""))
}

/// An item as a SELECT returns it: whole, or each projected path's value
/// under its name.
pub fn project(item: &Value, paths: &[(Path, String)]) -> Result<Value, PartiqlError> {
    if paths.is_empty() {
        return Ok(item.clone());
    }
    let item = parse_item(item)?;
    let mut out = Item::new();
    for (path, name) in paths {
        if let Some(v) = path.resolve(&item) {
            out.insert(name.clone(), v.clone());
        }
    }
    Ok(serde_json::to_value(&out).expect("items serialize"))
}

fn parse_item(item: &Value) -> Result<Item, PartiqlError> {
    serde_json::from_value(item.clone())
        .map_err(|e| PartiqlError::Internal(format!("item is unreadable: {e}")))
}

/// The key of what a SELECT reads: the index's when it names one.
fn read_keys<'d>(
    def: &'d TableDef,
    index: Option<&'d IndexDef>,
) -> (&'d KeyAttr, Option<&'d KeyAttr>) {
    match index {
        Some(i) => (&i.hash_key, i.range_key.as_ref()),
        None => (&def.hash_key, def.range_key.as_ref()),
    }
}

pub async fn run(db: &DynamoDb, caller: &Caller, req: Request<'_>) -> Result<Value, PartiqlError> {
    let select = req.select;
    let paths = projected_paths(&select.projection)?;
    let table = table_for(db, caller, Some(&select.source.table))?;
    let def = &table.def;
    let index = match &select.source.index {
        Some(name) => Some(
            def.index(name)
                .ok_or_else(|| invalid(error::NO_SUCH_INDEX))?,
        ),
        None => None,
    };
    if index.is_some_and(|i| !i.local) && req.consistent == Some(true) {
        return Err(invalid(error::CONSISTENT_READ_ON_GSI));
    }
    let (hash, range) = read_keys(def, index);
    let filter = select.filter.as_ref();
    let plan = plan(filter, hash, range, req.params)?;
    let (reads, forward) = order(select, plan, hash, range, filter)?;

    let (start, mut esk) = match req.next_token {
        None => (0, None),
        Some(t) => {
            let token = decode_token(t)?;
            if token.h != req.fingerprint {
                return Err(invalid(error::NEXT_TOKEN_MISMATCH));
            }
            if token.r >= reads.len() {
                return Err(invalid(error::INVALID_NEXT_TOKEN));
            }
            (token.r, token.k)
        }
    };
    let key_names: Vec<&str> = std::iter::once(hash.name.as_str())
        .chain(range.map(|r| r.name.as_str()))
        .collect();
    let mut remaining = req.limit;
    let mut items = Vec::new();
    let mut bytes = 0;
    let mut consumed: Option<Value> = None;
    let mut next = None;
    for (n, read) in reads.iter().enumerate().skip(start) {
        let (body, post) = read_body(
            def,
            index,
            read,
            &paths,
            &key_names,
            &req,
            esk.take(),
            remaining,
            forward,
        )?;
        let body = serde_json::to_vec(&Value::Object(body)).expect("json serializes");
        let out = if read.pk.is_some() {
            query(db, caller, &body).await
        } else {
            scan(db, caller, &body).await
        }
        .map_err(without_expression_prefix)?;
        let out = output_json(out)?;
        if let Some(c) = out.get("ConsumedCapacity") {
            merge_capacity(&mut consumed, c);
        }
        for item in out["Items"].as_array().into_iter().flatten() {
            if let Some(post) = &post {
                if !post.evaluate(&parse_item(item)?) {
                    continue;
                }
            }
            let projected = project(item, &paths)?;
            bytes += projected.to_string().len();
            items.push(projected);
        }
        if let Some(scanned) = out["ScannedCount"].as_u64() {
            remaining = remaining.map(|r| r.saturating_sub(scanned as usize));
        }
        if let Some(lek) = out.get("LastEvaluatedKey") {
            next = Some((n, Some(lek.clone())));
            break;
        }
        let more = n + 1 < reads.len();
        if more && (remaining == Some(0) || bytes >= PAGE_BYTES) {
            next = Some((n + 1, None));
            break;
        }
    }
    let mut response = Map::new();
    response.insert("Items".into(), Value::Array(items));
    if let Some((r, k)) = next {
        if let Some(k) = &k {
            response.insert("LastEvaluatedKey".into(), k.clone());
        }
        response.insert(
            "NextToken".into(),
            Value::String(encode_token(&Token {
                h: req.fingerprint.clone(),
                r,
                k,
            })),
        );
    }
    if let Some(c) = consumed {
        response.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(response))
}

/// The reads in the order they run (ORDER BY on the partition key orders
/// partitions), and whether each reads its partition forward.
fn order<'e>(
    select: &'e Select,
    plan: Plan<'e>,
    hash: &KeyAttr,
    range: Option<&KeyAttr>,
    filter: Option<&'e super::ast::Expr>,
) -> Result<(Vec<Read<'e>>, bool), PartiqlError> {
    let mut forward = true;
    let mut partition_order = None;
    if !select.order_by.is_empty() {
        if filter.is_none() {
            return Err(invalid(error::ORDER_BY_NO_WHERE));
        }
        for item in &select.order_by {
            let Some(name) = item.expr.as_name() else {
                return Err(invalid(format!(
                    "Argument to ORDER BY must be of type VariableReference. Type: {}",
                    if item.expr.as_path().is_some() {
                        "Path"
                    } else {
                        "Expression"
                    }
                )));
            };
            if name == hash.name {
                partition_order = Some(!item.descending);
            } else if range.is_some_and(|r| r.name == name) {
                forward = !item.descending;
            } else {
                return Err(invalid(format!(
                    "Variable reference {name} in ORDER BY clause must be part of the primary key"
                )));
            }
        }
    }
    let groups = match plan {
        Plan::Scan => {
            if !select.order_by.is_empty() {
                return Err(invalid(error::ORDER_BY_NO_HASH));
            }
            let alternatives = filter.map(|f| vec![vec![f]]).unwrap_or_default();
            return Ok((
                vec![Read {
                    pk: None,
                    sort: None,
                    alternatives,
                }],
                true,
            ));
        }
        Plan::Query(groups) => groups,
    };
    let mut groups = groups;
    if !select.order_by.is_empty() && groups.len() > 1 && partition_order.is_none() {
        return Err(invalid(error::ORDER_BY_HASH_NEEDED));
    }
    if let Some(ascending) = partition_order {
        groups.sort_by(|a, b| {
            let o = compare(&a.pk, &b.pk);
            if ascending {
                o
            } else {
                o.reverse()
            }
        });
    }
    let reads = groups
        .into_iter()
        .map(|g| {
            if let [only] = g.branches.as_slice() {
                return Read {
                    pk: Some(g.pk.clone()),
                    sort: only.sort,
                    alternatives: vec![only.residual.clone()],
                };
            }
            // Several alternatives on one partition: read it whole, keeping
            // what any of them selects.
            let alternatives = g
                .branches
                .iter()
                .map(|b| {
                    b.sort
                        .into_iter()
                        .chain(b.residual.iter().copied())
                        .collect()
                })
                .collect();
            Read {
                pk: Some(g.pk),
                sort: None,
                alternatives,
            }
        })
        .collect();
    Ok((reads, forward))
}

fn compare(a: &AttributeValue, b: &AttributeValue) -> std::cmp::Ordering {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.as_bytes().cmp(y.as_bytes()),
        (AttributeValue::N(x), AttributeValue::N(y)) => x.cmp(y),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// The Query or Scan request for one read, and the condition evaluated on
/// its items here when part of the WHERE names key attributes (a Query's
/// FilterExpression may not).
#[allow(clippy::too_many_arguments)]
fn read_body(
    def: &TableDef,
    index: Option<&IndexDef>,
    read: &Read<'_>,
    paths: &[(Path, String)],
    key_names: &[&str],
    req: &Request<'_>,
    esk: Option<Value>,
    limit: Option<usize>,
    forward: bool,
) -> Result<(Map<String, Value>, Option<Condition>), PartiqlError> {
    let params = req.params;
    let mut w = Writer::new();
    let mut body = Map::new();
    body.insert("TableName".into(), json!(def.name));
    if let Some(i) = index {
        body.insert("IndexName".into(), json!(i.name));
    }
    let mut post = Vec::new();
    let filter = match &read.pk {
        // A scan with no WHERE keeps everything.
        None if read.alternatives.is_empty() => Cond::constant(true),
        None => or_all(
            read.alternatives
                .iter()
                .map(|a| conjunction(a, params, &mut w))
                .collect::<Result<_, _>>()?,
        ),
        Some(pk) => {
            let hash = w.name(key_names[0]);
            let v = w.value(pk.clone());
            let mut key = format!("{hash} = {v}");
            if let Some(sort) = read.sort {
                key.push_str(" AND ");
                key.push_str(&sort_text(sort, params, &mut w)?);
            }
            body.insert("KeyConditionExpression".into(), json!(key));
            body.insert("ScanIndexForward".into(), json!(forward));
            // Conditions on key attributes are evaluated here, after the
            // Query; the rest filter inside it.
            let names_keys = |e: &&super::ast::Expr| mentions(e, key_names);
            if let [only] = read.alternatives.as_slice() {
                let (on_keys, rest): (Vec<_>, Vec<_>) = only.iter().copied().partition(names_keys);
                post = vec![on_keys];
                conjunction(&rest, params, &mut w)?
            } else if read.alternatives.iter().flatten().any(names_keys) {
                post = read.alternatives.clone();
                Cond::constant(true)
            } else {
                or_all(
                    read.alternatives
                        .iter()
                        .map(|a| conjunction(a, params, &mut w))
                        .collect::<Result<_, _>>()?,
                )
            }
        }
    };
    if let Some(f) = filter.render(&mut w) {
        body.insert("FilterExpression".into(), json!(f));
    }
    let post = post_condition(&post, params)?;
    if !paths.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for (path, _) in paths {
            if !names.contains(&path.top_level()) {
                names.push(path.top_level());
            }
        }
        let mut post_names = Vec::new();
        if post.is_some() {
            post_names = post_attributes(&read.alternatives);
        }
        for n in post_names {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let projection: Vec<String> = names.iter().map(|n| w.name(n)).collect();
        body.insert("ProjectionExpression".into(), json!(projection.join(", ")));
    }
    w.attach(&mut body);
    if let Some(c) = req.consistent {
        body.insert("ConsistentRead".into(), json!(c));
    }
    if let Some(l) = limit {
        body.insert("Limit".into(), json!(l));
    }
    if let Some(k) = esk {
        body.insert("ExclusiveStartKey".into(), k);
    }
    if let Some(c) = req.capacity {
        body.insert("ReturnConsumedCapacity".into(), json!(c));
    }
    Ok((body, post))
}

fn conjunction(
    factors: &[&super::ast::Expr],
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<Cond, PartiqlError> {
    Ok(and_all(
        factors
            .iter()
            .map(|f| condition(f, params, w))
            .collect::<Result<_, _>>()?,
    ))
}

/// The condition evaluated on a Query's items: any alternative's factors
/// all holding. `None` when there is nothing to check.
fn post_condition(
    alternatives: &[Vec<&super::ast::Expr>],
    params: &[AttributeValue],
) -> Result<Option<Condition>, PartiqlError> {
    if alternatives.iter().all(|a| a.is_empty()) {
        return Ok(None);
    }
    let mut w = Writer::new();
    let cond = or_all(
        alternatives
            .iter()
            .map(|a| conjunction(a, params, &mut w))
            .collect::<Result<_, _>>()?,
    );
    let Some(text) = cond.render(&mut w) else {
        return Ok(None);
    };
    let mut subs = w.substitutions();
    parse_condition(&text, ExprParam::Filter, &mut subs)
        .map(Some)
        .map_err(|e| without_expression_prefix(e.into()))
}

fn post_attributes<'e>(alternatives: &[Vec<&'e super::ast::Expr>]) -> Vec<&'e str> {
    let mut out = Vec::new();
    for f in alternatives.iter().flatten() {
        super::translate::referenced_names(f, &mut out);
    }
    out
}

fn encode_token(t: &Token) -> String {
    STANDARD.encode(serde_json::to_vec(t).expect("json serializes"))
}

fn decode_token(t: &str) -> Result<Token, PartiqlError> {
    STANDARD
        .decode(t)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid(error::INVALID_NEXT_TOKEN))
}
