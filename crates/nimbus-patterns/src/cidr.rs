//! The `cidr` operator and IP-address literals.
//!
//! EventBridge treats IPv4 and IPv6 addresses as addresses, not text: a
//! `cidr` block matches event strings holding an address inside it, and a
//! bare string that is an address literal matches the same address however
//! it is written (`::1` and `0:0:0:0:0:0:0:1`).
//!
//! As EventBridge does, the block runs from the address as written up to
//! that address with all host bits set: `10.0.0.5/24` covers 10.0.0.5 to
//! 10.0.0.255 (the host bits are not cleared first), and the mask must be
//! below 32 (IPv4) or 128 (IPv6).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::PatternError;

/// An address as bytes: 4 for IPv4, 16 for IPv6 (never compared across).
type Address = Vec<u8>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    low: Address,
    high: Address,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Result<Cidr, PatternError> {
        let bad = |reason: &str| PatternError::Cidr(reason.to_string());
        // Java's String.split drops trailing empty parts: "10.0.0.0/" has one.
        let parts: Vec<&str> = text.split('/').collect();
        let parts = match parts.as_slice() {
            [ip, mask] if !mask.is_empty() => (*ip, *mask),
            _ => return Err(bad("Malformed CIDR, one '/' required")),
        };
        let (ip, mask) = parts;
        let mask: i32 = mask
            .parse()
            .map_err(|_| bad("Malformed CIDR, mask bits must be an integer"))?;
        if mask < 0 {
            return Err(bad("Malformed CIDR, mask bits must not be negative"));
        }
        let low = address(ip)?;
        let bits = (low.len() * 8) as i32;
        if mask >= bits {
            return Err(bad(if bits == 32 {
                "IPv4 mask bits must be < 32"
            } else {
                "IPv6 mask bits must be < 128"
            }));
        }
        let mut high = low.clone();
        let mut host_bits = bits - mask;
        for byte in high.iter_mut().rev() {
            if host_bits >= 8 {
                *byte = 0xff;
            } else if host_bits > 0 {
                *byte |= (1u8 << host_bits) - 1;
            }
            host_bits -= 8;
        }
        Ok(Cidr { low, high })
    }

    pub(crate) fn contains(&self, value: &str) -> bool {
        match address_if_possible(value) {
            Some(a) => a.len() == self.low.len() && self.low <= a && a <= self.high,
            None => false,
        }
    }
}

/// The address a string spells, if it is an IPv4 or IPv6 literal.
pub(crate) fn address_if_possible(text: &str) -> Option<Address> {
    address(text).ok()
}

/// Parses an address literal. Text that does not even look like one is
/// "Nonstandard"; text that looks like one but is not valid is "Invalid".
fn address(text: &str) -> Result<Address, PatternError> {
    let looks_v4 = {
        let groups: Vec<&str> = text.split('.').collect();
        groups.len() == 4
            && groups
                .iter()
                .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    };
    let looks_v6 = text.contains(':') && text.bytes().all(|b| b == b':' || b.is_ascii_hexdigit());
    if looks_v4 {
        text.parse::<Ipv4Addr>()
            .map(|a| a.octets().to_vec())
            .map_err(|_| PatternError::Cidr(format!("Invalid IP address: {text}")))
    } else if looks_v6 {
        text.parse::<Ipv6Addr>()
            .map(|a| a.octets().to_vec())
            .map_err(|_| PatternError::Cidr(format!("Invalid IP address: {text}")))
    } else {
        Err(PatternError::Cidr(format!(
            "Nonstandard IP address: {text}"
        )))
    }
}
