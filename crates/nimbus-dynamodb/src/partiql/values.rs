//! Values in a statement: `?` parameters as the request sends them, and
//! literals (`'s'`, `1.5`, `{'k': v}`, `[..]`, `<<..>>`) turned into
//! attribute values with DynamoDB's checks and messages.

use serde_json::{json, Value};

use super::ast::{Expr, ExprKind, Lit};
use super::error::{self, invalid, PartiqlError};
use crate::model::{decode_value, AttributeValue, Item, Number, MAX_NESTING_LEVELS};

const NESTING: &str =
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";

/// Decodes the request's `Parameters` once the statement is known to use
/// `expected` of them. Too few is an error; DynamoDB ignores extra ones.
pub fn bind_parameters(
    raw: Option<&[Value]>,
    expected: usize,
) -> Result<Vec<AttributeValue>, PartiqlError> {
    let raw = raw.unwrap_or_default();
    if raw.len() < expected {
        return Err(invalid(error::PARAMETER_COUNT));
    }
    raw.iter()
        .take(expected)
        .map(|v| decode_value(v).map_err(PartiqlError::from))
        .collect()
}

/// The value of an expression made only of literals and parameters, or
/// `None` when it refers to the item (a path, a function call...). MISSING
/// is no value either; callers that allow it check for it first.
pub fn constant(
    e: &Expr,
    params: &[AttributeValue],
) -> Result<Option<AttributeValue>, PartiqlError> {
    build(e, params, &mut String::from("root"), 0)
}

/// An INSERT's item: a tuple whose members are each a value of their own
/// (DynamoDB names a bad number's place from the attribute, `root.x` for
/// `{'m': {'x': 1e126}}`). `None` when a member is not a constant.
pub fn item(
    members: &[(Expr, Expr)],
    params: &[AttributeValue],
) -> Result<Option<Item>, PartiqlError> {
    let mut item = Item::new();
    for (key, value) in members {
        let Some(name) = constant_key(key, params)? else {
            return Ok(None);
        };
        if item.contains_key(&name) {
            return Err(invalid(format!(
                "Duplicate keys in tuple. Key: {name} under root"
            )));
        }
        match constant(value, params)? {
            Some(v) => {
                item.insert(name, v);
            }
            None if is_missing(value) => {}
            None => return Ok(None),
        }
    }
    Ok(Some(item))
}

/// Whether the expression is the literal MISSING.
pub fn is_missing(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Lit(Lit::Missing))
}

fn build(
    e: &Expr,
    params: &[AttributeValue],
    path: &mut String,
    level: usize,
) -> Result<Option<AttributeValue>, PartiqlError> {
    if level > MAX_NESTING_LEVELS {
        return Err(invalid(NESTING));
    }
    Ok(Some(match &e.kind {
        ExprKind::Lit(Lit::Str(s)) => AttributeValue::S(s.clone()),
        ExprKind::Lit(Lit::Num(n)) => AttributeValue::N(number(n, path)?),
        ExprKind::Lit(Lit::Bool(b)) => AttributeValue::Bool(*b),
        ExprKind::Lit(Lit::Null) => AttributeValue::Null,
        ExprKind::Lit(Lit::Missing) => return Ok(None),
        ExprKind::Param(i) => match params.get(*i) {
            Some(v) => v.clone(),
            None => return Err(invalid(error::PARAMETER_COUNT)),
        },
        ExprKind::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let v = build(item, params, path, level + 1)?;
                path.truncate(len);
                match v {
                    Some(v) => out.push(v),
                    None if is_missing(item) => out.push(AttributeValue::Null),
                    None => return Ok(None),
                }
            }
            AttributeValue::L(out)
        }
        ExprKind::Tuple(members) => {
            let mut map = Item::new();
            for (key, value) in members {
                let name = match constant_key(key, params)? {
                    Some(name) => name,
                    None => return Ok(None),
                };
                if map.contains_key(&name) {
                    return Err(invalid(format!(
                        "Duplicate keys in tuple. Key: {name} under {path}"
                    )));
                }
                let len = path.len();
                path.push('.');
                path.push_str(&name);
                let v = build(value, params, path, level + 1)?;
                path.truncate(len);
                match v {
                    Some(v) => {
                        map.insert(name, v);
                    }
                    // A member whose value is MISSING is no member.
                    None if is_missing(value) => {}
                    None => return Ok(None),
                }
            }
            AttributeValue::M(map)
        }
        ExprKind::Bag(items) => bag(items, path)?,
        _ => return Ok(None),
    }))
}

/// A tuple key: a string literal (or a string parameter).
fn constant_key(key: &Expr, params: &[AttributeValue]) -> Result<Option<String>, PartiqlError> {
    match &key.kind {
        ExprKind::Lit(Lit::Str(s)) => Ok(Some(s.clone())),
        ExprKind::Param(i) => match params.get(*i) {
            Some(AttributeValue::S(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(format!(
                "Tuple keys must be of type String. Actual type: {} under root",
                other.type_name()
            ))),
            None => Err(invalid(error::PARAMETER_COUNT)),
        },
        ExprKind::Lit(Lit::Num(_)) => Err(invalid(
            "Tuple keys must be of type String. Actual type: N under root",
        )),
        _ => Ok(None),
    }
}

/// A number literal, with DynamoDB's limits; the message names where in the
/// value the number sits.
fn number(text: &str, path: &str) -> Result<Number, PartiqlError> {
    Number::parse(text).map_err(|e| invalid(format!("{} under {path}", e.message())))
}

/// `<<...>>`: a string set or a number set, written with literals only.
fn bag(items: &[Expr], path: &str) -> Result<AttributeValue, PartiqlError> {
    if items.is_empty() {
        return Err(invalid(error::EMPTY_BAG));
    }
    let strings: Option<Vec<&str>> = items
        .iter()
        .map(|e| match &e.kind {
            ExprKind::Lit(Lit::Str(s)) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    if let Some(strings) = strings {
        return set_value(json!({ "SS": strings }));
    }
    let numbers: Option<Vec<&str>> = items
        .iter()
        .map(|e| match &e.kind {
            ExprKind::Lit(Lit::Num(n)) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    match numbers {
        Some(numbers) => {
            let mut canonical = Vec::with_capacity(numbers.len());
            for (i, n) in numbers.iter().enumerate() {
                canonical.push(number(n, &format!("{path}[{i}]"))?.to_string());
            }
            set_value(json!({ "NS": canonical }))
        }
        None => Err(invalid(error::BAG_TYPES)),
    }
}

/// Builds a set through the request decoder, so duplicates are refused in
/// exactly the words an API call would get.
fn set_value(raw: Value) -> Result<AttributeValue, PartiqlError> {
    decode_value(&raw).map_err(PartiqlError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partiql::error::text;
    use crate::partiql::parser::parse;

    /// The value of the SET in `UPDATE tab SET a = <src> WHERE k = 1`.
    fn value_of(src: &str, params: &[AttributeValue]) -> Result<Option<AttributeValue>, String> {
        let parsed =
            parse(&format!("UPDATE tab SET a = {src} WHERE k = 1")).map_err(|e| text(&e))?;
        let crate::partiql::ast::Statement::Update(u) = parsed.statement else {
            panic!("not an update")
        };
        let crate::partiql::ast::Action::Set(_, e) = &u.actions[0] else {
            panic!("not a set")
        };
        constant(e, params).map_err(|e| text(&e))
    }

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn literals() {
        assert_eq!(
            value_of("'x'", &[]).unwrap(),
            Some(AttributeValue::S("x".into()))
        );
        assert_eq!(value_of("1.50", &[]).unwrap(), Some(n("1.5")));
        assert_eq!(value_of("-.73e1", &[]).unwrap(), Some(n("-7.3")));
        let v = value_of("{'a': [1, 'b', null, true], 'm': MISSING}", &[])
            .unwrap()
            .unwrap();
        let AttributeValue::M(m) = v else { panic!() };
        assert_eq!(m.len(), 1);
        assert_eq!(
            m["a"],
            AttributeValue::L(vec![
                n("1"),
                AttributeValue::S("b".into()),
                AttributeValue::Null,
                AttributeValue::Bool(true)
            ])
        );
        assert_eq!(
            value_of("<<'b', 'a'>>", &[]).unwrap(),
            Some(AttributeValue::Ss(vec!["b".into(), "a".into()]))
        );
        assert_eq!(
            value_of("<<1, 2>>", &[]).unwrap(),
            Some(AttributeValue::Ns(vec![
                Number::parse("1").unwrap(),
                Number::parse("2").unwrap()
            ]))
        );
        assert_eq!(value_of("b", &[]).unwrap(), None);
        assert_eq!(value_of("[1, b]", &[]).unwrap(), None);
        assert_eq!(
            value_of("{'k': ?}", &[AttributeValue::Bool(false)]).unwrap(),
            Some(AttributeValue::M(
                [("k".to_string(), AttributeValue::Bool(false))].into()
            ))
        );
    }

    #[test]
    fn literal_errors() {
        assert_eq!(
            value_of("1e126", &[]).unwrap_err(),
            "Number overflow. Attempting to store a number with magnitude larger than supported range under root"
        );
        assert_eq!(
            value_of("{'x': 1e-131}", &[]).unwrap_err(),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range under root.x"
        );
        assert_eq!(
            value_of("[1, 123456789012345678901234567890123456789]", &[]).unwrap_err(),
            "Attempting to store more than 38 significant digits in a Number under root[1]"
        );
        assert_eq!(
            value_of("<<>>", &[]).unwrap_err(),
            "Empty bags are not supported"
        );
        assert_eq!(
            value_of("<<'a', 1>>", &[]).unwrap_err(),
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
        );
        assert_eq!(
            value_of("<<?>>", &[AttributeValue::S("a".into())]).unwrap_err(),
            "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
        );
        assert_eq!(
            value_of("<<'x', 'x'>>", &[]).unwrap_err(),
            "One or more parameter values were invalid: Input collection [x, x] contains duplicates."
        );
        assert_eq!(
            value_of("{'a': 1, 'a': 2}", &[]).unwrap_err(),
            "Duplicate keys in tuple. Key: a under root"
        );
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(value_of(&deep, &[])
            .unwrap_err()
            .starts_with("Nesting Levels"));
    }

    #[test]
    fn parameters() {
        let raw = vec![json!({"S": "a"}), json!({"N": "1"})];
        assert_eq!(bind_parameters(Some(&raw), 2).unwrap().len(), 2);
        // Extra parameters are ignored, as DynamoDB does.
        assert_eq!(bind_parameters(Some(&raw), 1).unwrap().len(), 1);
        assert_eq!(
            text(&bind_parameters(Some(&raw), 3).unwrap_err()),
            "Number of parameters in request and statement don't match."
        );
        assert_eq!(
            text(&bind_parameters(Some(&[json!({"N": "abc"})]), 1).unwrap_err()),
            "The parameter cannot be converted to a numeric value: abc"
        );
    }
}
