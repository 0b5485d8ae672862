//! Numbers as EventBridge compares them.
//!
//! EventBridge's numeric matching works on values between -5.0e9 and +5.0e9
//! with six digits after the decimal point: internally every number becomes
//! an integer count of millionths. We do the same with exact decimal
//! arithmetic on the number's text (never through `f64` arithmetic, so 0.3 is
//! 300000 millionths, not 299999.99...).
//!
//! Pattern numbers must be representable (else the pattern is refused). Event
//! numbers may carry more decimals: they are kept as the floor in millionths
//! plus a flag saying "and a bit more", which keeps every comparison exact.
//! Event numbers outside the range cannot be compared and never match a
//! numeric condition (they can still equal a literal of the same text).

use serde_json::Number;

/// Largest magnitude, in millionths: 5e9 * 1e6.
const LIMIT_MICROS: i128 = 5_000_000_000_000_000;

/// An event number in millionths: the value is `micros` plus, when `rest` is
/// set, a positive amount smaller than one millionth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comparable {
    pub micros: i64,
    pub rest: bool,
}

impl Comparable {
    pub fn eq(self, bound: i64) -> bool {
        self.micros == bound && !self.rest
    }
    pub fn gt(self, bound: i64) -> bool {
        self.micros > bound || (self.micros == bound && self.rest)
    }
    pub fn ge(self, bound: i64) -> bool {
        self.micros >= bound
    }
    pub fn lt(self, bound: i64) -> bool {
        self.micros < bound
    }
    pub fn le(self, bound: i64) -> bool {
        self.micros < bound || (self.micros == bound && !self.rest)
    }
}

/// Why a pattern number is not usable for numeric matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberProblem {
    OutOfRange,
    TooManyDecimals,
}

/// A pattern number as exact millionths, or why it cannot be one.
pub(crate) fn pattern_micros(n: &Number) -> Result<i64, NumberProblem> {
    match comparable(n) {
        None => Err(NumberProblem::OutOfRange),
        Some(c) if c.rest => Err(NumberProblem::TooManyDecimals),
        Some(c) => Ok(c.micros),
    }
}

/// An event number in comparable form, or `None` when outside +-5.0e9.
pub(crate) fn comparable(n: &Number) -> Option<Comparable> {
    // serde_json prints integers exactly and floats in the shortest form that
    // reads back to the same f64, so this text is the number we were given.
    from_decimal_text(&n.to_string())
}

/// Parses JSON number text (`-12.5e3`) into millionths, exactly.
fn from_decimal_text(text: &str) -> Option<Comparable> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], unsigned[i + 1..].parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b.wrapping_sub(b'0'))
        .collect();
    if digits.iter().any(|d| *d > 9) {
        return None;
    }
    // value = digits * 10^shift millionths
    let shift = exponent
        .checked_sub(frac_part.len() as i64)?
        .checked_add(6)?;
    let (whole_digits, rest) = if shift >= 0 {
        (digits.as_slice(), false)
    } else {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        let keep = digits.len().saturating_sub(drop);
        (&digits[..keep], digits[keep..].iter().any(|d| *d != 0))
    };
    let mut magnitude: i128 = 0;
    for d in whole_digits {
        magnitude = magnitude.checked_mul(10)?.checked_add(i128::from(*d))?;
        if magnitude > LIMIT_MICROS {
            return None;
        }
    }
    if shift > 0 && magnitude != 0 {
        for _ in 0..shift {
            magnitude = magnitude.checked_mul(10)?;
            if magnitude > LIMIT_MICROS {
                return None;
            }
        }
    }
    if magnitude == LIMIT_MICROS && rest {
        return None;
    }
    let magnitude = i64::try_from(magnitude).ok()?;
    Some(if negative && (magnitude != 0 || rest) {
        // floor of a negative number with a fractional rest is one lower
        Comparable {
            micros: -magnitude - i64::from(rest),
            rest,
        }
    } else {
        Comparable {
            micros: magnitude,
            rest,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str) -> Option<Comparable> {
        from_decimal_text(text)
    }

    #[test]
    fn exact_decimal_conversion() {
        assert_eq!(
            c("0.3").unwrap(),
            Comparable {
                micros: 300_000,
                rest: false
            }
        );
        assert_eq!(c("3.018e2").unwrap().micros, 301_800_000);
        assert_eq!(c("5000000000").unwrap().micros, 5_000_000_000_000_000);
        assert_eq!(c("-5e9").unwrap().micros, -5_000_000_000_000_000);
        assert!(c("5000000000.000001").is_none());
        assert!(c("5e300").is_none());
        assert_eq!(
            c("1e-300").unwrap(),
            Comparable {
                micros: 0,
                rest: true
            }
        );
        assert_eq!(
            c("-1e-300").unwrap(),
            Comparable {
                micros: -1,
                rest: true
            }
        );
        assert_eq!(
            c("-0").unwrap(),
            Comparable {
                micros: 0,
                rest: false
            }
        );
        assert_eq!(
            c("0e999999").unwrap(),
            Comparable {
                micros: 0,
                rest: false
            }
        );
        assert_eq!(
            c("1.0000001").unwrap(),
            Comparable {
                micros: 1_000_000,
                rest: true
            }
        );
        assert_eq!(
            c("-1.5").unwrap(),
            Comparable {
                micros: -1_500_000,
                rest: false
            }
        );
    }

    #[test]
    fn comparisons_with_rest_are_exact() {
        let x = c("1.0000001").unwrap();
        assert!(x.gt(1_000_000) && x.ge(1_000_000) && !x.eq(1_000_000));
        assert!(x.lt(1_000_001) && x.le(1_000_001) && !x.le(1_000_000));
        let y = c("-1.0000001").unwrap();
        assert!(y.lt(-1_000_000) && !y.ge(-1_000_000) && y.gt(-1_000_001));
    }
}
