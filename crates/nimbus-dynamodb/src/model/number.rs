//! Exact decimal numbers with DynamoDB's precision (38 significant digits) and
//! range (magnitudes 1E-130 to 9.99...E+125), never routed through f64.

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
