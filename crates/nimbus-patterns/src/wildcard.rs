//! The `wildcard` operator: `*` stands for any run of characters (possibly
//! none), `\*` is a literal star and `\\` a literal backslash; any other
//! backslash and any `**` are refused, with EventBridge's positions.

use crate::error::PatternError;

/// A parsed wildcard: the literal pieces between stars. `a*b*c` is
/// `["a", "b", "c"]`; `*` alone is `["", ""]`; no star at all is one piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    pieces: Vec<String>,
}

impl Wildcard {
    pub(crate) fn parse(text: &str) -> Result<Wildcard, PatternError> {
        // EventBridge reports byte positions in the quoted string (`"a**"`
        // puts the first star at 2), so every position is offset by one.
        const QUOTE: usize = 1;
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut current = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(PatternError::ConsecutiveWildcards(i + QUOTE));
                    }
                    pieces.push(std::mem::take(&mut current));
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(next @ (b'*' | b'\\')) => {
                        current.push(*next);
                        i += 1;
                    }
                    _ => return Err(PatternError::InvalidEscape(i + QUOTE)),
                },
                other => current.push(other),
            }
            i += 1;
        }
        pieces.push(current);
        // Splitting valid UTF-8 at ASCII bytes leaves valid UTF-8 pieces.
        let pieces = pieces
            .into_iter()
            .map(|p| String::from_utf8(p).unwrap_or_default())
            .collect();
        Ok(Wildcard { pieces })
    }

    /// Whether `value` matches. Greedy left-to-right placement of the middle
    /// pieces is enough for stars-only patterns (no backtracking needed), so
    /// this is linear-ish in the value and never exponential.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return value.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return value == first;
        };
        if value.len() < first.len() + last.len()
            || !value.starts_with(first.as_str())
            || !value.ends_with(last.as_str())
        {
            return false;
        }
        let mut window = &value[first.len()..value.len() - last.len()];
        for piece in middle {
            match window.find(piece.as_str()) {
                Some(at) => window = &window[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert_eq!(Wildcard::parse("a*b").unwrap().pieces, vec!["a", "b"]);
        assert_eq!(Wildcard::parse("*").unwrap().pieces, vec!["", ""]);
        assert_eq!(Wildcard::parse(r"a\*b").unwrap().pieces, vec!["a*b"]);
        assert_eq!(Wildcard::parse(r"a\\*").unwrap().pieces, vec![r"a\", ""]);
    }

    #[test]
    fn overlapping_prefix_and_suffix_need_room() {
        let w = Wildcard::parse("ab*ba").unwrap();
        assert!(!w.matches("aba"));
        assert!(w.matches("abba"));
    }
}
