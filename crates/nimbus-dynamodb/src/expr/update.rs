//! Update expressions: parsing and applying `SET`, `REMOVE`, `ADD`, `DELETE`.
//!
//! ```text
//! update     ::= clause+                      each keyword at most once
//! clause     ::= SET set-action (',' set-action)*
//!              | REMOVE path (',' path)*
//!              | ADD path :value (',' path :value)*
//!              | DELETE path :value (',' path :value)*
//! set-action ::= path '=' operand ( ('+' | '-') operand )?
//! operand    ::= path | :value
//!              | if_not_exists '(' path ',' operand ')'
//!              | list_append '(' operand ',' operand ')'
//! ```
//!
//! Applying follows DynamoDB: every value on the right of `SET` is computed
//! from the item as it was before the update, the changes are then made all
//! at once, and a failed update leaves the item untouched.

use std::cmp::Ordering;

use super::lexer::TokenKind;
use super::parser::{Parser, Rank};
use super::path::{check_disjoint, Path, PathElement};
use super::subst::Substitutions;
use super::value::type_code;
use super::{ExprError, ExprKind};
use crate::model::{AttributeValue, Item};

/// A parsed update expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    set: Vec<(Path, SetValue)>,
    remove: Vec<Path>,
    add: Vec<(Path, AttributeValue)>,
    delete: Vec<(Path, AttributeValue)>,
    /// Every path the update writes, in the order written.
    targets: Vec<Path>,
    dialect: Dialect,
}

/// Where an update came from. An UpdateExpression and the legacy
/// AttributeUpdates apply the same way except in two things: the text AWS
/// gives for a value of the wrong type at runtime, and ADD of a list, which
/// only AttributeUpdates has (it appends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Expression,
    Legacy,
}

impl Dialect {
    fn wrong_type(self) -> ExprError {
        ExprError::bare(match self {
            Dialect::Expression => WRONG_TYPE,
            Dialect::Legacy => LEGACY_WRONG_TYPE,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum SetValue {
    Operand(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

#[derive(Debug, Clone, PartialEq)]
enum SetOperand {
    Path(Path),
    Value(AttributeValue),
    IfNotExists(Path, Box<SetOperand>),
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    const ALL: [Section; 4] = [Section::Set, Section::Remove, Section::Add, Section::Delete];

    fn keyword(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";
const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const LEGACY_WRONG_TYPE: &str = "Type mismatch for attribute to update";

/// Parses an update expression.
pub fn parse_update(expr: &str, subs: &mut Substitutions) -> Result<Update, ExprError> {
    let kind = ExprKind::Update;
    let mut p = Parser::new(expr, kind)?;
    let mut update = Update {
        set: vec![],
        remove: vec![],
        add: vec![],
        delete: vec![],
        targets: vec![],
        dialect: Dialect::Expression,
    };
    let mut seen: Vec<Section> = Vec::new();
    while !p.at_end() {
        let Some(section) = Section::ALL.into_iter().find(|s| p.at_keyword(s.keyword())) else {
            return Err(p.syntax_error());
        };
        if seen.contains(&section) {
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "The \"{}\" section can only be used once in an update expression;",
                    section.keyword()
                ),
            ));
        }
        seen.push(section);
        p.advance();
        loop {
            let path = p.path(subs)?;
            match section {
                Section::Set => {
                    p.expect(TokenKind::Eq)?;
                    let value = set_value(&mut p, subs)?;
                    update.set.push((path.clone(), value));
                }
                Section::Remove => update.remove.push(path.clone()),
                Section::Add | Section::Delete => {
                    let value = p.value(subs)?;
                    check_add_delete_operand(&mut p, section, &value);
                    if section == Section::Add {
                        update.add.push((path.clone(), value));
                    } else {
                        update.delete.push((path.clone(), value));
                    }
                }
            }
            p.count_operator();
            update.targets.push(path);
            if p.peek() == Some(TokenKind::Comma) {
                p.advance();
            } else {
                break;
            }
        }
    }
    p.finish()?;
    check_disjoint(kind, &update.targets)?;
    Ok(update)
}

fn set_value(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<SetValue, ExprError> {
    let first = set_operand(p, subs)?;
    let op = p.peek();
    if !matches!(op, Some(TokenKind::Plus | TokenKind::Minus)) {
        return Ok(SetValue::Operand(first));
    }
    p.advance();
    p.count_operator();
    let second = set_operand(p, subs)?;
    let symbol = if op == Some(TokenKind::Plus) {
        "+"
    } else {
        "-"
    };
    for side in [&first, &second] {
        if let SetOperand::Value(v) = side {
            if !matches!(v, AttributeValue::N(_)) {
                defer_type(p, symbol, type_code(v));
            }
        }
    }
    Ok(if symbol == "+" {
        SetValue::Plus(first, second)
    } else {
        SetValue::Minus(first, second)
    })
}

fn set_operand(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<SetOperand, ExprError> {
    if p.peek() == Some(TokenKind::ValuePlaceholder) {
        return Ok(SetOperand::Value(p.value(subs)?));
    }
    if p.peek() == Some(TokenKind::Ident) && p.peek_at(1) == Some(TokenKind::LParen) {
        let name = p.text().to_string();
        p.advance();
        p.advance();
        p.enter()?;
        p.count_operator();
        let mut args = vec![set_operand(p, subs)?];
        while p.peek() == Some(TokenKind::Comma) {
            p.advance();
            args.push(set_operand(p, subs)?);
        }
        p.expect(TokenKind::RParen)?;
        p.leave();
        return Ok(call(p, &name, args));
    }
    if p.at_path_start() {
        return Ok(SetOperand::Path(p.path(subs)?));
    }
    Err(p.syntax_error())
}

/// Builds `if_not_exists` / `list_append`, checking what can be checked
/// before seeing the item.
fn call(p: &mut Parser<'_>, name: &str, mut args: Vec<SetOperand>) -> SetOperand {
    let placeholder = SetOperand::Value(AttributeValue::Null);
    match name {
        "if_not_exists" | "list_append" => {}
        "attribute_exists"
        | "attribute_not_exists"
        | "attribute_type"
        | "begins_with"
        | "contains"
        | "size" => {
            p.defer(
                Rank::UnknownFunction,
                format!("The function is not allowed in an update expression; function: {name}"),
            );
            return placeholder;
        }
        _ => {
            p.defer(
                Rank::UnknownFunction,
                format!("Invalid function name; function: {name}"),
            );
            return placeholder;
        }
    }
    if args.len() != 2 {
        p.defer(
            Rank::OperandCount,
            format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            ),
        );
        return placeholder;
    }
    let second = args
        .pop()
        .unwrap_or(SetOperand::Value(AttributeValue::Null));
    let first = args
        .pop()
        .unwrap_or(SetOperand::Value(AttributeValue::Null));
    if name == "if_not_exists" {
        return match first {
            SetOperand::Path(path) => SetOperand::IfNotExists(path, Box::new(second)),
            _ => {
                p.defer(
                    Rank::Operand,
                    "Operator or function requires a document path; operator or function: if_not_exists",
                );
                placeholder
            }
        };
    }
    for side in [&first, &second] {
        if let SetOperand::Value(v) = side {
            if !matches!(v, AttributeValue::L(_)) {
                defer_type(p, "list_append", type_code(v));
            }
        }
    }
    SetOperand::ListAppend(Box::new(first), Box::new(second))
}

fn defer_type(p: &mut Parser<'_>, function: &str, operand_type: &str) {
    p.defer(
        Rank::Operand,
        format!(
            "Incorrect operand type for operator or function; operator or function: {function}, operand type: {operand_type}"
        ),
    );
}

/// ADD takes a number or a set, DELETE a set. AWS names the operand type in
/// words here, unlike everywhere else.
fn check_add_delete_operand(p: &mut Parser<'_>, section: Section, value: &AttributeValue) {
    let allowed = match section {
        Section::Add => matches!(
            value,
            AttributeValue::N(_)
                | AttributeValue::Ss(_)
                | AttributeValue::Ns(_)
                | AttributeValue::Bs(_)
        ),
        _ => matches!(
            value,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        ),
    };
    if allowed {
        return;
    }
    let type_word = match value {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::L(_) => "LIST",
        AttributeValue::M(_) => "MAP",
        AttributeValue::Ss(_) => "STRING_SET",
        AttributeValue::Ns(_) => "NUMBER_SET",
        AttributeValue::Bs(_) => "BINARY_SET",
    };
    let keyword = section.keyword();
    p.defer(
        Rank::Operand,
        format!(
            "Incorrect operand type for operator or function; operator: {keyword}, operand type: {type_word}, typeSet: ALLOWED_FOR_{keyword}_OPERAND"
        ),
    );
}

impl Update {
    /// An update of top-level attributes made from the legacy
    /// AttributeUpdates: PUT is a SET of a value, DELETE without a value a
    /// REMOVE, ADD and DELETE with a value as in an expression (ADD may also
    /// carry a list, which it appends). `targets` lists every attribute in
    /// request order.
    pub(super) fn legacy(
        set: Vec<(Path, AttributeValue)>,
        remove: Vec<Path>,
        add: Vec<(Path, AttributeValue)>,
        delete: Vec<(Path, AttributeValue)>,
        targets: Vec<Path>,
    ) -> Update {
        Update {
            set: set
                .into_iter()
                .map(|(p, v)| (p, SetValue::Operand(SetOperand::Value(v))))
                .collect(),
            remove,
            add,
            delete,
            targets,
            dialect: Dialect::Legacy,
        }
    }

    /// Applies the update to `item` (empty for an item that does not exist
    /// yet). On error the item is left as it was.
    pub fn apply(&self, item: &mut Item) -> Result<(), ExprError> {
        // Right-hand sides see the item before any change.
        let mut assignments = Vec::with_capacity(self.set.len());
        for (path, value) in &self.set {
            assignments.push((path, evaluate_set_value(value, item)?));
        }
        let mut work = item.clone();
        // Appends past the end of a list land in index order.
        assignments.sort_by(|a, b| path_order(a.0, b.0));
        for (path, value) in assignments {
            set_at(&mut work, path, value)?;
        }
        for (path, value) in &self.add {
            add_at(&mut work, path, value, self.dialect)?;
        }
        for (path, value) in &self.delete {
            delete_at(&mut work, path, value, self.dialect)?;
        }
        // Removing list elements from the highest index down keeps every
        // index meaning what it meant in the original item.
        let mut removals: Vec<&Path> = self.remove.iter().collect();
        removals.sort_by(|a, b| path_order(b, a));
        for path in removals {
            remove_at(&mut work, path);
        }
        *item = work;
        Ok(())
    }

    /// The top-level attributes the update writes, each once, in order.
    pub fn top_level_attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for path in &self.targets {
            if !names.contains(&path.top_level()) {
                names.push(path.top_level());
            }
        }
        names
    }

    /// Every path the update SETs, REMOVEs, ADDs to or DELETEs from.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.targets.iter()
    }
}

/// A total order on paths: names by text, indexes numerically.
fn path_order(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.elements().iter().zip(b.elements()) {
        let o = match (x, y) {
            (PathElement::Attr(p), PathElement::Attr(q)) => p.cmp(q),
            (PathElement::Index(p), PathElement::Index(q)) => p.cmp(q),
            (PathElement::Attr(_), PathElement::Index(_)) => Ordering::Less,
            (PathElement::Index(_), PathElement::Attr(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.elements().len().cmp(&b.elements().len())
}

fn evaluate_set_value(value: &SetValue, item: &Item) -> Result<AttributeValue, ExprError> {
    match value {
        SetValue::Operand(o) => evaluate_operand(o, item),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (a, b) = (evaluate_operand(a, item)?, evaluate_operand(b, item)?);
            let (AttributeValue::N(x), AttributeValue::N(y)) = (&a, &b) else {
                return Err(ExprError::bare(WRONG_TYPE));
            };
            let result = if matches!(value, SetValue::Plus(..)) {
                x.add(y)
            } else {
                x.sub(y)
            };
            result
                .map(AttributeValue::N)
                .map_err(|e| ExprError::bare(e.message().to_string()))
        }
    }
}

fn evaluate_operand(operand: &SetOperand, item: &Item) -> Result<AttributeValue, ExprError> {
    match operand {
        SetOperand::Path(path) => path
            .resolve(item)
            .cloned()
            .ok_or_else(|| ExprError::bare(MISSING_ATTRIBUTE)),
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::IfNotExists(path, fallback) => match path.resolve(item) {
            Some(v) => Ok(v.clone()),
            None => evaluate_operand(fallback, item),
        },
        SetOperand::ListAppend(a, b) => {
            let (a, b) = (evaluate_operand(a, item)?, evaluate_operand(b, item)?);
            match (a, b) {
                (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                    x.extend(y);
                    Ok(AttributeValue::L(x))
                }
                // Literal operands were type-checked when parsed, so a
                // non-list here came from the item, and AWS then answers
                // with its generic runtime text.
                _ => Err(ExprError::bare(WRONG_TYPE)),
            }
        }
    }
}

/// Where the last element of a path lives.
enum Parent<'a> {
    Item(&'a mut Item),
    Value(&'a mut AttributeValue),
}

/// The container holding `path`'s last element, if every step before it
/// exists with the right type.
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Option<Parent<'a>> {
    let elements = path.elements();
    if elements.len() == 1 {
        return Some(Parent::Item(item));
    }
    let mut current = item.get_mut(path.top_level())?;
    for element in &elements[1..elements.len() - 1] {
        current = match (current, element) {
            (AttributeValue::M(map), PathElement::Attr(name)) => map.get_mut(name)?,
            (AttributeValue::L(list), PathElement::Index(i)) => list.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(Parent::Value(current))
}

fn last(path: &Path) -> &PathElement {
    // Paths are never empty.
    &path.elements()[path.elements().len() - 1]
}

fn get_mut<'a>(parent: Parent<'a>, element: &PathElement) -> Option<&'a mut AttributeValue> {
    match (parent, element) {
        (Parent::Item(item), PathElement::Attr(name)) => item.get_mut(name),
        (Parent::Value(AttributeValue::M(map)), PathElement::Attr(name)) => map.get_mut(name),
        (Parent::Value(AttributeValue::L(list)), PathElement::Index(i)) => list.get_mut(*i),
        _ => None,
    }
}

fn set_at(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    let parent = parent_mut(item, path).ok_or_else(|| ExprError::bare(INVALID_PATH))?;
    match (parent, last(path)) {
        (Parent::Item(item), PathElement::Attr(name)) => {
            item.insert(name.clone(), value);
        }
        (Parent::Value(AttributeValue::M(map)), PathElement::Attr(name)) => {
            map.insert(name.clone(), value);
        }
        (Parent::Value(AttributeValue::L(list)), PathElement::Index(i)) => {
            // Past the end means append, whatever the index.
            match list.get_mut(*i) {
                Some(slot) => *slot = value,
                None => list.push(value),
            }
        }
        _ => return Err(ExprError::bare(INVALID_PATH)),
    }
    Ok(())
}

fn add_at(
    item: &mut Item,
    path: &Path,
    value: &AttributeValue,
    dialect: Dialect,
) -> Result<(), ExprError> {
    let parent = parent_mut(item, path).ok_or_else(|| ExprError::bare(INVALID_PATH))?;
    let is_container = matches!(
        (&parent, last(path)),
        (Parent::Item(_), PathElement::Attr(_))
            | (Parent::Value(AttributeValue::M(_)), PathElement::Attr(_))
            | (Parent::Value(AttributeValue::L(_)), PathElement::Index(_))
    );
    if !is_container {
        return Err(ExprError::bare(INVALID_PATH));
    }
    let Some(current) = get_mut(parent, last(path)) else {
        // A missing attribute starts from the value added.
        return set_at(item, path, value.clone());
    };
    let merged = match (&*current, value) {
        (AttributeValue::N(x), AttributeValue::N(y)) => AttributeValue::N(
            x.add(y)
                .map_err(|e| ExprError::bare(e.message().to_string()))?,
        ),
        (AttributeValue::Ss(x), AttributeValue::Ss(y)) => AttributeValue::Ss(union(x, y)),
        (AttributeValue::Ns(x), AttributeValue::Ns(y)) => AttributeValue::Ns(union(x, y)),
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => AttributeValue::Bs(union(x, y)),
        // Only AttributeUpdates can ADD a list (the parser refuses one in
        // an expression); it appends, duplicates and all.
        (AttributeValue::L(x), AttributeValue::L(y)) if dialect == Dialect::Legacy => {
            AttributeValue::L(x.iter().chain(y).cloned().collect())
        }
        _ => return Err(dialect.wrong_type()),
    };
    *current = merged;
    Ok(())
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

fn delete_at(
    item: &mut Item,
    path: &Path,
    value: &AttributeValue,
    dialect: Dialect,
) -> Result<(), ExprError> {
    // Deleting from something that isn't there changes nothing.
    let Some(current) = parent_mut(item, path).and_then(|parent| get_mut(parent, last(path)))
    else {
        return Ok(());
    };
    let (remaining, empty) = match (&*current, value) {
        (AttributeValue::Ss(x), AttributeValue::Ss(y)) => {
            let d = difference(x, y);
            let empty = d.is_empty();
            (AttributeValue::Ss(d), empty)
        }
        (AttributeValue::Ns(x), AttributeValue::Ns(y)) => {
            let d = difference(x, y);
            let empty = d.is_empty();
            (AttributeValue::Ns(d), empty)
        }
        (AttributeValue::Bs(x), AttributeValue::Bs(y)) => {
            let d = difference(x, y);
            let empty = d.is_empty();
            (AttributeValue::Bs(d), empty)
        }
        _ => return Err(dialect.wrong_type()),
    };
    if empty {
        // DynamoDB has no empty sets: the attribute goes away.
        remove_at(item, path);
    } else {
        *current = remaining;
    }
    Ok(())
}

/// Removes the value at `path`; nothing happens if it isn't there.
fn remove_at(item: &mut Item, path: &Path) {
    match (parent_mut(item, path), last(path)) {
        (Some(Parent::Item(item)), PathElement::Attr(name)) => {
            item.remove(name);
        }
        (Some(Parent::Value(AttributeValue::M(map))), PathElement::Attr(name)) => {
            map.remove(name);
        }
        (Some(Parent::Value(AttributeValue::L(list))), PathElement::Index(i))
            if *i < list.len() =>
        {
            list.remove(*i);
        }
        _ => {}
    }
}
