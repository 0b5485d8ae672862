//! PartiQL expressions into DynamoDB expressions.
//!
//! A statement runs as the operation DynamoDB would run for it (Query,
//! Scan, PutItem, UpdateItem, ...), so its WHERE clause and SET / REMOVE
//! actions are written out as condition, filter and update expressions.
//! Every name and value goes through a placeholder (`#0`, `:0`), so no
//! reserved word or odd character can change what an expression means, and
//! the crate's one expression engine evaluates them: a condition behaves
//! exactly as the same condition written by hand.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::ast::{ArithOp, CmpOp, Expr, ExprKind, Lit, Step, TypeName};
use super::error::{self, invalid, PartiqlError};
use super::values::{constant, is_missing};
use crate::model::AttributeValue;

/// The placeholders of one request's expressions.
#[derive(Default)]
pub struct Writer {
    names: Vec<String>,
    ids: HashMap<String, usize>,
    values: Vec<AttributeValue>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn name(&mut self, name: &str) -> String {
        let next = self.names.len();
        let id = *self.ids.entry(name.to_string()).or_insert(next);
        if id == next {
            self.names.push(name.to_string());
        }
        format!("#{id}")
    }

    pub fn value(&mut self, v: AttributeValue) -> String {
        self.values.push(v);
        format!(":{}", self.values.len() - 1)
    }

    pub fn path(&mut self, steps: &[Step]) -> String {
        let mut out = String::new();
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Name(n) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(&self.name(n));
                }
                Step::Index(n) => out.push_str(&format!("[{n}]")),
            }
        }
        out
    }

    /// Adds ExpressionAttributeNames / ExpressionAttributeValues to a
    /// request body when any placeholder was used.
    pub fn attach(&self, body: &mut Map<String, Value>) {
        if !self.names.is_empty() {
            let names: Map<String, Value> = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("#{i}"), Value::String(n.clone())))
                .collect();
            body.insert("ExpressionAttributeNames".into(), Value::Object(names));
        }
        if !self.values.is_empty() {
            let values: Map<String, Value> = self
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        format!(":{i}"),
                        serde_json::to_value(v).expect("values serialize"),
                    )
                })
                .collect();
            body.insert("ExpressionAttributeValues".into(), Value::Object(values));
        }
    }

    /// The substitutions as the expression parser takes them (for a
    /// condition evaluated here rather than by an operation).
    pub fn substitutions(&self) -> crate::expr::Substitutions {
        let names = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("#{i}"), n.clone()))
            .collect();
        let values = self
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!(":{i}"), v.clone()))
            .collect();
        crate::expr::Substitutions::new(Some(names), Some(values))
    }
}

/// How tightly a condition's text binds, so it is parenthesized only where
/// needed (DynamoDB refuses redundant parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Or,
    And,
    Atom,
}

/// A translated condition. Constants come from tests DynamoDB can decide
/// without the item (`'a' IS MISSING`, `WHERE true`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cond(Inner);

#[derive(Debug, Clone, PartialEq)]
enum Inner {
    Const(bool),
    Text(String, Level),
}

impl Cond {
    pub fn text(t: String) -> Cond {
        Cond(Inner::Text(t, Level::Atom))
    }

    pub fn constant(b: bool) -> Cond {
        Cond(Inner::Const(b))
    }

    /// The condition as expression text; `None` when it always holds. A
    /// condition that never holds is written as one that compares two
    /// different values.
    pub fn render(self, w: &mut Writer) -> Option<String> {
        match self.0 {
            Inner::Const(true) => None,
            Inner::Const(false) => {
                let zero = w.value(AttributeValue::N(crate::model::Number::zero()));
                let one = w.value(AttributeValue::Bool(true));
                Some(format!("{zero} = {one}"))
            }
            Inner::Text(t, _) => Some(t),
        }
    }
}

pub fn and_all(parts: Vec<Cond>) -> Cond {
    let mut texts = Vec::new();
    for Cond(part) in parts {
        match part {
            Inner::Const(false) => return Cond::constant(false),
            Inner::Const(true) => {}
            Inner::Text(t, Level::Or) => texts.push(format!("({t})")),
            Inner::Text(t, _) => texts.push(t),
        }
    }
    match texts.len() {
        0 => Cond::constant(true),
        1 => Cond(Inner::Text(texts.pop().unwrap_or_default(), Level::Atom)),
        _ => Cond(Inner::Text(texts.join(" AND "), Level::And)),
    }
}

pub fn or_all(parts: Vec<Cond>) -> Cond {
    let mut texts = Vec::new();
    let mut single_level = Level::Atom;
    for Cond(part) in parts {
        match part {
            Inner::Const(true) => return Cond::constant(true),
            Inner::Const(false) => {}
            Inner::Text(t, level) => {
                single_level = level;
                texts.push(t);
            }
        }
    }
    match texts.len() {
        0 => Cond::constant(false),
        1 => Cond(Inner::Text(texts.pop().unwrap_or_default(), single_level)),
        _ => Cond(Inner::Text(texts.join(" OR "), Level::Or)),
    }
}

pub fn not(c: Cond) -> Cond {
    match c.0 {
        Inner::Const(b) => Cond::constant(!b),
        Inner::Text(t, Level::Atom) => Cond::text(format!("NOT {t}")),
        Inner::Text(t, _) => Cond::text(format!("NOT ({t})")),
    }
}

/// Where a condition sits, for the message when it is not one.
#[derive(Debug, Clone, Copy)]
enum Place {
    Where,
    AndOr,
    Not,
}

const CONDITION_FUNCTIONS: [&str; 5] = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
];

/// Translates a WHERE clause (or a part of one) into a condition.
pub fn condition(
    e: &Expr,
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<Cond, PartiqlError> {
    cond(e, params, w, Place::Where)
}

fn cond(
    e: &Expr,
    params: &[AttributeValue],
    w: &mut Writer,
    place: Place,
) -> Result<Cond, PartiqlError> {
    Ok(match &e.kind {
        ExprKind::And(items) => and_all(
            items
                .iter()
                .map(|i| cond(i, params, w, Place::AndOr))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Or(items) => or_all(
            items
                .iter()
                .map(|i| cond(i, params, w, Place::AndOr))
                .collect::<Result<_, _>>()?,
        ),
        ExprKind::Not(inner) => not(cond(inner, params, w, Place::Not)?),
        ExprKind::Cmp(op, l, r) => {
            // `attribute_exists(a) = true` and the like.
            for (c, b) in [(l, r), (r, l)] {
                if is_boolean(c) {
                    if let Some(value) = bool_constant(b, params) {
                        let inner = cond(c, params, w, place)?;
                        return Ok(match (op, value) {
                            (CmpOp::Eq, true) | (CmpOp::Ne, false) => inner,
                            (CmpOp::Eq, false) | (CmpOp::Ne, true) => not(inner),
                            _ => return Err(unsupported_condition(op.symbol())),
                        });
                    }
                }
            }
            let (l, r) = (operand(l, params, w)?, operand(r, params, w)?);
            Cond::text(format!("{l} {} {r}", op.symbol()))
        }
        ExprKind::Between(subject, low, high) => {
            let s = operand(subject, params, w)?;
            let lo = operand(low, params, w)?;
            let hi = operand(high, params, w)?;
            Cond::text(format!("{s} BETWEEN {lo} AND {hi}"))
        }
        ExprKind::In(subject, list) => {
            let items = match &list.kind {
                ExprKind::List(items) | ExprKind::Bag(items) if !items.is_empty() => items,
                _ => return Err(invalid(error::IN_OPERANDS)),
            };
            if subject.as_path().is_none() {
                return Err(invalid(error::IN_OPERANDS));
            }
            let s = operand(subject, params, w)?;
            let members = items
                .iter()
                .map(|i| operand(i, params, w))
                .collect::<Result<Vec<_>, _>>()?;
            Cond::text(format!("{s} IN ({})", members.join(", ")))
        }
        ExprKind::Is(subject, ty) => is(subject, ty, params, w)?,
        ExprKind::Like(..) => return Err(unsupported_condition("LIKE")),
        ExprKind::Call(name, args) => function(e, name, args, params, w)?,
        _ => {
            if let Some(b) = bool_constant(e, params) {
                return Ok(Cond::constant(b));
            }
            return Err(invalid(match place {
                Place::Where => error::WHERE_NOT_BOOLEAN,
                Place::AndOr => error::AND_OR_OPERANDS,
                Place::Not => error::NOT_OPERAND,
            }));
        }
    })
}

fn unsupported_condition(operator: &str) -> PartiqlError {
    invalid(format!(
        "Unsupported operator in Condition Expression. Operator: {operator}"
    ))
}

/// Whether the expression yields a truth value rather than an attribute
/// value.
fn is_boolean(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::And(_)
        | ExprKind::Or(_)
        | ExprKind::Not(_)
        | ExprKind::Cmp(..)
        | ExprKind::Between(..)
        | ExprKind::In(..)
        | ExprKind::Is(..)
        | ExprKind::Like(..) => true,
        ExprKind::Call(name, _) => CONDITION_FUNCTIONS.contains(&name.as_str()),
        _ => false,
    }
}

fn bool_constant(e: &Expr, params: &[AttributeValue]) -> Option<bool> {
    match &e.kind {
        ExprKind::Lit(Lit::Bool(b)) => Some(*b),
        ExprKind::Param(i) => match params.get(*i) {
            Some(AttributeValue::Bool(b)) => Some(*b),
            _ => None,
        },
        _ => None,
    }
}

fn arity(name: &str, args: &[Expr], expected: usize) -> Result<(), PartiqlError> {
    if args.len() == expected {
        return Ok(());
    }
    Err(invalid(format!(
        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
        args.len()
    )))
}

fn unrecognized(name: &str, e: &Expr) -> PartiqlError {
    invalid(format!("Unrecognized function: {name}{}", e.pos.at()))
}

/// A function used as a condition.
fn function(
    e: &Expr,
    name: &str,
    args: &[Expr],
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<Cond, PartiqlError> {
    let expected = match name {
        "attribute_exists" | "attribute_not_exists" => 1,
        "attribute_type" | "begins_with" | "contains" => 2,
        // A value where a condition belongs: the engine says so in its
        // own words.
        "size" => 1,
        _ => return Err(unrecognized(name, e)),
    };
    arity(name, args, expected)?;
    let args = args
        .iter()
        .map(|a| operand(a, params, w))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Cond::text(format!("{name}({})", args.join(", "))))
}

/// `x IS [NOT] type`, as an existence or type test.
fn is(
    subject: &Expr,
    ty: &TypeName,
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<Cond, PartiqlError> {
    let code = match ty.0.as_str() {
        "MISSING" => None,
        "NULL" => Some("NULL"),
        "BOOLEAN" => Some("BOOL"),
        "BLOB" => Some("B"),
        "STRING" => Some("S"),
        "NUMERIC" => Some("N"),
        "STRUCT" | "TUPLE" => Some("M"),
        "LIST" => Some("L"),
        other => {
            return Err(invalid(format!(
                "Unsupported data type for IS operator: {other}. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
            )))
        }
    };
    if let Some(steps) = subject.as_path() {
        let path = w.path(steps);
        return Ok(match code {
            None => Cond::text(format!("attribute_not_exists({path})")),
            Some(code) => {
                let t = w.value(AttributeValue::S(code.to_string()));
                Cond::text(format!("attribute_type({path}, {t})"))
            }
        });
    }
    if is_missing(subject) {
        return Ok(Cond::constant(code.is_none()));
    }
    match (&subject.kind, constant(subject, params)?) {
        (ExprKind::Lit(_) | ExprKind::Param(_), Some(v)) => {
            Ok(Cond::constant(code.is_some_and(|c| c == v.type_name())))
        }
        _ => Err(invalid(error::IS_OPERAND)),
    }
}

/// An operand of a comparison or function: a path, a value, or `size()`.
pub fn operand(
    e: &Expr,
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<String, PartiqlError> {
    if let Some(op) = operator(e) {
        return Err(unsupported_condition(op));
    }
    match &e.kind {
        ExprKind::Path(steps) => Ok(w.path(steps)),
        ExprKind::Lit(Lit::Missing) => Err(invalid(error::MISSING_COMPARED)),
        ExprKind::Call(name, args) => {
            if name == "size" {
                arity(name, args, 1)?;
                return Ok(format!("size({})", operand(&args[0], params, w)?));
            }
            if !CONDITION_FUNCTIONS.contains(&name.as_str()) {
                return Err(unrecognized(name, e));
            }
            // A condition function where a value belongs: written out, the
            // engine refuses it with its own message.
            let args = args
                .iter()
                .map(|a| operand(a, params, w))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("{name}({})", args.join(", ")))
        }
        ExprKind::Subquery => Err(invalid("Unsupported operation: Select")),
        _ => match constant(e, params)? {
            Some(v) => Ok(w.value(v)),
            None => Err(invalid(format!("Unexpected path component{}", e.pos.at()))),
        },
    }
}

// ---- update actions --------------------------------------------------------

/// The update expression for an UPDATE's SET and REMOVE actions. Several
/// SET clauses become one SET section (the expression language takes each
/// section once); `set_add` / `set_delete` become ADD / DELETE.
pub fn update_expression(
    actions: &[super::ast::Action],
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<String, PartiqlError> {
    use super::ast::Action;
    let (mut sets, mut removes, mut adds, mut deletes) = (vec![], vec![], vec![], vec![]);
    for action in actions {
        match action {
            Action::Remove(path) => removes.push(w.path(path)),
            Action::Set(target, value) => match &value.kind {
                ExprKind::Call(name, args) if name == "set_add" || name == "set_delete" => {
                    let (path, set) = set_function(target, value, name, args, params, w)?;
                    if name == "set_add" {
                        adds.push(format!("{path} {set}"));
                    } else {
                        deletes.push(format!("{path} {set}"));
                    }
                }
                _ => {
                    let path = w.path(target);
                    let v = set_value(value, params, w)?;
                    sets.push(format!("{path} = {v}"));
                }
            },
        }
    }
    let mut out = Vec::new();
    for (keyword, parts, separator) in [
        ("SET", sets, ", "),
        ("REMOVE", removes, ", "),
        ("ADD", adds, ", "),
        ("DELETE", deletes, ", "),
    ] {
        if !parts.is_empty() {
            out.push(format!("{keyword} {}", parts.join(separator)));
        }
    }
    Ok(out.join(" "))
}

/// `SET s = set_add(s, <<...>>)`: the set is the statement's own value and
/// must be a set; the first argument must be the attribute assigned.
fn set_function(
    target: &[Step],
    call: &Expr,
    name: &str,
    args: &[Expr],
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<(String, String), PartiqlError> {
    let upper = name.to_ascii_uppercase();
    if args.len() != 2 {
        return Err(invalid(format!(
            "{upper} must have exactly two arguments{}",
            call.pos.at()
        )));
    }
    if args[0].as_path() != Some(target) {
        return Err(invalid(format!(
            "The first argument to {upper} must equal the assignment value{}",
            call.pos.at()
        )));
    }
    let set = match constant(&args[1], params)? {
        Some(v @ (AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_))) => v,
        _ => {
            return Err(invalid(format!(
                "The second argument to {upper} must be a value with type SET{}",
                args[0].pos.at()
            )))
        }
    };
    Ok((w.path(target), w.value(set)))
}

fn unsupported_update(operator: &str) -> PartiqlError {
    invalid(format!(
        "Unsupported operator in Update Expression. Operator: {operator}"
    ))
}

/// The right side of a SET: an operand, or two joined by `+` / `-`.
fn set_value(e: &Expr, params: &[AttributeValue], w: &mut Writer) -> Result<String, PartiqlError> {
    match &e.kind {
        ExprKind::Arith(op @ (ArithOp::Add | ArithOp::Sub), l, r) => {
            let l = set_operand(l, params, w)?;
            let r = set_operand(r, params, w)?;
            Ok(format!("{l} {} {r}", op.symbol()))
        }
        _ => set_operand(e, params, w),
    }
}

fn set_operand(
    e: &Expr,
    params: &[AttributeValue],
    w: &mut Writer,
) -> Result<String, PartiqlError> {
    if let ExprKind::Is(..) = e.kind {
        return Err(invalid(error::IS_IN_UPDATE));
    }
    if let Some(op) = operator(e) {
        return Err(unsupported_update(op));
    }
    match &e.kind {
        ExprKind::Path(steps) => Ok(w.path(steps)),
        ExprKind::Lit(Lit::Missing) => Err(invalid(error::MISSING_COMPARED)),
        ExprKind::Call(name, args) => match name.as_str() {
            "list_append" | "if_not_exists" => {
                let args = args
                    .iter()
                    .map(|a| set_operand(a, params, w))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("{name}({})", args.join(", ")))
            }
            // Condition functions and size(): the engine refuses them in an
            // update expression in its own words.
            n if n == "size" || CONDITION_FUNCTIONS.contains(&n) => {
                let args = args
                    .iter()
                    .map(|a| operand(a, params, w))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("{name}({})", args.join(", ")))
            }
            _ => Err(unrecognized(name, e)),
        },
        ExprKind::Subquery => Err(invalid("Unsupported operation: Select")),
        _ => match constant(e, params)? {
            Some(v) => Ok(w.value(v)),
            None => Err(invalid(format!("Unexpected path component{}", e.pos.at()))),
        },
    }
}

/// The operator an expression applies, as DynamoDB names it where it is
/// not allowed.
fn operator(e: &Expr) -> Option<&'static str> {
    Some(match &e.kind {
        ExprKind::Arith(op, ..) => op.symbol(),
        ExprKind::Cmp(op, ..) => op.symbol(),
        ExprKind::Neg(_) => "-",
        ExprKind::And(_) => "AND",
        ExprKind::Or(_) => "OR",
        ExprKind::Not(_) => "NOT",
        ExprKind::Between(..) => "BETWEEN",
        ExprKind::In(..) => "IN",
        ExprKind::Is(..) => "IS",
        ExprKind::Like(..) => "LIKE",
        _ => return None,
    })
}

/// The top-level attribute names an expression refers to.
pub fn referenced_names<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    let mut push = |steps: &'a [Step]| {
        if let Some(Step::Name(n)) = steps.first() {
            if !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
    };
    match &e.kind {
        ExprKind::Path(steps) => push(steps),
        ExprKind::List(items)
        | ExprKind::Bag(items)
        | ExprKind::And(items)
        | ExprKind::Or(items) => {
            for i in items {
                referenced_names(i, out);
            }
        }
        ExprKind::Call(_, args) => {
            for a in args {
                referenced_names(a, out);
            }
        }
        ExprKind::Tuple(members) => {
            for (k, v) in members {
                referenced_names(k, out);
                referenced_names(v, out);
            }
        }
        ExprKind::Not(a) | ExprKind::Neg(a) | ExprKind::Is(a, _) => referenced_names(a, out),
        ExprKind::Cmp(_, a, b)
        | ExprKind::Arith(_, a, b)
        | ExprKind::Like(a, b)
        | ExprKind::In(a, b) => {
            referenced_names(a, out);
            referenced_names(b, out);
        }
        ExprKind::Between(a, b, c) => {
            referenced_names(a, out);
            referenced_names(b, out);
            referenced_names(c, out);
        }
        ExprKind::Lit(_) | ExprKind::Param(_) | ExprKind::Subquery => {}
    }
}
