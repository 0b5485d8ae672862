//! Exact decimal numbers with DynamoDB's precision (38 significant digits) and
//! range (magnitudes 1E-130 to 9.99...E+125), never routed through f64.
//!
//! This file holds the type, parsing, canonical text and ordering. Arithmetic
//! lives in `number/arith.rs`, the order-preserving byte form in
//! `number/ordered.rs`.

use std::cmp::Ordering;
use std::fmt;

mod arith;
mod ordered;

/// Most significant digits a number may carry.
pub const MAX_DIGITS: usize = 38;
/// Largest allowed `exponent` (see [`Number`]): 9.99..E+125 is 0.999..E+126.
const MAX_EXPONENT: i64 = 126;
/// Smallest allowed `exponent`: 1E-130 is 0.1E-129.
const MIN_EXPONENT: i64 = -129;

/// A DynamoDB number, always normalized (no leading or trailing zeros in the
/// significand), so equal numbers are equal structurally.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant decimal digits, each 0..=9, no leading or trailing zeros.
    /// Empty means zero.
    digits: Vec<u8>,
    /// Value = 0.d1d2d3... * 10^exponent.
    exponent: i32,
}

/// Why a text or a computation is not a DynamoDB number. [`NumberError::message`]
/// is the ValidationException text DynamoDB returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Not number syntax; holds the offending text, which DynamoDB echoes.
    Invalid(String),
    /// Magnitude above 9.9999999999999999999999999999999999999E+125.
    Overflow,
    /// Nonzero magnitude below 1E-130.
    Underflow,
    /// More than 38 significant digits in a supplied number.
    TooManyDigits,
    /// An addition or subtraction whose exact result needs more than 38
    /// significant digits. DynamoDB reports this with its overflow text (for
    /// example `1e50 + 1`), so the message is the overflow one; the variant
    /// stays separate so callers can tell the cases apart.
    Inexact,
}

impl NumberError {
    /// DynamoDB's exact ValidationException message for this error.
    pub fn message(&self) -> String {
        match self {
            // An empty value gets the bare sentence; anything else is echoed
            // after a colon, as DynamoDB does.
            NumberError::Invalid(text) if text.is_empty() => {
                "The parameter cannot be converted to a numeric value".to_string()
            }
            NumberError::Invalid(text) => {
                format!("The parameter cannot be converted to a numeric value: {text}")
            }
            NumberError::Overflow | NumberError::Inexact => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
                    .to_string()
            }
            NumberError::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
                    .to_string()
            }
            NumberError::TooManyDigits => {
                "Attempting to store more than 38 significant digits in a Number".to_string()
            }
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for NumberError {}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Parses DynamoDB number text, which follows Java's `BigDecimal`
    /// grammar: an optional `+` or `-`, digits with an optional `.` (either
    /// side may be empty but not both: `.5` and `5.` are numbers), then an
    /// optional exponent `e`/`E` with an optional sign and at least one digit.
    /// No whitespace, no `NaN`/`Infinity`, no hex. Leading and trailing zeros
    /// are insignificant; `-0` is zero.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let invalid = || NumberError::Invalid(text.to_string());
        let bytes = text.as_bytes();
        let mut pos = 0;

        let negative = match bytes.first() {
            Some(b'-') => {
                pos += 1;
                true
            }
            Some(b'+') => {
                pos += 1;
                false
            }
            _ => false,
        };

        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_digits = &bytes[int_start..pos];
        let mut frac_digits: &[u8] = &[];
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_digits = &bytes[frac_start..pos];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(invalid());
        }

        let mut exp: i64 = 0;
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            let exp_negative = match bytes.get(pos) {
                Some(b'-') => {
                    pos += 1;
                    true
                }
                Some(b'+') => {
                    pos += 1;
                    false
                }
                _ => false,
            };
            let exp_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                // BigDecimal refuses exponents beyond an int, so do we; the
                // bound also keeps the arithmetic below from overflowing.
                exp = exp * 10 + i64::from(bytes[pos] - b'0');
                if exp > i64::from(i32::MAX) + 1 {
                    return Err(invalid());
                }
                pos += 1;
            }
            if pos == exp_start {
                return Err(invalid());
            }
            if exp_negative {
                exp = -exp;
            }
            if exp > i64::from(i32::MAX) {
                return Err(invalid());
            }
        }
        if pos != bytes.len() {
            return Err(invalid());
        }

        let all = int_digits.iter().chain(frac_digits.iter());
        let significant: Vec<u8> = all.skip_while(|&&d| d == b'0').map(|d| d - b'0').collect();
        if significant.is_empty() {
            // Any spelling of zero, whatever its exponent ("0e1000" is fine).
            return Ok(Number::zero());
        }
        // Position of the decimal point relative to the first significant
        // digit: digits before the point, minus the fraction shift, plus exp.
        let exponent = significant.len() as i64 - frac_digits.len() as i64 + exp;
        Number::from_parts(negative, significant, exponent)
    }

    /// Builds a number from significant digits (leading digit nonzero, may
    /// carry trailing zeros) and an exponent, checking DynamoDB's limits in
    /// DynamoDB's order: magnitude first, then precision.
    fn from_parts(
        negative: bool,
        mut digits: Vec<u8>,
        exponent: i64,
    ) -> Result<Number, NumberError> {
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        if exponent > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if exponent < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooManyDigits);
        }
        Ok(Number {
            negative,
            digits,
            // Bounded by MIN_EXPONENT..=MAX_EXPONENT just above.
            exponent: exponent as i32,
        })
    }

    /// Bytes this number counts toward an item's size. AWS documents "about
    /// 1 byte per two significant digits, plus 1 byte"; measurements against
    /// DynamoDB refine it: digits are packed in pairs on each side of the
    /// decimal point separately (so `1.5` costs 3 while `15` costs 2), and a
    /// negative number costs one byte more. Zero costs 1 byte.
    pub fn approx_size(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        // Digits at or above the units place, and below it.
        let len = self.digits.len() as i64;
        let exponent = i64::from(self.exponent);
        let int_digits = exponent.clamp(0, len) as usize;
        let frac_digits = self.digits.len() - int_digits;
        1 + int_digits.div_ceil(2) + frac_digits.div_ceil(2) + usize::from(self.negative)
    }

    /// Magnitude comparison, ignoring signs.
    fn cmp_magnitude(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        // Normalized: a larger exponent means a larger magnitude; with equal
        // exponents the digit strings compare lexicographically (a proper
        // prefix is smaller because the longer one's extra digits are not all
        // zero).
        self.exponent
            .cmp(&other.exponent)
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let class = |n: &Number| match (n.is_zero(), n.negative) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => 2,
        };
        match class(self).cmp(&class(other)) {
            Ordering::Equal if self.negative => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Canonical text as DynamoDB returns it: plain notation, never an exponent
/// (1E+125 comes back as a 1 followed by 125 zeros), no trailing zeros.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut out = String::with_capacity(self.digits.len() + 132);
        if self.negative {
            out.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let len = self.digits.len() as i64;
        let exponent = i64::from(self.exponent);
        if exponent <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent) as usize));
            out.extend(self.digits.iter().map(digit));
        } else if exponent < len {
            let split = exponent as usize;
            out.extend(self.digits[..split].iter().map(digit));
            out.push('.');
            out.extend(self.digits[split..].iter().map(digit));
        } else {
            out.extend(self.digits.iter().map(digit));
            out.extend(std::iter::repeat_n('0', (exponent - len) as usize));
        }
        f.write_str(&out)
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Number, NumberError> {
        Number::parse(text)
    }
}

/// Numbers travel as their canonical text, as DynamoDB JSON carries them.
impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        struct NumberText;

        impl serde::de::Visitor<'_> for NumberText {
            type Value = Number;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DynamoDB number as a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Number, E> {
                Number::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(NumberText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn normalizes_to_dynamodb_text() {
        let cases = [
            ("1", "1"),
            ("-0.50", "-0.5"),
            ("1.50", "1.5"),
            ("1e3", "1000"),
            ("1E+3", "1000"),
            ("1.5E2", "150"),
            ("+5", "5"),
            ("+1.5", "1.5"),
            ("+0", "0"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("0e1000", "0"),
            ("0.00001", "0.00001"),
            (".5", "0.5"),
            ("5.", "5"),
            ("00042", "42"),
            ("0001.23", "1.23"),
            ("1.0", "1"),
            ("-17e5", "-1700000"),
            ("-7.1234", "-7.1234"),
            ("123.456e-5", "0.00123456"),
            ("12e-1", "1.2"),
        ];
        for (input, expected) in cases {
            assert_eq!(n(input).to_string(), expected, "input {input}");
        }
    }

    #[test]
    fn extremes_print_in_plain_notation() {
        let big = format!("1{}", "0".repeat(125));
        assert_eq!(n("1e125").to_string(), big);
        let tiny = format!("0.{}1", "0".repeat(129));
        assert_eq!(n("1e-130").to_string(), tiny);
        assert_eq!(n(&big), n("1E+125"));
        assert_eq!(n(&tiny), n("1E-130"));
        let max = "9.9999999999999999999999999999999999999E+125";
        assert_eq!(
            n(max).to_string(),
            format!("{}{}", "9".repeat(38), "0".repeat(88))
        );
        assert_eq!(
            n(&format!("-{max}")).to_string(),
            format!("-{}{}", "9".repeat(38), "0".repeat(88))
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "0",
            "1",
            "-1",
            "0.1",
            "12.5",
            "-0.0001",
            "123456789",
            "1e100",
            "-1e-129",
            "31415926535897932384626433832795028841e30",
            "3.1415926535897932384626433832795028841",
            "314159265358979323846.26433832795028841",
        ] {
            let number = n(text);
            assert_eq!(n(&number.to_string()), number, "{text}");
        }
    }

    #[test]
    fn rejects_what_dynamodb_rejects() {
        for text in [
            "",
            " 1",
            "1 ",
            " ",
            "NaN",
            "Infinity",
            "-Infinity",
            "-NaN",
            "dog",
            "-dog",
            ".",
            "-",
            "+",
            "1e",
            "1e+",
            "e5",
            "+e2",
            "1+2",
            "1.2.3",
            "1..2",
            "0x10",
            "1_000",
            "1,5",
            "--1",
            "+-1",
            "1e5.5",
            "1 000",
            "١",
            "\"42.0\"",
            "1e2147483648",
            "1e99999999999999999999",
        ] {
            assert_eq!(
                Number::parse(text),
                Err(NumberError::Invalid(text.into())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn invalid_messages_echo_the_value() {
        assert_eq!(
            Number::parse("").unwrap_err().message(),
            "The parameter cannot be converted to a numeric value"
        );
        assert_eq!(
            Number::parse("b").unwrap_err().message(),
            "The parameter cannot be converted to a numeric value: b"
        );
    }

    #[test]
    fn enforces_range_and_precision() {
        assert_eq!(Number::parse("1e126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("-1e126"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("11e125"), Err(NumberError::Overflow));
        assert_eq!(Number::parse("1e-131"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("-1e-131"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("0.9e-130"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("1e-2147483648"), Err(NumberError::Underflow));
        assert_eq!(Number::parse("1e2147483647"), Err(NumberError::Overflow));
        assert_eq!(
            Number::parse("123456789012345678901234567890123456789"),
            Err(NumberError::TooManyDigits)
        );
        assert_eq!(
            Number::parse("-1.23456789012345678901234567890123456789"),
            Err(NumberError::TooManyDigits)
        );
        assert_eq!(
            Number::parse("314159265358979323846264338327950288419e30"),
            Err(NumberError::TooManyDigits)
        );
        // Magnitude is checked before precision.
        assert_eq!(
            Number::parse(&format!("{}e200", "1".repeat(40))),
            Err(NumberError::Overflow)
        );
        // Zeros beyond 38 digits are not significant.
        assert_eq!(n(&format!("1.{}", "0".repeat(100))), n("1"));
        assert_eq!(n(&format!("{}1", "0".repeat(100))), n("1"));
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
    }

    #[test]
    fn error_messages_are_dynamodbs() {
        assert_eq!(
            NumberError::Overflow.message(),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
        assert_eq!(
            NumberError::Underflow.message(),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        );
        assert_eq!(
            NumberError::TooManyDigits.message(),
            "Attempting to store more than 38 significant digits in a Number"
        );
        assert_eq!(
            NumberError::Inexact.message(),
            NumberError::Overflow.message()
        );
    }

    #[test]
    fn orders_numerically() {
        let sorted = [
            "-1e125", "-100", "-10", "-9.5", "-1.25", "-1.2", "-1", "-0.5", "-1e-130", "0",
            "1e-130", "0.001", "0.5", "1", "1.2", "1.25", "9.5", "10", "100", "1e125",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(n(a).cmp(&n(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!(n("-0"), Number::zero());
    }

    #[test]
    fn zero_and_sign() {
        assert!(Number::zero().is_zero());
        assert!(!Number::zero().is_negative());
        assert!(n("-0").is_zero() && !n("-0").is_negative());
        assert!(n("-3").is_negative());
        assert!(!n("3").is_negative() && !n("3").is_zero());
    }

    #[test]
    fn size_follows_measured_rule() {
        // The documented examples: about 1 byte per two digits plus 1.
        assert_eq!(n("0").approx_size(), 1);
        assert_eq!(n("27").approx_size(), 2);
        assert_eq!(n("461").approx_size(), 3);
        assert_eq!(n("-27").approx_size(), 3);
        assert_eq!(n("1786461547").approx_size(), 6);
        assert_eq!(n("1.5").approx_size(), 3);
        assert_eq!(n("123.456").approx_size(), 5);
        assert_eq!(n("0.001").approx_size(), 2);
        assert_eq!(n("1e125").approx_size(), 2);
        // Large integers whose digits stop far above the units place.
        assert_eq!(n(&format!("11{}", "0".repeat(124))).approx_size(), 2);
        assert_eq!(n(&format!("11111{}", "0".repeat(121))).approx_size(), 4);
        assert_eq!(n(&format!("111111{}", "0".repeat(120))).approx_size(), 4);
        assert_eq!(n(&format!("1111111{}", "0".repeat(119))).approx_size(), 5);
        assert_eq!(
            n(&format!("{}{}", "1".repeat(38), "0".repeat(88))).approx_size(),
            20
        );
        assert_eq!(n("-1.5").approx_size(), 4);
    }

    #[test]
    fn serde_uses_canonical_text() {
        let number: Number = serde_json::from_str("\"1.50\"").unwrap();
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"1.5\"");
        assert!(serde_json::from_str::<Number>("\"x\"").is_err());
        assert!(serde_json::from_str::<Number>("15").is_err());
    }
}
