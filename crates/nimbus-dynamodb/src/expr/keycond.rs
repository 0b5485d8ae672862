//! Key condition expressions (Query): an equality on the partition key,
//! optionally AND one condition on the sort key.
//!
//! They are parsed with the condition grammar (so syntax errors, reserved
//! words and substitutions behave the same) and the tree is then checked to
//! be one of the few shapes a key lookup can serve.

use super::condition::{parse_tree, CmpOp, Cond, Operand};
use super::path::Path;
use super::subst::Substitutions;
use super::{ExprError, ExprKind};
use crate::model::AttributeValue;

/// A key condition: the partition key's name and value, and the sort key
/// condition if any.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition: (String, AttributeValue),
    pub sort: Option<SortCondition>,
}

/// The condition on the sort key (whose name the caller knows).
#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Eq(AttributeValue),
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

impl SortCondition {
    /// Whether a sort key value satisfies the condition.
    pub fn matches(&self, value: &AttributeValue) -> bool {
        use super::value::compare;
        use std::cmp::Ordering::*;
        match self {
            SortCondition::Eq(v) => compare(value, v) == Some(Equal),
            SortCondition::Lt(v) => compare(value, v) == Some(Less),
            SortCondition::Le(v) => matches!(compare(value, v), Some(Less | Equal)),
            SortCondition::Gt(v) => compare(value, v) == Some(Greater),
            SortCondition::Ge(v) => matches!(compare(value, v), Some(Greater | Equal)),
            SortCondition::Between(lo, hi) => {
                matches!(compare(value, lo), Some(Greater | Equal))
                    && matches!(compare(value, hi), Some(Less | Equal))
            }
            SortCondition::BeginsWith(prefix) => match (value, prefix) {
                (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
                (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
                _ => false,
            },
        }
    }
}

/// One simple condition on one key attribute.
struct KeyTerm {
    attribute: String,
    condition: SortCondition,
}

const KIND: ExprKind = ExprKind::KeyCondition;

/// Parses a key condition for a table (or index) whose key is `hash_key`
/// and, if it has one, `range_key`.
pub fn parse_key_condition(
    expr: &str,
    subs: &mut Substitutions,
    hash_key: &str,
    range_key: Option<&str>,
) -> Result<KeyCondition, ExprError> {
    let tree = parse_tree(expr, KIND, subs)?;
    let mut conjuncts = Vec::new();
    flatten_and(&tree, &mut conjuncts)?;
    if conjuncts.len() > 2 {
        return Err(ExprError::bare(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let mut terms = Vec::with_capacity(2);
    for c in conjuncts {
        terms.push(term(c)?);
    }
    if terms.len() == 2 && terms[0].attribute == terms[1].attribute {
        return Err(ExprError::bare(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let Some(hash_at) = terms.iter().position(|t| t.attribute == hash_key) else {
        return Err(ExprError::bare(format!(
            "Query condition missed key schema element: {hash_key}"
        )));
    };
    let hash = terms.remove(hash_at);
    let SortCondition::Eq(hash_value) = hash.condition else {
        return Err(ExprError::bare("Query key condition not supported"));
    };
    let sort = match terms.pop() {
        None => None,
        Some(t) => match range_key {
            Some(range) if t.attribute == range => Some(t.condition),
            Some(range) => {
                return Err(ExprError::bare(format!(
                    "Query condition missed key schema element: {range}"
                )))
            }
            None => return Err(ExprError::bare("Query key condition not supported")),
        },
    };
    Ok(KeyCondition {
        partition: (hash.attribute, hash_value),
        sort,
    })
}

/// Collects the operands of nested ANDs; anything else that combines
/// conditions is not a key condition.
fn flatten_and<'a>(cond: &'a Cond, out: &mut Vec<&'a Cond>) -> Result<(), ExprError> {
    match cond {
        Cond::And(a, b) => {
            flatten_and(a, out)?;
            flatten_and(b, out)
        }
        Cond::Or(..) => Err(invalid_operator("OR")),
        Cond::Not(_) => Err(invalid_operator("NOT")),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

/// AWS sends these semantic key-condition errors without the usual
/// "Invalid KeyConditionExpression: " prefix (as seen in its replies).
fn invalid_operator(op: &str) -> ExprError {
    ExprError::bare(format!(
        "Invalid operator used in KeyConditionExpression: {op}"
    ))
}

/// The key attribute a condition is on: a top-level name.
fn key_name(operand: &Operand) -> Result<Option<String>, ExprError> {
    match operand {
        Operand::Path(path) if path.is_top_level() => Ok(Some(path.top_level().to_string())),
        Operand::Path(path) => Err(nested_path(path)),
        Operand::Size(_) => Err(invalid_operator("size")),
        Operand::Value(_) => Ok(None),
    }
}

fn nested_path(_path: &Path) -> ExprError {
    ExprError::bare("KeyConditionExpressions cannot have conditions on nested attributes")
}

fn literal(operand: &Operand) -> Option<AttributeValue> {
    match operand {
        Operand::Value(v) => Some(v.clone()),
        _ => None,
    }
}

fn term(cond: &Cond) -> Result<KeyTerm, ExprError> {
    match cond {
        Cond::Compare(op, l, r) => {
            if *op == CmpOp::Ne {
                return Err(invalid_operator("<>"));
            }
            // `:v < sk` means `sk > :v`.
            let (attribute, value, op) = match (key_name(l)?, key_name(r)?) {
                (Some(a), None) => (a, literal(r), *op),
                (None, Some(a)) => (a, literal(l), flip(*op)),
                (Some(_), Some(_)) => return Err(multiple_names()),
                (None, None) => return Err(no_name()),
            };
            let value = value.ok_or_else(no_name)?;
            let condition = match op {
                CmpOp::Eq => SortCondition::Eq(value),
                CmpOp::Lt => SortCondition::Lt(value),
                CmpOp::Le => SortCondition::Le(value),
                CmpOp::Gt => SortCondition::Gt(value),
                CmpOp::Ge => SortCondition::Ge(value),
                CmpOp::Ne => return Err(invalid_operator("<>")),
            };
            Ok(KeyTerm {
                attribute,
                condition,
            })
        }
        Cond::Between(subject, lo, hi) => {
            let attribute = key_name(subject)?.ok_or_else(no_name)?;
            if key_name(lo)?.is_some() || key_name(hi)?.is_some() {
                return Err(multiple_names());
            }
            let (Some(lo), Some(hi)) = (literal(lo), literal(hi)) else {
                return Err(no_name());
            };
            Ok(KeyTerm {
                attribute,
                condition: SortCondition::Between(lo, hi),
            })
        }
        Cond::BeginsWith(subject, prefix) => {
            let attribute = key_name(subject)?.ok_or_else(no_name)?;
            if key_name(prefix)?.is_some() {
                return Err(multiple_names());
            }
            let prefix = literal(prefix).ok_or_else(no_name)?;
            Ok(KeyTerm {
                attribute,
                condition: SortCondition::BeginsWith(prefix),
            })
        }
        Cond::In(..) => Err(invalid_operator("IN")),
        Cond::AttributeExists(_) => Err(invalid_operator("attribute_exists")),
        Cond::AttributeNotExists(_) => Err(invalid_operator("attribute_not_exists")),
        Cond::AttributeType(..) => Err(invalid_operator("attribute_type")),
        Cond::Contains(..) => Err(invalid_operator("contains")),
        Cond::Not(_) => Err(invalid_operator("NOT")),
        Cond::Or(..) => Err(invalid_operator("OR")),
        Cond::And(..) => Err(invalid_operator("AND")),
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn multiple_names() -> ExprError {
    ExprError::invalid(KIND, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
}

fn no_name() -> ExprError {
    ExprError::invalid(
        KIND,
        "Invalid condition in KeyConditionExpression: No key attribute specified",
    )
}
