//! How a SELECT reads: as Queries when its WHERE fixes the partition key in
//! every alternative (`pk = v`, `pk IN [..]`, `pk = a OR pk = b`), otherwise
//! as one Scan filtered by the whole WHERE.
//!
//! The WHERE is put in disjunctive normal form (bounded: past
//! [`MAX_BRANCHES`] alternatives the statement simply scans, which reads
//! more but returns the same items). Each alternative that fixes the
//! partition key reads that partition, with a sort key condition when it has
//! one; alternatives on the same partition read it once, filtered by their
//! union, so no item is returned twice.

use super::ast::{CmpOp, Expr, ExprKind, Step};
use super::error::PartiqlError;
use super::keys::{equality, fits};
use super::values::constant;
use crate::catalog::KeyAttr;
use crate::model::AttributeValue;

/// Most alternatives a WHERE is split into, and most partitions one
/// statement reads, before reading falls back to a scan.
pub const MAX_BRANCHES: usize = 100;
/// Most partition key values an IN reads by key (DynamoDB documents 50
/// for a hash key); a longer list filters a scan.
pub const MAX_KEY_VALUES: usize = 50;

/// One alternative of the WHERE within one partition.
#[derive(Debug)]
pub struct Branch<'e> {
    /// A condition on the sort key the Query can use as a range.
    pub sort: Option<&'e Expr>,
    /// The alternative's other conditions, all of which must hold.
    pub residual: Vec<&'e Expr>,
}

/// One partition to read, and the alternatives that select from it.
#[derive(Debug)]
pub struct Group<'e> {
    pub pk: AttributeValue,
    pub branches: Vec<Branch<'e>>,
}

#[derive(Debug)]
pub enum Plan<'e> {
    Scan,
    Query(Vec<Group<'e>>),
}

/// Chooses how to read for `filter`, given the key of what is read (the
/// table's, or the index's).
pub fn plan<'e>(
    filter: Option<&'e Expr>,
    hash: &KeyAttr,
    range: Option<&KeyAttr>,
    params: &[AttributeValue],
) -> Result<Plan<'e>, PartiqlError> {
    let Some(filter) = filter else {
        return Ok(Plan::Scan);
    };
    let Some(alternatives) = dnf(filter) else {
        return Ok(Plan::Scan);
    };
    let mut groups: Vec<Group<'e>> = Vec::new();
    for factors in alternatives {
        let mut key = None;
        for (i, f) in factors.iter().enumerate() {
            if let Some(values) = hash_values(f, hash, params)? {
                key = Some((i, values));
                break;
            }
        }
        let Some((key_at, values)) = key else {
            return Ok(Plan::Scan);
        };
        let mut sort = None;
        let mut residual = Vec::new();
        for (i, f) in factors.iter().enumerate() {
            if i == key_at {
                continue;
            }
            match range {
                Some(r) if sort.is_none() && sort_condition(f, r, params)? => sort = Some(*f),
                _ => residual.push(*f),
            }
        }
        for pk in values {
            let branch = Branch {
                sort,
                residual: residual.clone(),
            };
            match groups.iter_mut().find(|g| g.pk == pk) {
                Some(g) => g.branches.push(branch),
                None => groups.push(Group {
                    pk,
                    branches: vec![branch],
                }),
            }
        }
    }
    if groups.len() > MAX_BRANCHES {
        return Ok(Plan::Scan);
    }
    Ok(Plan::Query(groups))
}

/// The alternatives of `e` (an OR of ANDs of factors), or `None` when there
/// would be too many.
fn dnf(e: &Expr) -> Option<Vec<Vec<&Expr>>> {
    match &e.kind {
        ExprKind::Or(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(dnf(item)?);
                if out.len() > MAX_BRANCHES {
                    return None;
                }
            }
            Some(out)
        }
        ExprKind::And(items) => {
            let mut out: Vec<Vec<&Expr>> = vec![vec![]];
            for item in items {
                let parts = dnf(item)?;
                if out.len() * parts.len() > MAX_BRANCHES {
                    return None;
                }
                let mut next = Vec::with_capacity(out.len() * parts.len());
                for a in &out {
                    for b in &parts {
                        let mut both = a.clone();
                        both.extend(b.iter().copied());
                        next.push(both);
                    }
                }
                out = next;
            }
            Some(out)
        }
        _ => Some(vec![vec![e]]),
    }
}

/// The partition key values a factor fixes: `pk = v` or `pk IN [..]`, with
/// values of the key's type (a value of another type selects nothing, so
/// that factor is left to filter).
fn hash_values(
    f: &Expr,
    hash: &KeyAttr,
    params: &[AttributeValue],
) -> Result<Option<Vec<AttributeValue>>, PartiqlError> {
    if let Some((name, v)) = equality(f, params)? {
        return Ok((name == hash.name && fits(hash, &v)).then(|| vec![v]));
    }
    let ExprKind::In(subject, list) = &f.kind else {
        return Ok(None);
    };
    if subject.as_name() != Some(hash.name.as_str()) {
        return Ok(None);
    }
    let (ExprKind::List(items) | ExprKind::Bag(items)) = &list.kind else {
        return Ok(None);
    };
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        match constant(item, params)? {
            Some(v) if fits(hash, &v) => {
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            _ => return Ok(None),
        }
    }
    Ok((!values.is_empty() && values.len() <= MAX_KEY_VALUES).then_some(values))
}

/// Whether a factor is a sort key condition a Query takes: a comparison
/// (other than `<>`), BETWEEN, or begins_with, on the sort key, with values
/// of its type.
fn sort_condition(
    f: &Expr,
    range: &KeyAttr,
    params: &[AttributeValue],
) -> Result<bool, PartiqlError> {
    let is_range = |e: &Expr| e.as_name() == Some(range.name.as_str());
    let fitting = |e: &Expr| -> Result<bool, PartiqlError> {
        Ok(constant(e, params)?.is_some_and(|v| fits(range, &v)))
    };
    Ok(match &f.kind {
        ExprKind::Cmp(op, l, r) if *op != CmpOp::Ne => {
            (is_range(l) && fitting(r)?) || (is_range(r) && fitting(l)?)
        }
        ExprKind::Between(s, lo, hi) => is_range(s) && fitting(lo)? && fitting(hi)?,
        ExprKind::Call(name, args) if name == "begins_with" && args.len() == 2 => {
            is_range(&args[0]) && range.key_type != crate::catalog::KeyType::N && fitting(&args[1])?
        }
        _ => false,
    })
}

/// The sort key condition as key condition text.
pub fn sort_text(
    f: &Expr,
    params: &[AttributeValue],
    w: &mut super::translate::Writer,
) -> Result<String, PartiqlError> {
    super::translate::condition(f, params, w)?
        .render(w)
        .ok_or_else(|| super::error::invalid("Query key condition not supported"))
}

/// Whether an expression refers to any of `names` at the top level.
pub fn mentions(e: &Expr, names: &[&str]) -> bool {
    let mut found = Vec::new();
    super::translate::referenced_names(e, &mut found);
    found.iter().any(|n| names.contains(n))
}

/// The name a projected path's value is returned under: its last name,
/// with the indexes after it (`a.b[1]` is returned as `b[1]`).
pub fn output_name(steps: &[Step]) -> String {
    let last_name = steps
        .iter()
        .rposition(|s| matches!(s, Step::Name(_)))
        .unwrap_or(0);
    let mut out = String::new();
    for step in &steps[last_name..] {
        match step {
            Step::Name(n) => out.push_str(n),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}
