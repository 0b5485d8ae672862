//! Tokenizer shared by every expression grammar.
//!
//! The lexer never fails: a character that starts no token becomes an
//! [`TokenKind::Unknown`] token, so the parser reports it with the same
//! `Syntax error; token: "...", near: "..."` shape AWS uses for any other
//! unexpected token. Keywords (`AND`, `SET`, ...) are plain identifiers here;
//! which words are keywords depends on the grammar and position.

/// One token: its kind and where it sits in the source, as byte offsets
/// (`src[start..end]` is the token's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`: an attribute name, keyword or function name.
    Ident,
    /// `#` followed by one or more `[A-Za-z0-9_]`: an expression attribute name.
    NamePlaceholder,
    /// `:` followed by one or more `[A-Za-z0-9_]`: an expression attribute value.
    ValuePlaceholder,
    /// `[0-9]+`: only meaningful as a list index.
    Number,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// Anything else, one character (or a lone `#` / `:`).
    Unknown,
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits `src` into tokens, skipping ASCII whitespace.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let start = i;
        let kind = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                TokenKind::Ident
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                TokenKind::Number
            }
            b'#' | b':' => {
                i += 1;
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                if i == start + 1 {
                    TokenKind::Unknown
                } else if b == b'#' {
                    TokenKind::NamePlaceholder
                } else {
                    TokenKind::ValuePlaceholder
                }
            }
            b'<' => {
                i += 1;
                match bytes.get(i) {
                    Some(b'>') => {
                        i += 1;
                        TokenKind::Ne
                    }
                    Some(b'=') => {
                        i += 1;
                        TokenKind::Le
                    }
                    _ => TokenKind::Lt,
                }
            }
            b'>' => {
                i += 1;
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    TokenKind::Ge
                } else {
                    TokenKind::Gt
                }
            }
            _ => {
                i += 1;
                match b {
                    b'(' => TokenKind::LParen,
                    b')' => TokenKind::RParen,
                    b'[' => TokenKind::LBracket,
                    b']' => TokenKind::RBracket,
                    b',' => TokenKind::Comma,
                    b'.' => TokenKind::Dot,
                    b'=' => TokenKind::Eq,
                    b'+' => TokenKind::Plus,
                    b'-' => TokenKind::Minus,
                    _ => {
                        // Keep multi-byte characters whole so the token text
                        // is valid UTF-8 and slicing stays on boundaries.
                        while i < bytes.len() && !src.is_char_boundary(i) {
                            i += 1;
                        }
                        TokenKind::Unknown
                    }
                }
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn all_token_kinds() {
        assert_eq!(
            kinds("a_1 #n :v 12 ( ) [ ] , . = <> < <= > >= + -"),
            vec![
                Ident,
                NamePlaceholder,
                ValuePlaceholder,
                Number,
                LParen,
                RParen,
                LBracket,
                RBracket,
                Comma,
                Dot,
                Eq,
                Ne,
                Lt,
                Le,
                Gt,
                Ge,
                Plus,
                Minus
            ]
        );
    }

    #[test]
    fn spans_and_adjacent_tokens() {
        let t = tokenize("a.b[10]<>:x");
        let texts: Vec<&str> = t.iter().map(|t| &"a.b[10]<>:x"[t.start..t.end]).collect();
        assert_eq!(texts, vec!["a", ".", "b", "[", "10", "]", "<>", ":x"]);
    }

    #[test]
    fn unknown_characters_and_lone_sigils() {
        assert_eq!(kinds("# : @ é"), vec![Unknown, Unknown, Unknown, Unknown]);
        let src = "é";
        let t = tokenize(src);
        assert_eq!(&src[t[0].start..t[0].end], "é");
    }

    #[test]
    fn placeholders_may_start_with_digits() {
        assert_eq!(kinds("#1 :0a"), vec![NamePlaceholder, ValuePlaceholder]);
    }

    #[test]
    fn empty_and_whitespace() {
        assert!(tokenize("").is_empty());
        assert!(tokenize(" \t\r\n").is_empty());
    }
}
