//! Condition and filter expressions (the same grammar; key conditions reuse
//! it too and restrict the result in [`super::keycond`]).
//!
//! ```text
//! condition  ::= or
//! or         ::= and ( OR and )*
//! and        ::= not ( AND not )*
//! not        ::= NOT not | comparison
//! comparison ::= primary ( comparator operand
//!                        | BETWEEN operand AND operand
//!                        | IN '(' operand ( ',' operand )* ')' )?
//! primary    ::= '(' or ')' | function | path | :value
//! operand    ::= '(' operand ')' | function | path | :value
//! function   ::= name '(' operand ( ',' operand )* ')'
//! ```
//!
//! A parenthesis may open either a condition (`(a = :v OR b = :w)`) or an
//! operand (`(a) = :v`), which is only known after its content. So `primary`
//! yields a [`Node`] that is still one of condition, operand or function call,
//! and the caller turns it into what the position needs. That keeps the
//! parser free of backtracking, so it is linear in the input.

use super::lexer::TokenKind;
use super::limits::MAX_IN_OPERANDS;
use super::parser::{Parser, Rank};
use super::path::Path;
use super::subst::Substitutions;
use super::value::{compare, describe, is_orderable, type_code};
use super::{ExprError, ExprKind};
use crate::model::AttributeValue;

/// A parsed condition or filter expression, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub(crate) root: Cond,
}

/// A value-producing operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Value(AttributeValue),
    /// `size(operand)`.
    Size(Box<Operand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn from_token(kind: Option<TokenKind>) -> Option<CmpOp> {
        Some(match kind? {
            TokenKind::Eq => CmpOp::Eq,
            TokenKind::Ne => CmpOp::Ne,
            TokenKind::Lt => CmpOp::Lt,
            TokenKind::Le => CmpOp::Le,
            TokenKind::Gt => CmpOp::Gt,
            TokenKind::Ge => CmpOp::Ge,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Compare(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    AttributeExists(Path),
    AttributeNotExists(Path),
    /// `attribute_type(operand, :t)`, with the type code already checked.
    AttributeType(Operand, String),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

/// What a `primary` turned out to be, before its position decides.
enum Node {
    Cond(Cond),
    Operand(Operand),
    Call(String, Vec<Operand>),
}

struct Parsed {
    node: Node,
    /// The node was written inside its own parentheses, so parentheses
    /// directly around it again are redundant.
    wrapped: bool,
}

impl Parsed {
    fn bare(node: Node) -> Self {
        Parsed {
            node,
            wrapped: false,
        }
    }
}

const VALID_TYPES: [&str; 10] = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

/// Parses a condition expression (`kind` is normally [`ExprKind::Condition`]
/// or [`ExprKind::Filter`] and only names the parameter in messages).
pub fn parse_condition(
    expr: &str,
    kind: ExprKind,
    subs: &mut Substitutions,
) -> Result<Condition, ExprError> {
    parse_tree(expr, kind, subs).map(|root| Condition { root })
}

/// Parses into the condition tree (shared with key conditions).
pub(crate) fn parse_tree(
    expr: &str,
    kind: ExprKind,
    subs: &mut Substitutions,
) -> Result<Cond, ExprError> {
    let mut p = Parser::new(expr, kind)?;
    let parsed = or(&mut p, subs)?;
    if !p.at_end() {
        return Err(p.syntax_error());
    }
    let cond = require_cond(&mut p, parsed.node)?;
    p.finish()?;
    Ok(cond)
}

fn or(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Parsed, ExprError> {
    let mut left = and(p, subs)?;
    while p.at_keyword("OR") {
        let l = require_cond(p, left.node)?;
        p.advance();
        p.count_operator();
        let right = and(p, subs)?;
        let r = require_cond(p, right.node)?;
        left = Parsed::bare(Node::Cond(Cond::Or(Box::new(l), Box::new(r))));
    }
    Ok(left)
}

fn and(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Parsed, ExprError> {
    let mut left = not(p, subs)?;
    while p.at_keyword("AND") {
        let l = require_cond(p, left.node)?;
        p.advance();
        p.count_operator();
        let right = not(p, subs)?;
        let r = require_cond(p, right.node)?;
        left = Parsed::bare(Node::Cond(Cond::And(Box::new(l), Box::new(r))));
    }
    Ok(left)
}

fn not(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Parsed, ExprError> {
    if !p.at_keyword("NOT") {
        return comparison(p, subs);
    }
    p.enter()?;
    p.advance();
    p.count_operator();
    let inner = not(p, subs)?;
    let cond = require_cond(p, inner.node)?;
    p.leave();
    Ok(Parsed::bare(Node::Cond(Cond::Not(Box::new(cond)))))
}

fn comparison(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Parsed, ExprError> {
    let left = primary(p, subs)?;
    if let Some(op) = CmpOp::from_token(p.peek()) {
        let l = require_operand(p, left.node)?;
        p.advance();
        p.count_operator();
        let r = operand(p, subs)?;
        check_comparison(p, op, &l, &r);
        return Ok(Parsed::bare(Node::Cond(Cond::Compare(op, l, r))));
    }
    if p.at_keyword("BETWEEN") {
        let subject = require_operand(p, left.node)?;
        p.advance();
        p.count_operator();
        let low = operand(p, subs)?;
        if !p.at_keyword("AND") {
            return Err(p.syntax_error());
        }
        p.advance();
        let high = operand(p, subs)?;
        check_between(p, &subject, &low, &high);
        return Ok(Parsed::bare(Node::Cond(Cond::Between(subject, low, high))));
    }
    if p.at_keyword("IN") {
        let subject = require_operand(p, left.node)?;
        p.advance();
        p.count_operator();
        p.expect(TokenKind::LParen)?;
        let mut list = vec![operand(p, subs)?];
        while p.peek() == Some(TokenKind::Comma) {
            p.advance();
            list.push(operand(p, subs)?);
        }
        p.expect(TokenKind::RParen)?;
        if list.len() > MAX_IN_OPERANDS {
            p.defer(
                Rank::Operand,
                format!(
                    "The IN operator is provided with too many operands; number of operands: {}",
                    list.len()
                ),
            );
        }
        if let Some(dup) = list.iter().find(|o| same_path(&subject, o)) {
            defer_distinct(p, "IN", dup);
        }
        return Ok(Parsed::bare(Node::Cond(Cond::In(subject, list))));
    }
    Ok(left)
}

fn primary(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Parsed, ExprError> {
    if p.peek() == Some(TokenKind::LParen) {
        p.enter()?;
        p.advance();
        let inner = or(p, subs)?;
        p.expect(TokenKind::RParen)?;
        p.leave();
        if inner.wrapped {
            p.defer(
                Rank::RedundantParens,
                "The expression has redundant parentheses;",
            );
        }
        return Ok(Parsed {
            node: inner.node,
            wrapped: true,
        });
    }
    leaf(p, subs).map(Parsed::bare)
}

/// A function call, path or value.
fn leaf(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Node, ExprError> {
    if p.peek() == Some(TokenKind::Ident)
        && p.peek_at(1) == Some(TokenKind::LParen)
        && p.at_path_start()
    {
        let name = p.text().to_string();
        p.advance();
        p.advance();
        p.enter()?;
        p.count_operator();
        let mut args = vec![operand(p, subs)?];
        while p.peek() == Some(TokenKind::Comma) {
            p.advance();
            args.push(operand(p, subs)?);
        }
        p.expect(TokenKind::RParen)?;
        p.leave();
        return Ok(Node::Call(name, args));
    }
    if p.peek() == Some(TokenKind::ValuePlaceholder) {
        return Ok(Node::Operand(Operand::Value(p.value(subs)?)));
    }
    if p.at_path_start() {
        return Ok(Node::Operand(Operand::Path(p.path(subs)?)));
    }
    Err(p.syntax_error())
}

/// An operand position: comparator sides, BETWEEN bounds, IN members and
/// function arguments.
fn operand(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<Operand, ExprError> {
    let (node, _) = operand_node(p, subs)?;
    require_operand(p, node)
}

fn operand_node(p: &mut Parser<'_>, subs: &mut Substitutions) -> Result<(Node, bool), ExprError> {
    if p.peek() == Some(TokenKind::LParen) {
        p.enter()?;
        p.advance();
        let (inner, wrapped) = operand_node(p, subs)?;
        p.expect(TokenKind::RParen)?;
        p.leave();
        if wrapped {
            p.defer(
                Rank::RedundantParens,
                "The expression has redundant parentheses;",
            );
        }
        return Ok((inner, true));
    }
    Ok((leaf(p, subs)?, false))
}

/// Turns a node into a condition where one is required. A plain operand
/// there is a syntax error at the token that follows it.
fn require_cond(p: &mut Parser<'_>, node: Node) -> Result<Cond, ExprError> {
    match node {
        Node::Cond(c) => Ok(c),
        Node::Operand(_) => Err(p.syntax_error()),
        Node::Call(name, args) => Ok(call_to_cond(p, &name, args)),
    }
}

/// Turns a node into an operand where one is required. Only `size` is a
/// function that yields a value.
fn require_operand(p: &mut Parser<'_>, node: Node) -> Result<Operand, ExprError> {
    match node {
        Node::Operand(o) => Ok(o),
        Node::Cond(_) => Err(p.syntax_error()),
        Node::Call(name, mut args) => {
            if name == "size" {
                check_arity(p, &name, &args, 1);
                let arg = args.swap_remove(0);
                if let Some(t) = static_type(&arg) {
                    if matches!(t, "N" | "BOOL" | "NULL") {
                        defer_type(p, "size", t);
                    }
                }
                return Ok(Operand::Size(Box::new(arg)));
            }
            if is_condition_function(&name) {
                p.defer(
                    Rank::MisusedFunction,
                    format!("The function is not allowed to be used this way in an expression; function: {name}"),
                );
            } else {
                unknown_function(p, &name);
            }
            Ok(Operand::Value(AttributeValue::Null))
        }
    }
}

fn is_condition_function(name: &str) -> bool {
    matches!(
        name,
        "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains"
    )
}

fn unknown_function(p: &mut Parser<'_>, name: &str) {
    let detail = if matches!(name, "if_not_exists" | "list_append") {
        format!("The function is not allowed in a condition expression; function: {name}")
    } else {
        format!("Invalid function name; function: {name}")
    };
    p.defer(Rank::UnknownFunction, detail);
}

/// Builds a function used as a condition, checking its arguments.
fn call_to_cond(p: &mut Parser<'_>, name: &str, mut args: Vec<Operand>) -> Cond {
    // Whatever is wrong, some condition must stand in: the recorded error
    // guarantees it is never evaluated.
    let placeholder = Cond::AttributeExists(Path::attribute(""));
    match name {
        "attribute_exists" | "attribute_not_exists" => {
            if !check_arity(p, name, &args, 1) {
                return placeholder;
            }
            match args.swap_remove(0) {
                Operand::Path(path) if name == "attribute_exists" => Cond::AttributeExists(path),
                Operand::Path(path) => Cond::AttributeNotExists(path),
                _ => {
                    p.defer(
                        Rank::Operand,
                        format!("Operator or function requires a document path; operator or function: {name}"),
                    );
                    placeholder
                }
            }
        }
        "attribute_type" => {
            if !check_arity(p, name, &args, 2) {
                return placeholder;
            }
            check_distinct(p, name, &args[0], &args[1]);
            let type_arg = args.pop();
            let subject = args.pop().unwrap_or(Operand::Value(AttributeValue::Null));
            match type_arg {
                Some(Operand::Value(AttributeValue::S(t))) => {
                    if !VALID_TYPES.contains(&t.as_str()) {
                        p.defer(
                            Rank::Operand,
                            format!(
                                "Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                            ),
                        );
                    }
                    Cond::AttributeType(subject, t)
                }
                other => {
                    let t = other
                        .as_ref()
                        .and_then(static_type)
                        .unwrap_or("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
                    defer_type(p, name, t);
                    placeholder
                }
            }
        }
        "begins_with" | "contains" => {
            if !check_arity(p, name, &args, 2) {
                return placeholder;
            }
            check_distinct(p, name, &args[0], &args[1]);
            if name == "begins_with" {
                for arg in &args {
                    if let Some(t) = static_type(arg) {
                        if t != "S" && t != "B" {
                            defer_type(p, name, t);
                        }
                    }
                }
            }
            let second = args.pop().unwrap_or(Operand::Value(AttributeValue::Null));
            let first = args.pop().unwrap_or(Operand::Value(AttributeValue::Null));
            if name == "begins_with" {
                Cond::BeginsWith(first, second)
            } else {
                Cond::Contains(first, second)
            }
        }
        "size" => {
            p.defer(
                Rank::MisusedFunction,
                "The function is not allowed to be used this way in an expression; function: size",
            );
            placeholder
        }
        _ => {
            unknown_function(p, name);
            placeholder
        }
    }
}

fn check_arity(p: &mut Parser<'_>, name: &str, args: &[Operand], expected: usize) -> bool {
    if args.len() == expected {
        return true;
    }
    p.defer(
        Rank::OperandCount,
        format!(
            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
            args.len()
        ),
    );
    false
}

/// The type of an operand known at parse time: a literal's type, or N for
/// `size()`. Paths are only known at evaluation.
fn static_type(operand: &Operand) -> Option<&'static str> {
    match operand {
        Operand::Value(v) => Some(type_code(v)),
        Operand::Size(_) => Some("N"),
        Operand::Path(_) => None,
    }
}

fn defer_type(p: &mut Parser<'_>, function: &str, operand_type: &str) {
    p.defer(
        Rank::Operand,
        format!(
            "Incorrect operand type for operator or function; operator or function: {function}, operand type: {operand_type}"
        ),
    );
}

fn same_path(a: &Operand, b: &Operand) -> bool {
    matches!((a, b), (Operand::Path(x), Operand::Path(y)) if x == y)
}

fn check_distinct(p: &mut Parser<'_>, operator: &str, a: &Operand, b: &Operand) {
    if same_path(a, b) {
        defer_distinct(p, operator, a);
    }
}

fn defer_distinct(p: &mut Parser<'_>, operator: &str, operand: &Operand) {
    if let Operand::Path(path) = operand {
        p.defer(
            Rank::Distinct,
            format!(
                "The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {}",
                path.bracketed()
            ),
        );
    }
}

fn check_comparison(p: &mut Parser<'_>, op: CmpOp, l: &Operand, r: &Operand) {
    check_distinct(p, op.symbol(), l, r);
    if matches!(op, CmpOp::Eq | CmpOp::Ne) {
        return;
    }
    // Ordering a literal that has no order can never be true: AWS refuses it
    // at parse time (a path of such a type just compares false).
    for side in [l, r] {
        if let Operand::Value(v) = side {
            if !is_orderable(v) {
                defer_type(p, op.symbol(), type_code(v));
            }
        }
    }
}

fn check_between(p: &mut Parser<'_>, subject: &Operand, low: &Operand, high: &Operand) {
    for side in [subject, low, high] {
        if let Operand::Value(v) = side {
            if !is_orderable(v) {
                defer_type(p, "BETWEEN", type_code(v));
                return;
            }
        }
    }
    if let (Operand::Value(lo), Operand::Value(hi)) = (low, high) {
        let bounds = format!(
            "lower bound operand: {}, upper bound operand: {}",
            describe(lo),
            describe(hi)
        );
        match compare(lo, hi) {
            None => p.defer(
                Rank::Operand,
                format!("The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"),
            ),
            Some(std::cmp::Ordering::Greater) => p.defer(
                Rank::Operand,
                format!("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}"),
            ),
            Some(_) => {}
        }
    }
}

impl Condition {
    /// Top-level attribute names the condition refers to, in order of first
    /// appearance (a Query filter may not name key attributes).
    pub fn top_level_attributes(&self) -> Vec<&str> {
        fn operand<'a>(op: &'a Operand, out: &mut Vec<&'a str>) {
            match op {
                Operand::Path(p) => push(p, out),
                Operand::Size(inner) => operand(inner, out),
                Operand::Value(_) => {}
            }
        }
        fn push<'a>(p: &'a Path, out: &mut Vec<&'a str>) {
            let name = p.top_level();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        // Iterative walk: conditions can nest deeply (bounded by the parser,
        // but there is no reason to recurse here).
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(c) = stack.pop() {
            match c {
                Cond::Compare(_, a, b) | Cond::BeginsWith(a, b) | Cond::Contains(a, b) => {
                    operand(a, &mut out);
                    operand(b, &mut out);
                }
                Cond::Between(a, b, c) => {
                    for o in [a, b, c] {
                        operand(o, &mut out);
                    }
                }
                Cond::In(a, list) => {
                    operand(a, &mut out);
                    for o in list {
                        operand(o, &mut out);
                    }
                }
                Cond::AttributeExists(p) | Cond::AttributeNotExists(p) => push(p, &mut out),
                Cond::AttributeType(a, _) => operand(a, &mut out),
                Cond::Not(inner) => stack.push(inner),
                Cond::And(a, b) | Cond::Or(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
            }
        }
        out
    }
}
