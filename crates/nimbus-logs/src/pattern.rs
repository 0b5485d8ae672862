//! Filter patterns (FilterLogEvents' `filterPattern`), the subset nimbus
//! supports:
//!
//! - Terms: `ERROR` (the message contains it; case-sensitive), several
//!   terms (all must appear), `"quoted phrases"`, `?A ?B` (any of them),
//!   `-term` (must not appear).
//! - JSON: `{ SELECTOR OP VALUE }` on messages that are JSON objects, with
//!   selectors `$.a.b` and `$.list[0]`, operators `=` `!=` (strings, with
//!   `*` wildcards, or numbers) and `<` `<=` `>` `>=` (numbers), `IS NULL`,
//!   `IS TRUE`, `IS FALSE`, `EXISTS`, `NOT EXISTS`, combined with `&&`, `||`
//!   and parentheses (nesting bounded).
//!
//! Space-delimited (`[a, b]`) and regular-expression (`%...%`) patterns are
//! refused with InvalidParameterException rather than silently matching
//! the wrong events.

use serde_json::Value;

use crate::error::{LogsError, Result};

/// Parentheses nest at most this deep, so no pattern can exhaust the stack.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    All,
    Terms {
        required: Vec<String>,
        any: Vec<String>,
        excluded: Vec<String>,
    },
    Json(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Selector, Op, Literal),
    IsNull(Selector),
    IsBool(Selector, bool),
    Exists(Selector, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Field(String),
    Index(usize),
}

pub type Selector = Vec<Step>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

fn invalid(reason: impl std::fmt::Display) -> LogsError {
    LogsError::InvalidParameter(format!("Invalid filter pattern: {reason}"))
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern> {
        let t = text.trim();
        if t.is_empty() || t == "\"\"" {
            return Ok(Pattern::All);
        }
        if t.starts_with('[') {
            return Err(LogsError::InvalidParameter(
                "nimbus does not support space-delimited filter patterns ([...]) yet".into(),
            ));
        }
        if t.starts_with('%') {
            return Err(LogsError::InvalidParameter(
                "nimbus does not support regular-expression filter patterns (%...%) yet".into(),
            ));
        }
        if let Some(inner) = t.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .ok_or_else(|| invalid("a JSON pattern must end with '}'"))?;
            let mut p = Parser {
                chars: inner.chars().collect(),
                pos: 0,
                depth: 0,
            };
            let expr = p.or()?;
            p.skip_ws();
            if p.pos < p.chars.len() {
                return Err(invalid(format!(
                    "unexpected '{}'",
                    p.chars[p.pos..].iter().collect::<String>()
                )));
            }
            return Ok(Pattern::Json(expr));
        }
        parse_terms(t)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms {
                required,
                any,
                excluded,
            } => {
                required.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !excluded.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json(expr) => match serde_json::from_str::<Value>(message.trim()) {
                Ok(v @ Value::Object(_)) => expr.eval(&v),
                _ => false,
            },
        }
    }
}

fn parse_terms(t: &str) -> Result<Pattern> {
    let (mut required, mut any, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut bucket = &mut required;
        if chars[i] == '?' {
            bucket = &mut any;
            i += 1;
        } else if chars[i] == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            bucket = &mut excluded;
            i += 1;
        }
        let term = if chars.get(i) == Some(&'"') {
            let (s, next) = quoted(&chars, i)?;
            i = next;
            s
        } else {
            let begin = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            chars[begin..i].iter().collect()
        };
        if term.is_empty() {
            return Err(invalid("empty term"));
        }
        bucket.push(term);
    }
    if required.is_empty() && any.is_empty() && !excluded.is_empty() {
        return Err(invalid(
            "a pattern needs at least one term that is not excluded",
        ));
    }
    Ok(Pattern::Terms {
        required,
        any,
        excluded,
    })
}

/// A `"..."` string starting at `chars[i]`, with `\"` and `\\` escapes;
/// returns it and the index after the closing quote.
fn quoted(chars: &[char], mut i: usize) -> Result<(String, usize)> {
    i += 1;
    let mut s = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                s.push(chars[i + 1]);
                i += 2;
            }
            '"' => return Ok((s, i + 1)),
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(invalid("unterminated quoted string"))
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        let n = s.chars().count();
        if self.pos + n <= self.chars.len()
            && self.chars[self.pos..self.pos + n]
                .iter()
                .copied()
                .eq(s.chars())
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// A keyword (IS, NULL, ...) followed by a non-word character.
    fn eat_word(&mut self, w: &str) -> bool {
        let save = self.pos;
        if self.eat(w) {
            let next = self.chars.get(self.pos);
            if next.is_none_or(|c| !c.is_alphanumeric() && *c != '_') {
                return true;
            }
        }
        self.pos = save;
        false
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat("(") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(invalid(format!(
                    "parentheses nest deeper than {MAX_DEPTH} levels"
                )));
            }
            let e = self.or()?;
            if !self.eat(")") {
                return Err(invalid("missing ')'"));
            }
            self.depth -= 1;
            return Ok(e);
        }
        let sel = self.selector()?;
        if self.eat_word("IS") {
            if self.eat_word("NULL") {
                return Ok(Expr::IsNull(sel));
            }
            if self.eat_word("TRUE") {
                return Ok(Expr::IsBool(sel, true));
            }
            if self.eat_word("FALSE") {
                return Ok(Expr::IsBool(sel, false));
            }
            return Err(invalid("IS must be followed by NULL, TRUE or FALSE"));
        }
        if self.eat_word("NOT") {
            if self.eat_word("EXISTS") {
                return Ok(Expr::Exists(sel, false));
            }
            return Err(invalid("NOT must be followed by EXISTS"));
        }
        if self.eat_word("EXISTS") {
            return Ok(Expr::Exists(sel, true));
        }
        let op = if self.eat("!=") {
            Op::Ne
        } else if self.eat("<=") {
            Op::Le
        } else if self.eat(">=") {
            Op::Ge
        } else if self.eat("=") {
            Op::Eq
        } else if self.eat("<") {
            Op::Lt
        } else if self.eat(">") {
            Op::Gt
        } else {
            return Err(invalid("expected a comparison operator after the selector"));
        };
        let lit = self.literal()?;
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(lit, Literal::Number(_)) {
            return Err(invalid("<, <=, > and >= compare numbers only"));
        }
        Ok(Expr::Compare(sel, op, lit))
    }

    fn selector(&mut self) -> Result<Selector> {
        if !self.eat("$") {
            return Err(invalid("a JSON selector must start with '$'"));
        }
        let mut steps = Vec::new();
        loop {
            match self.chars.get(self.pos) {
                Some('.') => {
                    self.pos += 1;
                    let begin = self.pos;
                    while self
                        .chars
                        .get(self.pos)
                        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '$'))
                    {
                        self.pos += 1;
                    }
                    if begin == self.pos {
                        return Err(invalid("empty field name in selector"));
                    }
                    steps.push(Step::Field(self.chars[begin..self.pos].iter().collect()));
                }
                Some('[') => {
                    self.pos += 1;
                    let begin = self.pos;
                    while self.chars.get(self.pos).is_some_and(char::is_ascii_digit) {
                        self.pos += 1;
                    }
                    let digits: String = self.chars[begin..self.pos].iter().collect();
                    let index = digits
                        .parse::<usize>()
                        .map_err(|_| invalid("an array index must be a number"))?;
                    if self.chars.get(self.pos) != Some(&']') {
                        return Err(invalid("missing ']'"));
                    }
                    self.pos += 1;
                    steps.push(Step::Index(index));
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(invalid("a selector must name a field"));
        }
        Ok(steps)
    }

    fn literal(&mut self) -> Result<Literal> {
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&'"') {
            let (s, next) = quoted(&self.chars, self.pos)?;
            self.pos = next;
            return Ok(Literal::Text(s));
        }
        let begin = self.pos;
        while let Some(&c) = self.chars.get(self.pos) {
            if c.is_whitespace() || c == ')' || c == '&' || c == '|' {
                break;
            }
            self.pos += 1;
        }
        let word: String = self.chars[begin..self.pos].iter().collect();
        if word.is_empty() {
            return Err(invalid("expected a value after the operator"));
        }
        Ok(match word.parse::<f64>() {
            Ok(n) if n.is_finite() => Literal::Number(n),
            _ => Literal::Text(word),
        })
    }
}

fn select<'v>(v: &'v Value, sel: &Selector) -> Option<&'v Value> {
    sel.iter().try_fold(v, |v, step| match step {
        Step::Field(f) => v.get(f.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

/// `*` matches any run of characters; everything else literally.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Expr {
    fn eval(&self, v: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.eval(v) && b.eval(v),
            Expr::Or(a, b) => a.eval(v) || b.eval(v),
            Expr::IsNull(s) => matches!(select(v, s), Some(Value::Null)),
            Expr::IsBool(s, b) => select(v, s) == Some(&Value::Bool(*b)),
            Expr::Exists(s, want) => select(v, s).is_some() == *want,
            Expr::Compare(s, op, lit) => {
                let Some(field) = select(v, s) else {
                    return false;
                };
                match lit {
                    Literal::Number(n) => {
                        let Some(x) = field.as_f64() else {
                            // A numeric-looking value compares with a
                            // string field by its text for = and !=.
                            return match (op, field.as_str()) {
                                (Op::Eq, Some(t)) => t.parse::<f64>().ok() == Some(*n),
                                (Op::Ne, Some(t)) => t.parse::<f64>().ok() != Some(*n),
                                _ => false,
                            };
                        };
                        match op {
                            Op::Eq => x == *n,
                            Op::Ne => x != *n,
                            Op::Lt => x < *n,
                            Op::Le => x <= *n,
                            Op::Gt => x > *n,
                            Op::Ge => x >= *n,
                        }
                    }
                    Literal::Text(t) => {
                        let text = match field {
                            Value::String(s) => s.clone(),
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n.to_string(),
                            _ => return false,
                        };
                        match op {
                            Op::Eq => wildcard_match(t, &text),
                            Op::Ne => !wildcard_match(t, &text),
                            _ => false,
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(p).unwrap().matches(msg)
    }

    #[test]
    fn terms() {
        assert!(m("", "anything"));
        assert!(m("ERROR", "[ERROR] disk"));
        assert!(!m("ERROR", "error"));
        assert!(m("ERROR disk", "disk ERROR"));
        assert!(!m("ERROR disk", "ERROR net"));
        assert!(m("\"disk full\"", "the disk full now"));
        assert!(!m("\"disk full\"", "full disk"));
        assert!(m("?ERROR ?WARN", "WARN x"));
        assert!(!m("?ERROR ?WARN", "INFO x"));
        assert!(m("ERROR -timeout", "ERROR disk"));
        assert!(!m("ERROR -timeout", "ERROR timeout"));
    }

    #[test]
    fn json() {
        let msg = r#"{"level":"ERROR","latency":250,"user":{"id":"u-1"},"tags":["a","b"],"ok":false,"gone":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, msg));
        assert!(m("{ $.level = ERR* }", msg));
        assert!(!m("{ $.level = INFO }", msg));
        assert!(m("{ $.level != INFO }", msg));
        assert!(m("{ $.latency > 200 }", msg));
        assert!(!m("{ $.latency < 200 }", msg));
        assert!(m("{ $.latency = 250 }", msg));
        assert!(m("{ $.user.id = \"u-1\" }", msg));
        assert!(m("{ $.tags[1] = b }", msg));
        assert!(m("{ $.ok IS FALSE }", msg));
        assert!(m("{ $.gone IS NULL }", msg));
        assert!(m("{ $.nope NOT EXISTS }", msg));
        assert!(m("{ $.level EXISTS }", msg));
        assert!(m(
            "{ ($.latency > 1000) || ($.level = ERROR && $.ok IS FALSE) }",
            msg
        ));
        assert!(!m("{ $.latency > 1000 || $.level = INFO }", msg));
        assert!(!m("{ $.level = ERROR }", "not json ERROR"));
        assert!(!m("{ $.missing != x }", msg));
    }

    #[test]
    fn refusals() {
        for bad in [
            "{ $.a = }",
            "{ $.a ~ 1 }",
            "{ a = 1 }",
            "{ $.a = 1",
            "{ $.a > abc }",
            "\"open",
            "-only",
            "[ip, user]",
            "%ERR%",
        ] {
            assert!(
                matches!(Pattern::parse(bad), Err(LogsError::InvalidParameter(_))),
                "{bad}"
            );
        }
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(40), ")".repeat(40));
        assert!(Pattern::parse(&deep).is_err());
    }
}
