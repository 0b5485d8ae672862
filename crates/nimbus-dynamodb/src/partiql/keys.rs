//! Finding the item a statement names: equality conditions on the key
//! attributes in the top-level AND of its WHERE clause.

use serde_json::{Map, Value};

use super::ast::{CmpOp, Expr, ExprKind};
use super::error::{self, invalid, PartiqlError};
use super::values::constant;
use crate::catalog::{KeyAttr, TableDef};
use crate::model::AttributeValue;

/// `name = value` (either way round) with a value the statement fixes.
pub fn equality<'e>(
    e: &'e Expr,
    params: &[AttributeValue],
) -> Result<Option<(&'e str, AttributeValue)>, PartiqlError> {
    let ExprKind::Cmp(CmpOp::Eq, l, r) = &e.kind else {
        return Ok(None);
    };
    for (name, value) in [(l, r), (r, l)] {
        if let Some(name) = name.as_name() {
            if let Some(v) = constant(value, params)? {
                return Ok(Some((name, v)));
            }
        }
    }
    Ok(None)
}

/// Whether a value can be the given key attribute's value.
pub fn fits(attr: &KeyAttr, v: &AttributeValue) -> bool {
    v.type_name() == attr.key_type.as_str()
}

/// The key a write statement's WHERE names, and the conjuncts left over
/// (the write's extra condition). Every key attribute needs exactly one
/// equality.
pub fn write_key<'e>(
    def: &TableDef,
    filter: Option<&'e Expr>,
    params: &[AttributeValue],
) -> Result<(Map<String, Value>, Vec<&'e Expr>), PartiqlError> {
    let Some(filter) = filter else {
        return Err(invalid(error::MISSING_KEY_EQUALITY));
    };
    let mut rest = Vec::new();
    let mut key = Map::new();
    for conjunct in filter.conjuncts() {
        match equality(conjunct, params)? {
            Some((name, value)) if def.is_key_attr(name) => {
                if key.contains_key(name) {
                    return Err(invalid(format!(
                        "Multiple conditions on same key {name}. Only single item Update/Insert/Delete are supported"
                    )));
                }
                key.insert(
                    name.to_string(),
                    serde_json::to_value(&value).expect("values serialize"),
                );
                let attr = def
                    .key_attrs()
                    .find(|k| k.name == name)
                    .expect("a key attribute");
                if !fits(attr, &value) {
                    return Err(schema_mismatch(name));
                }
            }
            _ => rest.push(conjunct),
        }
    }
    if def.key_attrs().any(|k| !key.contains_key(&k.name)) {
        return Err(invalid(error::MISSING_KEY_EQUALITY));
    }
    Ok((key, rest))
}

pub fn schema_mismatch(name: &str) -> PartiqlError {
    invalid(format!(
        "Key attribute's data type should match its data type in table's schema: Key {name}"
    ))
}

/// For a read that must name exactly one item (in a batch or a
/// transaction): the key, when the WHERE is nothing but one equality on each
/// key attribute.
pub fn exact_key(
    def: &TableDef,
    filter: Option<&Expr>,
    params: &[AttributeValue],
) -> Result<Option<Map<String, Value>>, PartiqlError> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let (key, rest) = match write_key(def, Some(filter), params) {
        Ok(found) => found,
        Err(PartiqlError::Validation(m)) if m == error::MISSING_KEY_EQUALITY => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(rest.is_empty().then_some(key))
}
