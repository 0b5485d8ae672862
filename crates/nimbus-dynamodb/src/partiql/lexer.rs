//! PartiQL source text to tokens, each with its position.
//!
//! The token set is PartiQL's (the reference parser DynamoDB runs), so
//! statements DynamoDB reads as two tokens (`1 e5`) or refuses outright
//! (`# note`, an exponent past a 32-bit integer) read the same here. A text
//! the lexer cannot read at all gets DynamoDB's "wasn't well formed" answer
//! with nothing after the colon, as DynamoDB gives it.

use super::error::{malformed, PartiqlError};

/// Where a token starts (1-based line and column, counted in characters)
/// and how many characters it spans: DynamoDB prints positions as
/// `line:column:length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl Pos {
    /// The ` at L:C:N` suffix some DynamoDB messages carry.
    pub fn at(&self) -> String {
        format!(" at {}:{}:{}", self.line, self.col, self.len)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare identifier or keyword, as written.
    Ident(String),
    /// A double-quoted identifier, unescaped.
    Quoted(String),
    /// A single-quoted string literal, unescaped.
    Str(String),
    /// A number literal's text.
    Num(String),
    Question,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    LBag,
    RBag,
    Comma,
    Dot,
    Colon,
    Semicolon,
    Star,
    Plus,
    Minus,
    Slash,
    Percent,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

impl Token {
    /// Whether this is the bare word `word` (keywords are case-insensitive).
    pub fn is_word(&self, word: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
    }
}

struct Cursor<'s> {
    chars: Vec<char>,
    i: usize,
    line: u32,
    col: u32,
    _src: &'s str,
}

impl Cursor<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.i).copied()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
}

/// Splits `src` into tokens.
pub fn tokenize(src: &str) -> Result<Vec<Token>, PartiqlError> {
    let mut c = Cursor {
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
        _src: src,
    };
    let mut out = Vec::new();
    while let Some(ch) = c.peek(0) {
        if ch.is_whitespace() {
            c.bump();
            continue;
        }
        if ch == '-' && c.peek(1) == Some('-') {
            while c.peek(0).is_some_and(|x| x != '\n') {
                c.bump();
            }
            continue;
        }
        if ch == '/' && c.peek(1) == Some('*') {
            c.bump();
            c.bump();
            loop {
                match c.peek(0) {
                    None => return Err(malformed("")),
                    Some('*') if c.peek(1) == Some('/') => {
                        c.bump();
                        c.bump();
                        break;
                    }
                    Some(_) => {
                        c.bump();
                    }
                }
            }
            continue;
        }
        let (line, col, start) = (c.line, c.col, c.i);
        let tok = lex_one(&mut c, ch)?;
        out.push(Token {
            tok,
            pos: Pos {
                line,
                col,
                len: (c.i - start) as u32,
            },
        });
    }
    Ok(out)
}

fn lex_one(c: &mut Cursor<'_>, ch: char) -> Result<Tok, PartiqlError> {
    let two = |c: &mut Cursor<'_>, t: Tok| {
        c.bump();
        c.bump();
        Ok(t)
    };
    let one = |c: &mut Cursor<'_>, t: Tok| {
        c.bump();
        Ok(t)
    };
    match ch {
        '\'' | '"' => quoted(c, ch),
        '0'..='9' => number(c),
        '.' if c.peek(1).is_some_and(|d| d.is_ascii_digit()) => number(c),
        'a'..='z' | 'A'..='Z' | '_' | '$' => {
            let mut s = String::new();
            while let Some(x) = c.peek(0) {
                if x.is_ascii_alphanumeric() || x == '_' || x == '$' {
                    s.push(x);
                    c.bump();
                } else {
                    break;
                }
            }
            Ok(Tok::Ident(s))
        }
        '<' => match c.peek(1) {
            Some('<') => two(c, Tok::LBag),
            Some('=') => two(c, Tok::Le),
            Some('>') => two(c, Tok::Ne),
            _ => one(c, Tok::Lt),
        },
        '>' => match c.peek(1) {
            Some('>') => two(c, Tok::RBag),
            Some('=') => two(c, Tok::Ge),
            _ => one(c, Tok::Gt),
        },
        '!' if c.peek(1) == Some('=') => two(c, Tok::Ne),
        '|' if c.peek(1) == Some('|') => two(c, Tok::Concat),
        '?' => one(c, Tok::Question),
        '(' => one(c, Tok::LParen),
        ')' => one(c, Tok::RParen),
        '[' => one(c, Tok::LBracket),
        ']' => one(c, Tok::RBracket),
        '{' => one(c, Tok::LBrace),
        '}' => one(c, Tok::RBrace),
        ',' => one(c, Tok::Comma),
        '.' => one(c, Tok::Dot),
        ':' => one(c, Tok::Colon),
        ';' => one(c, Tok::Semicolon),
        '*' => one(c, Tok::Star),
        '+' => one(c, Tok::Plus),
        '-' => one(c, Tok::Minus),
        '/' => one(c, Tok::Slash),
        '%' => one(c, Tok::Percent),
        '=' => one(c, Tok::Eq),
        // `#`, `@`, backticks (Ion literals) and anything else: DynamoDB
        // refuses the statement with nothing after the colon.
        _ => Err(malformed("")),
    }
}

/// A `'string'` or a `"quoted identifier"`; the quote character doubled
/// inside stands for itself.
fn quoted(c: &mut Cursor<'_>, quote: char) -> Result<Tok, PartiqlError> {
    c.bump();
    let mut s = String::new();
    loop {
        match c.bump() {
            None => return Err(malformed("")),
            Some(x) if x == quote => {
                if c.peek(0) == Some(quote) {
                    c.bump();
                    s.push(quote);
                } else {
                    break;
                }
            }
            Some(x) => s.push(x),
        }
    }
    Ok(if quote == '\'' {
        Tok::Str(s)
    } else {
        Tok::Quoted(s)
    })
}

/// `digits [. digits] [e [+-] digits]` or `. digits [...]`. An exponent
/// that does not fit a 32-bit integer, or that leaves a scale (digits after
/// the point minus the exponent) that does not, cannot be read: DynamoDB's
/// decimal type is a 32-bit-scaled BigDecimal.
fn number(c: &mut Cursor<'_>) -> Result<Tok, PartiqlError> {
    let mut text = String::new();
    let mut fraction_digits: i64 = 0;
    while let Some(d) = c.peek(0).filter(|d| d.is_ascii_digit()) {
        text.push(d);
        c.bump();
    }
    if c.peek(0) == Some('.') {
        text.push('.');
        c.bump();
        while let Some(d) = c.peek(0).filter(|d| d.is_ascii_digit()) {
            text.push(d);
            fraction_digits += 1;
            c.bump();
        }
    }
    let signed_digit = |c: &Cursor<'_>| match c.peek(1) {
        Some(d) if d.is_ascii_digit() => true,
        Some('+' | '-') => c.peek(2).is_some_and(|d| d.is_ascii_digit()),
        _ => false,
    };
    if matches!(c.peek(0), Some('e' | 'E')) && signed_digit(c) {
        text.push('e');
        c.bump();
        let negative = c.peek(0) == Some('-');
        if matches!(c.peek(0), Some('+' | '-')) {
            text.push(c.bump().unwrap_or('+'));
        }
        let mut exponent: i64 = 0;
        let mut overflow = false;
        while let Some(d) = c.peek(0).filter(|d| d.is_ascii_digit()) {
            text.push(d);
            c.bump();
            exponent = exponent * 10 + i64::from(d as u8 - b'0');
            if exponent > i64::from(u32::MAX) {
                overflow = true;
                exponent = i64::from(u32::MAX);
            }
        }
        let exponent = if negative { -exponent } else { exponent };
        let scale = fraction_digits - exponent;
        if overflow || i32::try_from(exponent).is_err() || i32::try_from(scale).is_err() {
            return Err(malformed(""));
        }
    }
    Ok(Tok::Num(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_strings_and_operators() {
        assert_eq!(
            toks("SELECT \"a\"\"b\" FROM t WHERE x <> 'it''s' AND y != 1"),
            vec![
                Tok::Ident("SELECT".into()),
                Tok::Quoted("a\"b".into()),
                Tok::Ident("FROM".into()),
                Tok::Ident("t".into()),
                Tok::Ident("WHERE".into()),
                Tok::Ident("x".into()),
                Tok::Ne,
                Tok::Str("it's".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("y".into()),
                Tok::Ne,
                Tok::Num("1".into()),
            ]
        );
        assert_eq!(
            toks("<<1, 2>> <= >= < > || ?"),
            vec![
                Tok::LBag,
                Tok::Num("1".into()),
                Tok::Comma,
                Tok::Num("2".into()),
                Tok::RBag,
                Tok::Le,
                Tok::Ge,
                Tok::Lt,
                Tok::Gt,
                Tok::Concat,
                Tok::Question,
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("7.31e6"), vec![Tok::Num("7.31e6".into())]);
        assert_eq!(toks(".73e1"), vec![Tok::Num(".73e1".into())]);
        assert_eq!(toks("731E+4"), vec![Tok::Num("731e+4".into())]);
        // A space splits the exponent off into an identifier.
        assert_eq!(
            toks("1 e5"),
            vec![Tok::Num("1".into()), Tok::Ident("e5".into())]
        );
        assert!(tokenize("1e2147483648").is_err());
        assert!(tokenize("1e99999999999").is_err());
        assert!(tokenize("1.5e-2147483647").is_err());
        assert!(tokenize("1e2147483647").is_ok());
    }

    #[test]
    fn comments_and_positions() {
        let t = tokenize("-- note\nSELECT /* x */ a").unwrap();
        assert_eq!(
            t[0].pos,
            Pos {
                line: 2,
                col: 1,
                len: 6
            }
        );
        assert_eq!(
            t[1].pos,
            Pos {
                line: 2,
                col: 16,
                len: 1
            }
        );
        assert_eq!(t[1].pos.at(), " at 2:16:1");
        for bad in ["a # b", "a /* open", "'open", "\"open", "`ion`", "a @ b"] {
            assert_eq!(
                crate::partiql::error::text(&tokenize(bad).unwrap_err()),
                "Statement wasn't well formed, can't be processed: ",
                "{bad}"
            );
        }
    }
}
