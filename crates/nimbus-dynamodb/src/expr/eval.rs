//! Evaluating a condition against an item.
//!
//! Evaluation never fails: a missing attribute, a type mismatch or a
//! comparison between types just makes that comparison false (`<>` true), the
//! way DynamoDB behaves at runtime. The tree's depth is bounded by the parser,
//! so the recursion here is too.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::condition::{CmpOp, Cond, Condition, Operand};
use super::value::{compare, number_from_count, size_of, type_code};
use crate::model::{AttributeValue, Item};

impl Condition {
    /// Whether `item` satisfies the condition. A missing item is an empty
    /// item.
    pub fn evaluate(&self, item: &Item) -> bool {
        eval(&self.root, item)
    }
}

fn eval(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::Compare(op, l, r) => {
            let (l, r) = (operand(l, item), operand(r, item));
            match (l, r) {
                (Some(l), Some(r)) => compare_with(*op, &l, &r),
                // A missing attribute equals nothing, so it differs from
                // everything and orders against nothing.
                _ => *op == CmpOp::Ne,
            }
        }
        Cond::Between(subject, low, high) => {
            match (
                operand(subject, item),
                operand(low, item),
                operand(high, item),
            ) {
                (Some(v), Some(lo), Some(hi)) => {
                    matches!(compare(&v, &lo), Some(Ordering::Greater | Ordering::Equal))
                        && matches!(compare(&v, &hi), Some(Ordering::Less | Ordering::Equal))
                }
                _ => false,
            }
        }
        Cond::In(subject, list) => match operand(subject, item) {
            Some(v) => list
                .iter()
                .any(|o| operand(o, item).is_some_and(|c| *c == *v)),
            None => false,
        },
        Cond::AttributeExists(path) => path.resolve(item).is_some(),
        Cond::AttributeNotExists(path) => path.resolve(item).is_none(),
        Cond::AttributeType(subject, t) => {
            operand(subject, item).is_some_and(|v| type_code(&v) == t)
        }
        Cond::BeginsWith(subject, prefix) => {
            match (operand(subject, item), operand(prefix, item)) {
                (Some(v), Some(prefix)) => match (&*v, &*prefix) {
                    (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
                    (AttributeValue::B(b), AttributeValue::B(p)) => b.starts_with(p),
                    _ => false,
                },
                _ => false,
            }
        }
        Cond::Contains(subject, needle) => match (operand(subject, item), operand(needle, item)) {
            (Some(v), Some(needle)) => contains(&v, &needle),
            _ => false,
        },
        Cond::Not(inner) => !eval(inner, item),
        Cond::And(a, b) => eval(a, item) && eval(b, item),
        Cond::Or(a, b) => eval(a, item) || eval(b, item),
    }
}

/// The value of an operand for `item`, if it has one.
pub(crate) fn operand<'a>(op: &'a Operand, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
    match op {
        Operand::Path(path) => path.resolve(item).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let v = operand(inner, item)?;
            let n = number_from_count(size_of(&v)?)?;
            Some(Cow::Owned(AttributeValue::N(n)))
        }
    }
}

fn compare_with(op: CmpOp, l: &AttributeValue, r: &AttributeValue) -> bool {
    match op {
        CmpOp::Eq => l == r,
        CmpOp::Ne => l != r,
        CmpOp::Lt => compare(l, r) == Some(Ordering::Less),
        CmpOp::Le => matches!(compare(l, r), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => compare(l, r) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(compare(l, r), Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// `contains`: a substring of a string, a byte run of a binary, a member of
/// a set (of the matching element type), or an element of a list.
fn contains(haystack: &AttributeValue, needle: &AttributeValue) -> bool {
    match (haystack, needle) {
        (AttributeValue::S(s), AttributeValue::S(n)) => s.contains(n.as_str()),
        (AttributeValue::B(b), AttributeValue::B(n)) => {
            n.is_empty() || b.windows(n.len()).any(|w| w == n.as_slice())
        }
        (AttributeValue::Ss(set), AttributeValue::S(n)) => set.contains(n),
        (AttributeValue::Ns(set), AttributeValue::N(n)) => set.contains(n),
        (AttributeValue::Bs(set), AttributeValue::B(n)) => set.contains(n),
        (AttributeValue::L(list), n) => list.iter().any(|e| e == n),
        _ => false,
    }
}
