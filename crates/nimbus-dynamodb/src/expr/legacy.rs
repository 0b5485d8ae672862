//! The legacy (pre-expression) parameters, translated into the expression
//! tree so that one evaluator serves both kinds of request: QueryFilter,
//! ScanFilter and Expected become a [`Condition`], KeyConditions a
//! [`KeyCondition`], AttributeUpdates an [`Update`] and AttributesToGet a
//! [`Projection`].
//!
//! Every legacy comparison operator has an expression counterpart with the
//! same meaning, so the translation is word for word: `EQ` is `=`, `NE` is
//! `<>`, `NULL` is `attribute_not_exists`, `NOT_CONTAINS` is
//! `NOT contains(...)`, `IN` and `BETWEEN` are themselves. That includes
//! the edges: a missing attribute or a value of another type never matches
//! `EQ`, `LT`, `CONTAINS`, ... and always satisfies `NE` and `NOT_CONTAINS`;
//! `CONTAINS` finds a substring of a string, a subsequence of a binary, a
//! member of a set or an element of a list.
//!
//! The checks here are the ones AWS makes on one condition's values (how
//! many for each operator, which types, the BETWEEN bounds) and on one
//! AttributeUpdates action, with AWS's texts. The request members
//! themselves (their JSON, the enum values, the mixing rule) are
//! `crate::legacy`'s.

use std::cmp::Ordering;

use super::condition::{CmpOp, Cond, Condition, Operand};
use super::keycond::{KeyCondition, SortCondition};
use super::path::Path;
use super::projection::Projection;
use super::update::Update;
use super::value::compare;
use super::ExprError;
use crate::model::AttributeValue;

/// A legacy ComparisonOperator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOperator {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

impl ComparisonOperator {
    pub fn parse(name: &str) -> Option<ComparisonOperator> {
        use ComparisonOperator::*;
        Some(match name {
            "EQ" => Eq,
            "NE" => Ne,
            "LE" => Le,
            "LT" => Lt,
            "GE" => Ge,
            "GT" => Gt,
            "NOT_NULL" => NotNull,
            "NULL" => Null,
            "CONTAINS" => Contains,
            "NOT_CONTAINS" => NotContains,
            "BEGINS_WITH" => BeginsWith,
            "IN" => In,
            "BETWEEN" => Between,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use ComparisonOperator::*;
        match self {
            Eq => "EQ",
            Ne => "NE",
            Le => "LE",
            Lt => "LT",
            Ge => "GE",
            Gt => "GT",
            NotNull => "NOT_NULL",
            Null => "NULL",
            Contains => "CONTAINS",
            NotContains => "NOT_CONTAINS",
            BeginsWith => "BEGINS_WITH",
            In => "IN",
            Between => "BETWEEN",
        }
    }

    fn takes(self, count: usize) -> bool {
        use ComparisonOperator::*;
        match self {
            NotNull | Null => count == 0,
            In => count >= 1,
            Between => count == 2,
            _ => count == 1,
        }
    }

    /// Which value types the operator compares against: EQ and NE take any
    /// (they compare whole values), the orderings, IN and BETWEEN only
    /// scalars, CONTAINS anything that can be a list element but a set, map
    /// or list, BEGINS_WITH strings and binaries.
    fn accepts(self, value: &AttributeValue) -> bool {
        use AttributeValue as V;
        use ComparisonOperator::*;
        let scalar = matches!(value, V::S(_) | V::N(_) | V::B(_));
        match self {
            Eq | Ne | NotNull | Null => true,
            Le | Lt | Ge | Gt | In | Between => scalar,
            Contains | NotContains => {
                !matches!(value, V::Ss(_) | V::Ns(_) | V::Bs(_) | V::M(_) | V::L(_))
            }
            BeginsWith => matches!(value, V::S(_) | V::B(_)),
        }
    }

    /// The operators a Query can serve from a range of keys.
    fn indexable(self) -> bool {
        use ComparisonOperator::*;
        matches!(self, Eq | Le | Lt | Ge | Gt | BeginsWith | Between)
    }
}

/// AWS's prefix for the checks of legacy members.
fn invalid(detail: impl std::fmt::Display) -> ExprError {
    ExprError::bare(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

/// One legacy condition on one top-level attribute, its values checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyCondition {
    pub attribute: String,
    pub operator: ComparisonOperator,
    pub values: Vec<AttributeValue>,
}

impl LegacyCondition {
    /// Checks the values as AWS does, in its order: how many the operator
    /// takes, then each value's type (one the operator accepts, and the
    /// first value's), then that BETWEEN's bounds are in order.
    pub fn new(
        attribute: String,
        operator: ComparisonOperator,
        values: Vec<AttributeValue>,
    ) -> Result<LegacyCondition, ExprError> {
        let name = operator.name();
        if !operator.takes(values.len()) {
            return Err(invalid(format_args!(
                "Invalid number of argument(s) for the {name} ComparisonOperator"
            )));
        }
        if let Some(first) = values.first() {
            for v in &values {
                if !operator.accepts(v) {
                    return Err(invalid(format_args!(
                        "ComparisonOperator {name} is not valid for {} AttributeValue type",
                        v.type_name()
                    )));
                }
                if v.type_name() != first.type_name() {
                    return Err(invalid(
                        "AttributeValues inside AttributeValueList must be of same type",
                    ));
                }
            }
        }
        if operator == ComparisonOperator::Between
            && compare(&values[0], &values[1]) == Some(Ordering::Greater)
        {
            return Err(ExprError::bare(
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
            ));
        }
        Ok(LegacyCondition {
            attribute,
            operator,
            values,
        })
    }

    /// The condition as the expression it stands for.
    fn cond(&self) -> Cond {
        use ComparisonOperator::*;
        let path = || Path::attribute(self.attribute.as_str());
        let subject = || Operand::Path(path());
        let value = |i: usize| Operand::Value(self.values[i].clone());
        let compare = |op: CmpOp| Cond::Compare(op, subject(), value(0));
        match self.operator {
            Eq => compare(CmpOp::Eq),
            Ne => compare(CmpOp::Ne),
            Le => compare(CmpOp::Le),
            Lt => compare(CmpOp::Lt),
            Ge => compare(CmpOp::Ge),
            Gt => compare(CmpOp::Gt),
            NotNull => Cond::AttributeExists(path()),
            Null => Cond::AttributeNotExists(path()),
            Contains => Cond::Contains(subject(), value(0)),
            NotContains => Cond::Not(Box::new(Cond::Contains(subject(), value(0)))),
            BeginsWith => Cond::BeginsWith(subject(), value(0)),
            In => Cond::In(
                subject(),
                self.values.iter().cloned().map(Operand::Value).collect(),
            ),
            Between => Cond::Between(subject(), value(0), value(1)),
        }
    }
}

/// ConditionalOperator: how the conditions of one map combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conjunction {
    #[default]
    And,
    Or,
}

/// Joins conditions left to right (the order AWS evaluates them in);
/// `None` for none at all, which constrains nothing.
fn join(conds: impl IntoIterator<Item = Cond>, conjunction: Conjunction) -> Option<Condition> {
    let root = conds.into_iter().reduce(|a, b| match conjunction {
        Conjunction::And => Cond::And(Box::new(a), Box::new(b)),
        Conjunction::Or => Cond::Or(Box::new(a), Box::new(b)),
    })?;
    Some(Condition { root })
}

/// A QueryFilter or ScanFilter as a filter.
pub fn filter(conditions: &[LegacyCondition], conjunction: Conjunction) -> Option<Condition> {
    join(conditions.iter().map(LegacyCondition::cond), conjunction)
}

/// One entry of Expected, in the form it was given.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// `Value` (with `Exists` absent or true): the attribute equals it.
    Equals {
        attribute: String,
        value: AttributeValue,
    },
    /// `Exists: false`: the attribute is absent.
    Absent { attribute: String },
    /// `ComparisonOperator` with `AttributeValueList` (or `Value`).
    Compare(LegacyCondition),
}

/// Expected as a condition on the item being written.
pub fn expected(entries: &[Expectation], conjunction: Conjunction) -> Option<Condition> {
    let conds = entries.iter().map(|e| match e {
        Expectation::Equals { attribute, value } => Cond::Compare(
            CmpOp::Eq,
            Operand::Path(Path::attribute(attribute.as_str())),
            Operand::Value(value.clone()),
        ),
        Expectation::Absent { attribute } => {
            Cond::AttributeNotExists(Path::attribute(attribute.as_str()))
        }
        Expectation::Compare(c) => c.cond(),
    });
    join(conds, conjunction)
}

/// One key attribute of the table or index a Query reads: its name and
/// its type (`S`, `N` or `B`).
#[derive(Debug, Clone, Copy)]
pub struct KeyAttribute<'a> {
    pub name: &'a str,
    pub type_name: &'a str,
}

/// KeyConditions (one or two conditions, already checked) as a key
/// condition on `hash` and, if the schema has one, `range`. AWS checks the
/// hash key's condition first, then the range key's, each for presence,
/// an operator a key range can serve, and values of the key's type.
pub fn key_condition(
    conditions: &[LegacyCondition],
    hash: KeyAttribute<'_>,
    range: Option<KeyAttribute<'_>>,
) -> Result<KeyCondition, ExprError> {
    let not_supported = || ExprError::bare("Query key condition not supported");
    let missed =
        |key: &str| ExprError::bare(format!("Query condition missed key schema element: {key}"));
    let find = |key: &str| conditions.iter().find(|c| c.attribute == key);
    if range.is_none() && conditions.len() > 1 {
        return Err(not_supported());
    }
    let h = find(hash.name).ok_or_else(|| missed(hash.name))?;
    check_key_term(h, hash)?;
    if h.operator != ComparisonOperator::Eq {
        return Err(not_supported());
    }
    let sort = match range {
        None => None,
        Some(r) => match find(r.name) {
            None if conditions.len() > 1 => return Err(missed(r.name)),
            None => None,
            Some(c) => {
                check_key_term(c, r)?;
                Some(sort_condition(c))
            }
        },
    };
    Ok(KeyCondition {
        partition: (hash.name.to_string(), h.values[0].clone()),
        sort,
    })
}

fn check_key_term(c: &LegacyCondition, key: KeyAttribute<'_>) -> Result<(), ExprError> {
    if !c.operator.indexable() {
        return Err(ExprError::bare(
            "Attempted conditional constraint is not an indexable operation",
        ));
    }
    if c.values.iter().any(|v| v.type_name() != key.type_name) {
        return Err(invalid(
            "Condition parameter type does not match schema type",
        ));
    }
    Ok(())
}

/// An indexable condition on the sort key.
fn sort_condition(c: &LegacyCondition) -> SortCondition {
    use ComparisonOperator::*;
    let v = c.values[0].clone();
    match c.operator {
        Le => SortCondition::Le(v),
        Lt => SortCondition::Lt(v),
        Ge => SortCondition::Ge(v),
        Gt => SortCondition::Gt(v),
        BeginsWith => SortCondition::BeginsWith(v),
        Between => SortCondition::Between(v, c.values[1].clone()),
        // EQ, and nothing else reaches here (`check_key_term` ran).
        _ => SortCondition::Eq(v),
    }
}

/// An AttributeUpdates Action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Put,
    Add,
    Delete,
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        match name {
            "PUT" => Some(Action::Put),
            "ADD" => Some(Action::Add),
            "DELETE" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One AttributeUpdates entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeUpdate {
    attribute: String,
    action: Action,
    value: Option<AttributeValue>,
}

impl AttributeUpdate {
    /// Checks the action against its value as AWS does: only DELETE goes
    /// without a value, DELETE takes a set, ADD a number, a set or a list.
    pub fn new(
        attribute: String,
        action: Action,
        value: Option<AttributeValue>,
    ) -> Result<AttributeUpdate, ExprError> {
        use AttributeValue as V;
        match (&value, action) {
            (None, Action::Put | Action::Add) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            (Some(v), Action::Delete) if !matches!(v, V::Ss(_) | V::Ns(_) | V::Bs(_)) => {
                return Err(invalid(format_args!(
                    "DELETE action with value is not supported for the type {}",
                    v.type_name()
                )))
            }
            (Some(v), Action::Add)
                if !matches!(v, V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_) | V::L(_)) =>
            {
                return Err(invalid(format_args!(
                    "ADD action is not supported for the type {}",
                    v.type_name()
                )))
            }
            _ => {}
        }
        Ok(AttributeUpdate {
            attribute,
            action,
            value,
        })
    }
}

/// AttributeUpdates as an update: PUT sets, DELETE without a value
/// removes, ADD and DELETE with a value add to and take from numbers, sets
/// (and, for ADD, lists), creating what is missing.
pub fn attribute_updates(updates: Vec<AttributeUpdate>) -> Update {
    let (mut set, mut remove, mut add, mut delete) = (vec![], vec![], vec![], vec![]);
    let mut targets = Vec::with_capacity(updates.len());
    for u in updates {
        let path = Path::attribute(u.attribute);
        targets.push(path.clone());
        match (u.action, u.value) {
            (Action::Put, Some(v)) => set.push((path, v)),
            (Action::Add, Some(v)) => add.push((path, v)),
            (Action::Delete, Some(v)) => delete.push((path, v)),
            (Action::Delete, None) => remove.push(path),
            // `AttributeUpdate::new` refuses PUT and ADD without a value.
            (Action::Put | Action::Add, None) => {}
        }
    }
    Update::legacy(set, remove, add, delete, targets)
}

/// AttributesToGet: these top-level attributes, each taken whole.
pub fn attributes_to_get(names: &[String]) -> Projection {
    Projection {
        paths: names.iter().map(|n| Path::attribute(n.as_str())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Item, Number};

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }
    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.parse::<Number>().unwrap())
    }
    fn cond(attr: &str, op: &str, values: Vec<AttributeValue>) -> LegacyCondition {
        LegacyCondition::new(attr.into(), ComparisonOperator::parse(op).unwrap(), values).unwrap()
    }
    fn err(op: &str, values: Vec<AttributeValue>) -> String {
        LegacyCondition::new("a".into(), ComparisonOperator::parse(op).unwrap(), values)
            .unwrap_err()
            .message
    }
    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
    fn matches(c: &LegacyCondition, it: &Item) -> bool {
        filter(std::slice::from_ref(c), Conjunction::And)
            .unwrap()
            .evaluate(it)
    }

    #[test]
    fn argument_checks_in_aws_order() {
        assert_eq!(
            err("EQ", vec![]),
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
        );
        assert_eq!(
            err("NULL", vec![s("x")]),
            "One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator"
        );
        assert_eq!(
            err("LT", vec![AttributeValue::Bool(true)]),
            "One or more parameter values were invalid: ComparisonOperator LT is not valid for BOOL AttributeValue type"
        );
        assert_eq!(
            err("IN", vec![s("b"), n("1")]),
            "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
        );
        assert_eq!(
            err("BETWEEN", vec![n("10"), n("9")]),
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
        );
        // Numbers order numerically, not as text.
        assert!(LegacyCondition::new(
            "a".into(),
            ComparisonOperator::Between,
            vec![n("9"), n("10")]
        )
        .is_ok());
        assert!(LegacyCondition::new(
            "a".into(),
            ComparisonOperator::Contains,
            vec![AttributeValue::Bool(true)]
        )
        .is_ok());
        assert_eq!(
            err("CONTAINS", vec![AttributeValue::Ss(vec!["x".into()])]),
            "One or more parameter values were invalid: ComparisonOperator CONTAINS is not valid for SS AttributeValue type"
        );
    }

    #[test]
    fn missing_attributes_match_only_the_negative_operators() {
        let empty = Item::new();
        assert!(matches(&cond("a", "NE", vec![s("x")]), &empty));
        assert!(matches(&cond("a", "NOT_CONTAINS", vec![s("x")]), &empty));
        assert!(matches(&cond("a", "NULL", vec![]), &empty));
        for (op, values) in [
            ("EQ", vec![s("x")]),
            ("LT", vec![s("x")]),
            ("CONTAINS", vec![s("x")]),
            ("BEGINS_WITH", vec![s("x")]),
            ("IN", vec![s("x")]),
            ("BETWEEN", vec![s("a"), s("z")]),
            ("NOT_NULL", vec![]),
        ] {
            assert!(!matches(&cond("a", op, values), &empty), "{op}");
        }
    }

    #[test]
    fn unlike_types_never_compare() {
        let it = item(&[("a", s("6"))]);
        assert!(!matches(&cond("a", "EQ", vec![n("6")]), &it));
        assert!(matches(&cond("a", "NE", vec![n("6")]), &it));
        assert!(!matches(&cond("a", "GE", vec![n("0")]), &it));
    }

    #[test]
    fn or_needs_one_and_needs_all() {
        let it = item(&[("a", n("1")), ("b", n("2"))]);
        let both = [cond("a", "EQ", vec![n("1")]), cond("b", "EQ", vec![n("3")])];
        assert!(!filter(&both, Conjunction::And).unwrap().evaluate(&it));
        assert!(filter(&both, Conjunction::Or).unwrap().evaluate(&it));
        assert!(filter(&[], Conjunction::And).is_none());
    }

    #[test]
    fn key_conditions() {
        let hash = KeyAttribute {
            name: "pk",
            type_name: "S",
        };
        let range = Some(KeyAttribute {
            name: "sk",
            type_name: "N",
        });
        let kc = key_condition(
            &[
                cond("pk", "EQ", vec![s("p")]),
                cond("sk", "BETWEEN", vec![n("1"), n("5")]),
            ],
            hash,
            range,
        )
        .unwrap();
        assert_eq!(kc.partition, ("pk".to_string(), s("p")));
        assert_eq!(kc.sort, Some(SortCondition::Between(n("1"), n("5"))));
        let msg = |conds: &[LegacyCondition], range| {
            key_condition(conds, hash, range).unwrap_err().message
        };
        assert_eq!(
            msg(&[cond("sk", "EQ", vec![n("1")])], range),
            "Query condition missed key schema element: pk"
        );
        assert_eq!(
            msg(
                &[
                    cond("pk", "EQ", vec![s("p")]),
                    cond("x", "EQ", vec![n("1")])
                ],
                range
            ),
            "Query condition missed key schema element: sk"
        );
        assert_eq!(
            msg(
                &[
                    cond("pk", "EQ", vec![s("p")]),
                    cond("x", "EQ", vec![n("1")])
                ],
                None
            ),
            "Query key condition not supported"
        );
        assert_eq!(
            msg(&[cond("pk", "BEGINS_WITH", vec![s("p")])], range),
            "Query key condition not supported"
        );
        assert_eq!(
            msg(&[cond("pk", "NE", vec![s("p")])], range),
            "Attempted conditional constraint is not an indexable operation"
        );
        assert_eq!(
            msg(&[cond("pk", "EQ", vec![n("1")])], range),
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        );
    }

    #[test]
    fn attribute_update_checks() {
        let e = |action, value| {
            AttributeUpdate::new("a".into(), action, value)
                .unwrap_err()
                .message
        };
        assert_eq!(
            e(Action::Put, None),
            "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
        );
        assert_eq!(
            e(Action::Delete, Some(n("1"))),
            "One or more parameter values were invalid: DELETE action with value is not supported for the type N"
        );
        assert_eq!(
            e(Action::Add, Some(s("x"))),
            "One or more parameter values were invalid: ADD action is not supported for the type S"
        );
    }

    #[test]
    fn legacy_updates_apply() {
        let up = |action, value| AttributeUpdate::new("a".into(), action, value).unwrap();
        let apply = |u: AttributeUpdate, it: &mut Item| attribute_updates(vec![u]).apply(it);
        let mut it = Item::new();
        apply(up(Action::Add, Some(n("5"))), &mut it).unwrap();
        apply(up(Action::Add, Some(n("-2"))), &mut it).unwrap();
        assert_eq!(it["a"], n("3"));
        assert_eq!(
            apply(
                up(
                    Action::Add,
                    Some(AttributeValue::Ns(vec!["1".parse().unwrap()]))
                ),
                &mut it
            )
            .unwrap_err()
            .message,
            "Type mismatch for attribute to update"
        );
        let mut it = item(&[("a", AttributeValue::L(vec![s("x")]))]);
        apply(
            up(Action::Add, Some(AttributeValue::L(vec![s("x")]))),
            &mut it,
        )
        .unwrap();
        assert_eq!(it["a"], AttributeValue::L(vec![s("x"), s("x")]));
        apply(up(Action::Delete, None), &mut it).unwrap();
        assert!(it.is_empty());
    }
}
