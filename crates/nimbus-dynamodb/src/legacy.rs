//! The legacy request members: AttributesToGet, KeyConditions, QueryFilter,
//! ScanFilter, Expected, AttributeUpdates and ConditionalOperator.
//!
//! This module reads them off the wire and makes AWS's checks that concern
//! the request as a whole: enum values (reported among the framework's
//! constraint violations), the rule that one request uses either legacy
//! members or expressions, the ConditionalOperator rules and duplicate
//! names. What the members mean, and the checks on each single condition or
//! update, are [`crate::expr::legacy`]'s, which translates them into the
//! expression tree the operations already evaluate.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use crate::codec::Violations;
use crate::error::{DynamoError, Result};
use crate::expr::legacy::{
    self, Action, AttributeUpdate, ComparisonOperator, Conjunction, Expectation, LegacyCondition,
};
use crate::expr::{Condition, Projection, Update};
use crate::model::value::decode_value;
use crate::model::AttributeValue;

/// A `Condition` (an entry of KeyConditions, QueryFilter or ScanFilter).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionInput {
    attribute_value_list: Option<Vec<Value>>,
    comparison_operator: Option<String>,
}

/// An `ExpectedAttributeValue`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedInput {
    attribute_value_list: Option<Vec<Value>>,
    comparison_operator: Option<String>,
    exists: Option<bool>,
    value: Option<Value>,
}

/// An `AttributeValueUpdate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    action: Option<String>,
    value: Option<Value>,
}

/// The maps of conditions, by attribute name. A map, not the request's
/// member order: a condition's outcome does not depend on where it stands.
pub type Conditions = BTreeMap<String, ConditionInput>;
pub type Expected = BTreeMap<String, ExpectedInput>;
pub type AttributeUpdates = BTreeMap<String, UpdateInput>;

const OPERATOR_ENUM: &str = "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

// ------------------------------------------------------------ framework checks

/// The framework's checks of a map of Conditions (`member` as AWS prints
/// it, `queryFilter`): every ComparisonOperator present and known.
pub fn check_conditions(v: &mut Violations, member: &str, conditions: Option<&Conditions>) {
    for (attr, c) in conditions.into_iter().flatten() {
        let at = format!("{member}.{attr}.member.comparisonOperator");
        match c.comparison_operator.as_deref() {
            None => v.add("null", &at, "Member must not be null"),
            Some(op) if ComparisonOperator::parse(op).is_none() => {
                v.add(&Violations::quoted(op), &at, OPERATOR_ENUM)
            }
            Some(_) => {}
        }
    }
}

/// The framework's checks of Expected: a ComparisonOperator, if given, is
/// known.
pub fn check_expected(v: &mut Violations, expected: Option<&Expected>) {
    for (attr, e) in expected.into_iter().flatten() {
        if let Some(op) = e.comparison_operator.as_deref() {
            if ComparisonOperator::parse(op).is_none() {
                let at = format!("expected.{attr}.member.comparisonOperator");
                v.add(&Violations::quoted(op), &at, OPERATOR_ENUM);
            }
        }
    }
}

/// The framework's checks of AttributeUpdates: an Action, if given, is known.
pub fn check_attribute_updates(v: &mut Violations, updates: Option<&AttributeUpdates>) {
    for (attr, u) in updates.into_iter().flatten() {
        if let Some(action) = u.action.as_deref() {
            if Action::parse(action).is_none() {
                v.add(
                    &Violations::quoted(action),
                    &format!("attributeUpdates.{attr}.member.action"),
                    "Member must satisfy enum value set: [ADD, PUT, DELETE]",
                );
            }
        }
    }
}

pub fn check_conditional_operator(v: &mut Violations, op: Option<&str>) {
    if let Some(op) = op.filter(|op| !matches!(*op, "AND" | "OR")) {
        v.add(
            &Violations::quoted(op),
            "conditionalOperator",
            "Member must satisfy enum value set: [OR, AND]",
        );
    }
}

/// The framework's checks of an AttributesToGet list (`member` as AWS
/// prints it): 1 to 255 names.
pub fn check_attributes_to_get(v: &mut Violations, member: &str, names: Option<&[String]>) {
    let Some(names) = names else { return };
    let shown = || Violations::quoted(&format!("[{}]", names.join(", ")));
    if names.is_empty() {
        v.add(
            &shown(),
            member,
            "Member must have length greater than or equal to 1",
        );
    }
    if names.len() > 255 {
        v.add(
            &shown(),
            member,
            "Member must have length less than or equal to 255",
        );
    }
}

// ---------------------------------------------------------------- mixing rule

/// Which legacy and expression members a request carries, for AWS's rule
/// that one request uses one kind or the other. Field order is the order
/// AWS lists them in its message.
#[derive(Debug, Default, Clone, Copy)]
pub struct Members {
    pub attribute_updates: bool,
    pub attributes_to_get: bool,
    pub expected: bool,
    pub query_filter: bool,
    pub scan_filter: bool,
    pub conditional_operator: bool,
    pub key_conditions: bool,
    pub update_expression: bool,
    pub projection_expression: bool,
    pub condition_expression: bool,
    pub filter_expression: bool,
    pub key_condition_expression: bool,
}

impl Members {
    /// Refuses a request that mixes the two kinds. KeyConditions is the one
    /// exception: a Query may select by KeyConditions and filter or project
    /// with expressions; only KeyConditionExpression excludes it.
    pub fn check_not_mixed(&self) -> Result<()> {
        let legacy: Vec<&str> = [
            ("AttributeUpdates", self.attribute_updates),
            ("AttributesToGet", self.attributes_to_get),
            ("Expected", self.expected),
            ("QueryFilter", self.query_filter),
            ("ScanFilter", self.scan_filter),
            ("ConditionalOperator", self.conditional_operator),
            (
                "KeyConditions",
                self.key_conditions && self.key_condition_expression,
            ),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let expressions: Vec<&str> = [
            ("UpdateExpression", self.update_expression),
            ("ProjectionExpression", self.projection_expression),
            ("ConditionExpression", self.condition_expression),
            ("FilterExpression", self.filter_expression),
            ("KeyConditionExpression", self.key_condition_expression),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        if legacy.is_empty() || expressions.is_empty() {
            return Ok(());
        }
        Err(DynamoError::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            legacy.join(", "),
            expressions.join(", ")
        )))
    }
}

/// AWS's first checks of a single-item write's legacy members: their enum
/// values, then that they do not mix with the request's expressions.
pub fn check_write(
    expected: Option<&Expected>,
    conditional_operator: Option<&str>,
    updates: Option<&AttributeUpdates>,
    members: Members,
) -> Result<()> {
    let mut v = Violations::new();
    check_expected(&mut v, expected);
    check_attribute_updates(&mut v, updates);
    check_conditional_operator(&mut v, conditional_operator);
    v.into_result()?;
    members.check_not_mixed()
}

/// What a read's legacy members make: the filter of a QueryFilter or
/// ScanFilter (with ConditionalOperator) and the projection of
/// AttributesToGet.
#[derive(Debug, Default)]
pub struct Read {
    pub filter: Option<Condition>,
    pub projection: Option<Projection>,
}

/// The legacy members of a read (GetItem, Query, Scan), checked in AWS's
/// order: the framework's checks (enum values, AttributesToGet's length),
/// the mixing rule, then the filter's conditions and ConditionalOperator,
/// then duplicate names in AttributesToGet. `filter` is the filter map with
/// its member name as AWS prints it (`queryFilter`); KeyConditions are only
/// checked here, since their meaning needs the key schema.
pub fn read(
    filter: Option<(&str, Option<&Conditions>)>,
    key_conditions: Option<&Conditions>,
    conditional_operator: Option<&str>,
    attributes_to_get: Option<&[String]>,
    members: Members,
) -> Result<Read> {
    let mut v = Violations::new();
    check_conditions(&mut v, "keyConditions", key_conditions);
    if let Some((member, conds)) = filter {
        check_conditions(&mut v, member, conds);
    }
    check_conditional_operator(&mut v, conditional_operator);
    check_attributes_to_get(&mut v, "attributesToGet", attributes_to_get);
    v.into_result()?;
    members.check_not_mixed()?;
    let conds = filter.and_then(|(_, conds)| conds);
    let filter = self::filter(conds, conditional_operator)?;
    let projection = attributes_to_get.map(self::attributes_to_get).transpose()?;
    Ok(Read { filter, projection })
}

// ------------------------------------------------------------------ meanings

fn values(list: Option<&Vec<Value>>) -> Result<Vec<AttributeValue>> {
    list.into_iter()
        .flatten()
        .map(|v| decode_value(v).map_err(DynamoError::from))
        .collect()
}

/// The operator of a condition the framework checks have passed.
fn operator(name: Option<&str>) -> Result<ComparisonOperator> {
    name.and_then(ComparisonOperator::parse)
        .ok_or_else(|| DynamoError::Internal("unchecked ComparisonOperator".into()))
}

/// A map of Conditions, each checked (values, then the operator's rules).
pub fn conditions(conditions: &Conditions) -> Result<Vec<LegacyCondition>> {
    conditions
        .iter()
        .map(|(attr, c)| {
            let values = values(c.attribute_value_list.as_ref())?;
            let op = operator(c.comparison_operator.as_deref())?;
            Ok(LegacyCondition::new(attr.clone(), op, values)?)
        })
        .collect()
}

/// ConditionalOperator, which only joins two or more conditions of the
/// request's filter or Expected (`count` of them).
pub fn conjunction(op: Option<&str>, count: usize) -> Result<Conjunction> {
    match (op, count) {
        (None, _) => Ok(Conjunction::And),
        (Some(_), 0) => Err(DynamoError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        (Some(_), 1) => Err(DynamoError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        (Some("OR"), _) => Ok(Conjunction::Or),
        (Some(_), _) => Ok(Conjunction::And),
    }
}

/// A QueryFilter or ScanFilter with its ConditionalOperator: the filter.
pub fn filter(conds: Option<&Conditions>, op: Option<&str>) -> Result<Option<Condition>> {
    let conds = conds.map(conditions).transpose()?.unwrap_or_default();
    let conjunction = conjunction(op, conds.len())?;
    Ok(legacy::filter(&conds, conjunction))
}

fn invalid(detail: String) -> DynamoError {
    DynamoError::validation(format!(
        "One or more parameter values were invalid: {detail}"
    ))
}

/// One Expected entry, checked in AWS's order: which members go together,
/// then the values, then the operator's rules.
fn expectation(attr: &str, e: &ExpectedInput) -> Result<Expectation> {
    let has_list = e.attribute_value_list.is_some();
    let has_value = e.value.is_some();
    let op = e.comparison_operator.as_deref();
    if e.exists.is_some() && op.is_some() {
        return Err(invalid(format!(
            "Exists and ComparisonOperator cannot be used together for Attribute: {attr}"
        )));
    }
    if has_value && has_list {
        return Err(invalid(format!(
            "Value and AttributeValueList cannot be used together for Attribute: {attr}"
        )));
    }
    if op.is_none() && has_list {
        return Err(invalid(format!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
        )));
    }
    if e.exists == Some(false) && has_value {
        return Err(invalid(format!(
            "Value cannot be used when Exists is false for Attribute: {attr}"
        )));
    }
    if !has_value && !has_list {
        match (op, e.exists) {
            (Some(op), _) if !matches!(op, "NULL" | "NOT_NULL") => {
                return Err(invalid(format!(
                    "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {attr}"
                )))
            }
            (None, None) => {
                return Err(invalid(format!(
                    "Value must be provided when Exists is null for Attribute: {attr}"
                )))
            }
            (None, Some(true)) => {
                return Err(invalid(format!(
                    "Value must be provided when Exists is true for Attribute: {attr}"
                )))
            }
            _ => {}
        }
    }
    let value = e.value.as_ref().map(decode_value).transpose()?;
    if op.is_some() {
        // With a ComparisonOperator, a lone Value is a one-element list.
        let values = match value {
            Some(v) => vec![v],
            None => values(e.attribute_value_list.as_ref())?,
        };
        let cond = LegacyCondition::new(attr.to_string(), operator(op)?, values)?;
        return Ok(Expectation::Compare(cond));
    }
    Ok(match value {
        Some(value) => Expectation::Equals {
            attribute: attr.to_string(),
            value,
        },
        None => Expectation::Absent {
            attribute: attr.to_string(),
        },
    })
}

/// Expected with its ConditionalOperator: the condition a write must meet
/// (`None` when there is nothing to check).
pub fn expected(expected: Option<&Expected>, op: Option<&str>) -> Result<Option<Condition>> {
    let entries = expected
        .into_iter()
        .flatten()
        .map(|(attr, e)| expectation(attr, e))
        .collect::<Result<Vec<_>>>()?;
    let conjunction = conjunction(op, entries.len())?;
    Ok(legacy::expected(&entries, conjunction))
}

/// AttributeUpdates as an update (Action defaults to PUT).
pub fn attribute_updates(updates: &AttributeUpdates) -> Result<Update> {
    let updates = updates
        .iter()
        .map(|(attr, u)| {
            let value = u.value.as_ref().map(decode_value).transpose()?;
            let action = match u.action.as_deref() {
                None => Action::Put,
                Some(a) => Action::parse(a).ok_or_else(|| {
                    DynamoError::Internal("unchecked AttributeUpdates action".into())
                })?,
            };
            Ok(AttributeUpdate::new(attr.clone(), action, value)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(legacy::attribute_updates(updates))
}

/// AttributesToGet as a projection; a name may appear once.
pub fn attributes_to_get(names: &[String]) -> Result<Projection> {
    let mut seen = HashSet::with_capacity(names.len());
    if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(invalid(format!("Duplicate value in attribute name: {dup}")));
    }
    Ok(legacy::attributes_to_get(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(f: impl FnOnce(&mut Members)) -> Result<()> {
        let mut m = Members::default();
        f(&mut m);
        m.check_not_mixed()
    }

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        match r.unwrap_err() {
            DynamoError::Validation(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mixing_names_both_kinds_in_aws_order() {
        assert_eq!(
            message(members(|m| {
                m.attributes_to_get = true;
                m.query_filter = true;
                m.conditional_operator = true;
                m.key_conditions = true;
                m.projection_expression = true;
                m.filter_expression = true;
                m.key_condition_expression = true;
            })),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions} Expression parameters: {ProjectionExpression, FilterExpression, KeyConditionExpression}"
        );
        // KeyConditions with a FilterExpression is allowed.
        assert!(members(|m| {
            m.key_conditions = true;
            m.filter_expression = true;
        })
        .is_ok());
        assert_eq!(
            message(members(|m| {
                m.attribute_updates = true;
                m.expected = true;
                m.update_expression = true;
                m.condition_expression = true;
            })),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression, ConditionExpression}"
        );
    }

    fn expected_input(json: serde_json::Value) -> Expected {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn expected_member_rules() {
        let e = |json| message(expected(Some(&expected_input(json)), None));
        assert_eq!(
            e(serde_json::json!({"a": {}})),
            "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"
        );
        assert_eq!(
            e(serde_json::json!({"a": {"Exists": true, "ComparisonOperator": "LT"}})),
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a"
        );
        assert_eq!(
            e(serde_json::json!({"a": {"ComparisonOperator": "LT"}})),
            "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a"
        );
        assert_eq!(
            e(serde_json::json!({"a": {"Value": {"S": "x"}, "ComparisonOperator": "BETWEEN"}})),
            "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"
        );
        assert!(expected(
            Some(&expected_input(
                serde_json::json!({"a": {"Value": {"S": "x"}, "ComparisonOperator": "EQ"}})
            )),
            None
        )
        .unwrap()
        .is_some());
    }

    #[test]
    fn conditional_operator_needs_two_conditions() {
        assert_eq!(
            message(conjunction(Some("OR"), 0)),
            "ConditionalOperator cannot be used without Filter or Expected"
        );
        assert_eq!(
            message(conjunction(Some("AND"), 1)),
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"
        );
        assert_eq!(conjunction(Some("OR"), 2).unwrap(), Conjunction::Or);
        assert_eq!(conjunction(None, 0).unwrap(), Conjunction::And);
    }

    #[test]
    fn duplicate_attributes_to_get() {
        assert_eq!(
            message(attributes_to_get(&["a".into(), "b".into(), "a".into()])),
            "One or more parameter values were invalid: Duplicate value in attribute name: a"
        );
    }
}
