//! An order-preserving, self-delimiting byte form of numbers for storage
//! keys: comparing two encodings with memcmp gives the numeric order, and an
//! encoding is never a proper prefix of another, so a number can be followed
//! by more key bytes.
//!
//! Layout: a class byte (negative < zero < positive), then for nonzero
//! numbers an exponent byte and the digits packed two per byte, then a
//! terminator. Negative numbers complement the exponent and digit bytes so
//! larger magnitudes sort first, and end with a terminator above every digit
//! byte, so -1.25 (more digits, larger magnitude) sorts before -1.2.

use super::{Number, MAX_DIGITS, MIN_EXPONENT};

const NEGATIVE: u8 = 0x01;
const ZERO: u8 = 0x02;
const POSITIVE: u8 = 0x03;
/// Ends a positive number: below every positive digit byte (1..=100).
const POSITIVE_END: u8 = 0x00;
/// Ends a negative number: above every negative digit byte (154..=253).
const NEGATIVE_END: u8 = 0xFF;
/// Negative digit bytes are `COMPLEMENT - positive byte`.
const COMPLEMENT: u8 = 0xFE;

impl Number {
    /// Appends the order-preserving encoding of this number to `out`.
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(ZERO);
            return;
        }
        // Normalized exponents span -129..=126: exactly one byte.
        let exponent = (i64::from(self.exponent) - MIN_EXPONENT) as u8;
        let pairs = self.digits.chunks(2).map(|pair| {
            // Two digits as 1..=100; 0 is left for the positive terminator.
            // A lone last digit pads with 0, which cannot collide with a real
            // pair because normalized digits never end in 0.
            1 + pair[0] * 10 + pair.get(1).copied().unwrap_or(0)
        });
        if self.negative {
            out.push(NEGATIVE);
            out.push(u8::MAX - exponent);
            out.extend(pairs.map(|byte| COMPLEMENT - byte));
            out.push(NEGATIVE_END);
        } else {
            out.push(POSITIVE);
            out.push(exponent);
            out.extend(pairs);
            out.push(POSITIVE_END);
        }
    }

    /// Decodes exactly one encoded number filling all of `bytes`.
    pub fn decode_ordered(bytes: &[u8]) -> Option<Number> {
        match Number::decode_ordered_prefix(bytes)? {
            (number, used) if used == bytes.len() => Some(number),
            _ => None,
        }
    }

    /// Decodes the number at the start of `bytes`, returning it and how many
    /// bytes it took. Rejects anything [`Number::encode_ordered`] would not
    /// produce, so a decoded number re-encodes to the same bytes.
    pub fn decode_ordered_prefix(bytes: &[u8]) -> Option<(Number, usize)> {
        let (&class, rest) = bytes.split_first()?;
        let negative = match class {
            ZERO => return Some((Number::zero(), 1)),
            NEGATIVE => true,
            POSITIVE => false,
            _ => return None,
        };
        let (&exponent_byte, rest) = rest.split_first()?;
        let exponent_byte = if negative {
            u8::MAX - exponent_byte
        } else {
            exponent_byte
        };
        let end = if negative { NEGATIVE_END } else { POSITIVE_END };

        let mut digits = Vec::with_capacity(MAX_DIGITS);
        let mut used = 2;
        for &raw in rest {
            used += 1;
            if raw == end {
                // A lone last digit was padded with 0; real digits never end
                // in 0, so a trailing 0 can only be that padding.
                if digits.last() == Some(&0) {
                    digits.pop();
                }
                let valid = digits.first().is_some_and(|&d| d != 0)
                    && digits.last().is_some_and(|&d| d != 0)
                    && digits.len() <= MAX_DIGITS;
                if !valid {
                    return None;
                }
                let exponent = i32::from(exponent_byte) + MIN_EXPONENT as i32;
                return Some((
                    Number {
                        negative,
                        digits,
                        exponent,
                    },
                    used,
                ));
            }
            let byte = if negative {
                COMPLEMENT.checked_sub(raw)?
            } else {
                raw
            };
            let pair = byte.checked_sub(1).filter(|&p| p < 100)?;
            if digits.len() >= MAX_DIGITS {
                return None;
            }
            digits.push(pair / 10);
            digits.push(pair % 10);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    fn enc(number: &Number) -> Vec<u8> {
        let mut out = Vec::new();
        number.encode_ordered(&mut out);
        out
    }

    /// Small deterministic generator so the property checks need no crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }
    }

    /// A random valid number, biased toward shared prefixes and nearby
    /// exponents so that the interesting comparisons actually happen.
    fn random_number(rng: &mut XorShift) -> Number {
        let max_len = if rng.below(4) == 0 { 38 } else { 4 };
        let len = 1 + rng.below(max_len) as usize;
        let mut text = String::new();
        if rng.below(2) == 0 {
            text.push('-');
        }
        for i in 0..len {
            let digit = if i == 0 {
                1 + rng.below(2)
            } else {
                let spread = if rng.below(3) == 0 { 10 } else { 3 };
                rng.below(spread)
            };
            text.push(char::from(b'0' + digit as u8));
        }
        let exponent = if rng.below(5) == 0 {
            rng.below(250) as i64 - 125 - len as i64 + 1
        } else {
            rng.below(7) as i64 - 3
        };
        text.push_str(&format!("e{exponent}"));
        if rng.below(20) == 0 {
            return Number::zero();
        }
        Number::parse(&text).unwrap_or_else(|_| Number::zero())
    }

    #[test]
    fn memcmp_order_matches_numeric_order() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let numbers: Vec<Number> = (0..600).map(|_| random_number(&mut rng)).collect();
        for a in &numbers {
            let ea = enc(a);
            for b in &numbers {
                assert_eq!(ea.cmp(&enc(b)), a.cmp(b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn prefix_cases_order_correctly() {
        let sorted = [
            "-9.9999999999999999999999999999999999999E+125",
            "-1e125",
            "-1.25",
            "-1.2",
            "-1.05",
            "-1",
            "-1e-130",
            "0",
            "1e-130",
            "1",
            "1.05",
            "1.2",
            "1.25",
            "1.2500001",
            "12",
            "1e125",
            "9.9999999999999999999999999999999999999E+125",
        ];
        for pair in sorted.windows(2) {
            assert!(
                enc(&n(pair[0])) < enc(&n(pair[1])),
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn self_delimiting_with_trailing_bytes() {
        for text in [
            "0",
            "1.2",
            "-1.25",
            "123456789",
            "-1e-130",
            "9.9999999999999999999999999999999999999E+125",
        ] {
            let number = n(text);
            let mut bytes = enc(&number);
            let len = bytes.len();
            bytes.extend_from_slice(&[0x00, 0xFF, 0x42]);
            assert_eq!(
                Number::decode_ordered_prefix(&bytes),
                Some((number.clone(), len))
            );
            assert_eq!(Number::decode_ordered(&bytes[..len]), Some(number));
            assert_eq!(Number::decode_ordered(&bytes), None);
        }
    }

    #[test]
    fn decodes_what_it_encodes() {
        let mut rng = XorShift(42);
        for _ in 0..2000 {
            let number = random_number(&mut rng);
            assert_eq!(Number::decode_ordered(&enc(&number)), Some(number));
        }
    }

    #[test]
    fn rejects_malformed_bytes() {
        for bytes in [
            &[][..],
            &[0x00],
            &[0x04],
            &[POSITIVE],
            &[POSITIVE, 129],
            &[POSITIVE, 129, 11],         // no terminator
            &[POSITIVE, 129, 1, 0],       // leading zero digits
            &[POSITIVE, 129, 11, 1, 0],   // trailing zero pair
            &[POSITIVE, 129, 101, 0],     // pair out of range
            &[NEGATIVE, 126, 0xFE, 0xFF], // complement of 0
            &[NEGATIVE, 126, 200],        // no terminator
        ] {
            assert_eq!(Number::decode_ordered(bytes), None, "{bytes:?}");
        }
        let mut too_long = vec![POSITIVE, 200];
        too_long.extend(std::iter::repeat_n(12, 20));
        too_long.push(POSITIVE_END);
        assert_eq!(Number::decode_ordered(&too_long), None);
    }
}
