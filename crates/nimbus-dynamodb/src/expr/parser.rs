//! The recursive-descent machinery every grammar shares: a token cursor,
//! AWS-shaped syntax errors, document paths, placeholder substitution, the
//! nesting guard, and the ordering of semantic errors.
//!
//! Syntax errors stop parsing at once. Semantic errors (a reserved word, an
//! undefined `#name`, a wrong operand type...) are only recorded, and parsing
//! goes on: when an expression has several problems AWS reports the one of the
//! highest category, not the leftmost, so the parser keeps the best candidate
//! and reports it once the whole expression has parsed.

use super::lexer::{tokenize, Token, TokenKind};
use super::limits::{MAX_EXPRESSION_BYTES, MAX_NESTING, MAX_OPERATORS, MAX_PATH_DEPTH};
use super::path::{Path, PathElement};
use super::reserved::is_reserved;
use super::subst::Substitutions;
use super::{ExprError, ExprKind};
use crate::model::AttributeValue;

/// Categories of semantic errors, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// Too many operators in the expression.
    Operators,
    /// `((a = :v))`.
    RedundantParens,
    /// A function name that does not exist, or belongs to the other grammar.
    UnknownFunction,
    /// A function where it can't be used (`size(a)` as a condition,
    /// `attribute_exists(a)` as an operand).
    MisusedFunction,
    /// A reserved word as an attribute name; a path too deep.
    Reserved,
    /// An undefined `#name` or `:value`.
    Undefined,
    /// A function called with the wrong number of arguments.
    OperandCount,
    /// `contains(a, a)` and other operations on one path with itself.
    Distinct,
    /// Operand types and values checked at parse time.
    Operand,
}

pub(crate) struct Parser<'s> {
    pub src: &'s str,
    pub kind: ExprKind,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    operators: usize,
    deferred: Option<(Rank, String)>,
}

impl<'s> Parser<'s> {
    /// Checks the limits that apply before any parsing (empty, too long) and
    /// tokenizes.
    pub fn new(src: &'s str, kind: ExprKind) -> Result<Self, ExprError> {
        if src.len() > MAX_EXPRESSION_BYTES {
            // AWS appends the size only for condition and filter expressions.
            let detail = match kind {
                ExprKind::Condition | ExprKind::Filter => format!(
                    "Expression size has exceeded the maximum allowed size; expression size: {}",
                    src.len()
                ),
                _ => "Expression size has exceeded the maximum allowed size;".to_string(),
            };
            return Err(ExprError::invalid(kind, detail));
        }
        let tokens = tokenize(src);
        if tokens.is_empty() {
            return Err(ExprError::invalid(kind, "The expression can not be empty;"));
        }
        Ok(Parser {
            src,
            kind,
            tokens,
            pos: 0,
            depth: 0,
            operators: 0,
            deferred: None,
        })
    }

    // ---- cursor -------------------------------------------------------

    pub fn peek(&self) -> Option<TokenKind> {
        self.tokens.get(self.pos).map(|t| t.kind)
    }

    pub fn peek_at(&self, offset: usize) -> Option<TokenKind> {
        self.tokens.get(self.pos + offset).map(|t| t.kind)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    /// The text of the current token ("" at the end).
    pub fn text(&self) -> &'s str {
        self.tokens
            .get(self.pos)
            .map_or("", |t| &self.src[t.start..t.end])
    }

    pub fn advance(&mut self) {
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
    }

    /// Consumes a token of `kind` or fails with a syntax error at the current
    /// token.
    pub fn expect(&mut self, kind: TokenKind) -> Result<(), ExprError> {
        if self.peek() == Some(kind) {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// Whether the current token is the identifier `word`, ignoring case
    /// (keywords are case-insensitive; function names are not).
    pub fn at_keyword(&self, word: &str) -> bool {
        self.peek() == Some(TokenKind::Ident) && self.text().eq_ignore_ascii_case(word)
    }

    /// AWS's syntax error for the current token: `token` is its text (empty at
    /// the end of input) and `near` the source from the token before it to
    /// the token after it; at the end, `near` is the last token.
    pub fn syntax_error(&self) -> ExprError {
        let (token, near) = match self.tokens.get(self.pos) {
            None => {
                let last = self.tokens.last().map_or("", |t| &self.src[t.start..t.end]);
                ("", last)
            }
            Some(current) => {
                let start = if self.pos > 0 {
                    self.tokens[self.pos - 1].start
                } else {
                    current.start
                };
                let end = self.tokens.get(self.pos + 1).map_or(current.end, |t| t.end);
                (&self.src[current.start..current.end], &self.src[start..end])
            }
        };
        ExprError::invalid(
            self.kind,
            format_args!("Syntax error; token: \"{token}\", near: \"{near}\""),
        )
    }

    // ---- limits and deferred errors -----------------------------------

    /// Enters one level of nesting (parenthesis, `NOT`, function call).
    /// Deep nesting is refused before it can exhaust the stack.
    pub fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ExprError::invalid(
                self.kind,
                format_args!(
                    "The expression has too many nesting levels; nesting levels: {}",
                    self.depth
                ),
            ));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Counts one operator or function toward [`MAX_OPERATORS`].
    pub fn count_operator(&mut self) {
        self.operators += 1;
    }

    /// Records a semantic error; the most important one (then the first) wins.
    pub fn defer(&mut self, rank: Rank, detail: impl Into<String>) {
        match &self.deferred {
            Some((best, _)) if *best <= rank => {}
            _ => self.deferred = Some((rank, detail.into())),
        }
    }

    /// Ends parsing: the whole input must have been consumed, then the limits
    /// and any recorded semantic error are reported.
    pub fn finish(mut self) -> Result<(), ExprError> {
        if !self.at_end() {
            return Err(self.syntax_error());
        }
        if self.operators > MAX_OPERATORS {
            let count = self.operators;
            self.defer(
                Rank::Operators,
                format!("The expression contains too many operators; operator count: {count}"),
            );
        }
        match self.deferred {
            Some((_, detail)) => Err(ExprError::invalid(self.kind, detail)),
            None => Ok(()),
        }
    }

    // ---- shared productions -------------------------------------------

    /// Whether the current token can start a document path.
    pub fn at_path_start(&self) -> bool {
        match self.peek() {
            Some(TokenKind::NamePlaceholder) => true,
            Some(TokenKind::Ident) => !self.at_reserved_keyword(),
            _ => false,
        }
    }

    /// Grammar keywords can never be attribute names, not even as a syntax
    /// matter: `a = AND` is a syntax error, not a reserved-word error.
    fn at_reserved_keyword(&self) -> bool {
        ["AND", "OR", "NOT", "BETWEEN", "IN"]
            .iter()
            .any(|w| self.at_keyword(w))
    }

    /// One path element name: an identifier (checked against the reserved
    /// words) or a `#name` (substituted).
    fn path_name(&mut self, subs: &mut Substitutions) -> Result<String, ExprError> {
        let text = self.text();
        match self.peek() {
            Some(TokenKind::Ident) if !self.at_reserved_keyword() => {
                if is_reserved(text) {
                    self.defer(
                        Rank::Reserved,
                        format!("Attribute name is a reserved keyword; reserved keyword: {text}"),
                    );
                }
                self.advance();
                Ok(text.to_string())
            }
            Some(TokenKind::NamePlaceholder) => {
                self.advance();
                match subs.name(text) {
                    Some(name) => Ok(name),
                    None => {
                        self.defer(
                            Rank::Undefined,
                            format!(
                                "An expression attribute name used in the document path is not defined; attribute name: {text}"
                            ),
                        );
                        Ok(text.to_string())
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// `name ( '.' name | '[' digits ']' )*`
    pub fn path(&mut self, subs: &mut Substitutions) -> Result<Path, ExprError> {
        let mut elements = vec![PathElement::Attr(self.path_name(subs)?)];
        self.path_rest(subs, &mut elements)?;
        Ok(Path::new(elements).unwrap_or_else(|| Path::attribute(String::new())))
    }

    /// The steps after a path's first name (which the caller has consumed).
    pub fn path_rest(
        &mut self,
        subs: &mut Substitutions,
        elements: &mut Vec<PathElement>,
    ) -> Result<(), ExprError> {
        loop {
            match self.peek() {
                Some(TokenKind::Dot) => {
                    self.advance();
                    let name = self.path_name(subs)?;
                    elements.push(PathElement::Attr(name));
                }
                Some(TokenKind::LBracket) => {
                    self.advance();
                    if self.peek() != Some(TokenKind::Number) {
                        return Err(self.syntax_error());
                    }
                    let digits = self.text();
                    let index = match digits.parse::<u32>() {
                        Ok(i) => i as usize,
                        Err(_) => {
                            self.defer(
                                Rank::Operand,
                                format!(
                                    "List index is not within the allowable range; index: {digits}"
                                ),
                            );
                            0
                        }
                    };
                    self.advance();
                    self.expect(TokenKind::RBracket)?;
                    elements.push(PathElement::Index(index));
                }
                _ => break,
            }
        }
        if elements.len() > MAX_PATH_DEPTH {
            self.defer(
                Rank::Reserved,
                format!(
                    "The document path has too many nesting levels; nesting levels: {}",
                    elements.len()
                ),
            );
        }
        Ok(())
    }

    /// A `:value` placeholder at the current token, substituted. An undefined
    /// one is recorded and stands in as NULL (the parse will fail anyway).
    pub fn value(&mut self, subs: &mut Substitutions) -> Result<AttributeValue, ExprError> {
        if self.peek() != Some(TokenKind::ValuePlaceholder) {
            return Err(self.syntax_error());
        }
        let text = self.text();
        self.advance();
        Ok(match subs.value(text) {
            Some(v) => v,
            None => {
                self.defer(
                    Rank::Undefined,
                    format!(
                        "An expression attribute value used in expression is not defined; attribute value: {text}"
                    ),
                );
                AttributeValue::Null
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(src: &str, advance: usize) -> String {
        let mut p = Parser::new(src, ExprKind::Condition).unwrap();
        for _ in 0..advance {
            p.advance();
        }
        p.syntax_error().message
    }

    #[test]
    fn near_spans_neighbours_in_source() {
        assert_eq!(
            syntax("attribute_exists(pk) x y", 4),
            "Invalid ConditionExpression: Syntax error; token: \"x\", near: \") x y\""
        );
        assert_eq!(
            syntax("attribute_exists(pk) x", 4),
            "Invalid ConditionExpression: Syntax error; token: \"x\", near: \") x\""
        );
        assert_eq!(
            syntax(")  a", 0),
            "Invalid ConditionExpression: Syntax error; token: \")\", near: \")  a\""
        );
        assert_eq!(
            syntax("a =", 2),
            "Invalid ConditionExpression: Syntax error; token: \"\", near: \"=\""
        );
    }

    #[test]
    fn empty_and_oversized() {
        assert_eq!(
            Parser::new("", ExprKind::Filter).err().unwrap().message,
            "Invalid FilterExpression: The expression can not be empty;"
        );
        assert_eq!(
            Parser::new("  \n", ExprKind::Update).err().unwrap().message,
            "Invalid UpdateExpression: The expression can not be empty;"
        );
        let long = "a".repeat(4097);
        assert_eq!(
            Parser::new(&long, ExprKind::Condition).err().unwrap().message,
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"
        );
        assert_eq!(
            Parser::new(&long, ExprKind::Projection)
                .err()
                .unwrap()
                .message,
            "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size;"
        );
        assert!(Parser::new(&"a".repeat(4096), ExprKind::Condition).is_ok());
    }

    #[test]
    fn deferred_keeps_most_important() {
        let mut p = Parser::new("a", ExprKind::Condition).unwrap();
        p.advance();
        p.defer(Rank::Operand, "late");
        p.defer(Rank::Reserved, "first reserved");
        p.defer(Rank::Reserved, "second reserved");
        p.defer(Rank::Distinct, "less");
        assert_eq!(
            p.finish().unwrap_err().message,
            "Invalid ConditionExpression: first reserved"
        );
    }
}
