//! Exact addition and subtraction, as UpdateExpression `a + b`, `a - b` and
//! `ADD` need them. Results are never rounded: a result that needs more than
//! 38 significant digits is an error, as in DynamoDB.

use std::cmp::Ordering;

use super::{Number, NumberError};

impl Number {
    /// `self + other`, exactly.
    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        combine(self, other.negative, other)
    }

    /// `self - other`, exactly.
    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        combine(self, !other.negative, other)
    }
}

/// `a + (±b)`, where `b_negative` is the sign to give `b`'s magnitude.
fn combine(a: &Number, b_negative: bool, b: &Number) -> Result<Number, NumberError> {
    if b.is_zero() {
        return Ok(a.clone());
    }
    if a.is_zero() {
        let mut result = b.clone();
        result.negative = b_negative;
        return Ok(result);
    }

    // Lay both magnitudes on one column grid. Column k holds the digit of
    // 10^(low + k). Exponents are bounded (-129..=126) and numbers hold at
    // most 38 digits, so the grid is at most a few hundred columns.
    let low = lowest_power(a).min(lowest_power(b));
    let high = i64::from(a.exponent.max(b.exponent)); // one past the top digit
    let width = (high - low) as usize + 1; // + 1 column for a carry
    let a_cols = columns(a, low, width);
    let b_cols = columns(b, low, width);

    let (negative, cols) = if a.negative == b_negative {
        (a.negative, add_columns(&a_cols, &b_cols))
    } else {
        match a.cmp_magnitude(b) {
            Ordering::Equal => return Ok(Number::zero()),
            Ordering::Greater => (a.negative, sub_columns(&a_cols, &b_cols)),
            Ordering::Less => (b_negative, sub_columns(&b_cols, &a_cols)),
        }
    };

    // Back to most-significant-first digits without leading zeros.
    let mut digits: Vec<u8> = cols.iter().rev().copied().skip_while(|&d| d == 0).collect();
    let exponent = low + digits.len() as i64;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    match Number::from_parts(negative, digits, exponent) {
        // A supplied number with too many digits is the client's typo; a
        // computed one is a precision loss DynamoDB refuses differently.
        Err(NumberError::TooManyDigits) => Err(NumberError::Inexact),
        other => other,
    }
}

/// The power of ten of a nonzero number's last significant digit.
fn lowest_power(n: &Number) -> i64 {
    i64::from(n.exponent) - n.digits.len() as i64
}

/// The magnitude's digits, least significant column first, on a grid whose
/// column 0 is 10^low.
fn columns(n: &Number, low: i64, width: usize) -> Vec<u8> {
    let mut cols = vec![0u8; width];
    let last = (lowest_power(n) - low) as usize;
    for (offset, &d) in n.digits.iter().rev().enumerate() {
        cols[last + offset] = d;
    }
    cols
}

fn add_columns(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut carry = 0;
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let sum = x + y + carry;
            carry = sum / 10;
            sum % 10
        })
        .collect()
}

/// `a - b` for magnitudes with `a > b`.
fn sub_columns(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut borrow = 0;
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let subtrahend = y + borrow;
            if x >= subtrahend {
                borrow = 0;
                x - subtrahend
            } else {
                borrow = 1;
                x + 10 - subtrahend
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    fn sum(a: &str, b: &str) -> String {
        n(a).add(&n(b)).unwrap().to_string()
    }

    fn diff(a: &str, b: &str) -> String {
        n(a).sub(&n(b)).unwrap().to_string()
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        assert_eq!(
            sum("1", "10000000000000000000000"),
            "10000000000000000000001"
        );
        assert_eq!(
            diff("10000000000000000000000", "1"),
            "9999999999999999999999"
        );
        assert_eq!(diff("0.3", "0.1"), "0.2");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(
            diff("100000000000000000000.00000001", "1"),
            "99999999999999999999.00000001"
        );
        assert_eq!(sum("-5", "3"), "-2");
        assert_eq!(sum("5", "-3"), "2");
        assert_eq!(sum("-5", "-3"), "-8");
        assert_eq!(diff("3", "5"), "-2");
        assert_eq!(diff("-3", "-5"), "2");
        assert_eq!(diff("1.5", "1.5"), "0");
        assert_eq!(sum("-1.5", "1.5"), "0");
        assert_eq!(sum("0", "-7"), "-7");
        assert_eq!(diff("0", "7"), "-7");
        assert_eq!(diff("0", "-7"), "7");
        assert_eq!(sum("7", "0"), "7");
        assert_eq!(sum("9.99", "0.01"), "10");
        assert_eq!(sum("999", "1"), "1000");
        assert_eq!(diff("1000", "0.001"), "999.999");
        assert_eq!(sum("1e100", "1e100"), format!("2{}", "0".repeat(100)));
        assert_eq!(sum("1e-129", "1e-129"), format!("0.{}2", "0".repeat(128)));
    }

    #[test]
    fn results_keep_dynamodb_limits() {
        let max = "9.9999999999999999999999999999999999999E+125";
        assert_eq!(n(max).add(&n("1E+125")), Err(NumberError::Overflow));
        assert_eq!(n("9e125").add(&n("9e125")), Err(NumberError::Overflow));
        assert_eq!(n("9e125").sub(&n("-9e125")), Err(NumberError::Overflow));
        assert_eq!(n("-9e125").sub(&n("9e125")), Err(NumberError::Overflow));
        assert_eq!(n("2e-130").sub(&n("1.5e-130")), Err(NumberError::Underflow));
        assert_eq!(n("1e50").add(&n("1")), Err(NumberError::Inexact));
        assert_eq!(n("1e50").sub(&n("1")), Err(NumberError::Inexact));
        assert_eq!(n("1e125").add(&n("1e-130")), Err(NumberError::Inexact));
        // 38 digits exactly is fine.
        let digits38 = "1".repeat(38);
        assert_eq!(sum(&digits38, "0"), digits38);
        assert_eq!(
            sum(&format!("{}0", "1".repeat(37)), "1"),
            format!("{}1", "1".repeat(37))
        );
        assert_eq!(n(&digits38).add(&n("0.1")), Err(NumberError::Inexact));
        // Max plus a negligible-but-representable amount that cancels out.
        assert_eq!(n(max).sub(&n(max)).unwrap(), Number::zero());
    }
}
