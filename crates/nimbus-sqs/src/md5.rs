//! MD5 (RFC 1321) and the digests SQS returns: `MD5OfMessageBody` and
//! `MD5OfMessageAttributes`. SDKs recompute both and reject a mismatch, so
//! they must be bit-exact.
//!
//! The attribute digest covers the attributes sorted by name; each one is
//! encoded as: name length (u32 BE) and name, data type length (u32 BE) and
//! data type, one transport byte (1 = string value, 2 = binary value), then
//! value length (u32 BE) and value bytes.

use std::collections::BTreeMap;

use crate::model::AttributeValue;

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// `floor(abs(sin(i + 1)) * 2^32)`, computed once.
fn constants() -> [u32; 64] {
    let mut k = [0u32; 64];
    for (i, slot) in k.iter_mut().enumerate() {
        *slot = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32;
    }
    k
}

/// The 16-byte MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let k = constants();
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_le_bytes());
    for block in message.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (i, word) in m.iter_mut().enumerate() {
            *word = u32::from_le_bytes([
                block[i * 4],
                block[i * 4 + 1],
                block[i * 4 + 2],
                block[i * 4 + 3],
            ]);
        }
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, word) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// Lower-case hex MD5, as SQS returns it.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(md5(data))
}

/// `MD5OfMessageAttributes` of a set of message attributes (sorted by name,
/// which a `BTreeMap` already is).
pub fn message_attributes_md5(attributes: &BTreeMap<String, AttributeValue>) -> String {
    let mut buf = Vec::new();
    let field = |buf: &mut Vec<u8>, bytes: &[u8]| {
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    for (name, value) in attributes {
        field(&mut buf, name.as_bytes());
        field(&mut buf, value.data_type.as_bytes());
        match &value.binary_value {
            Some(bytes) => {
                buf.push(2);
                field(&mut buf, bytes);
            }
            None => {
                buf.push(1);
                field(
                    &mut buf,
                    value.string_value.as_deref().unwrap_or("").as_bytes(),
                );
            }
        }
    }
    md5_hex(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1321_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"message digest"),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    fn string(data_type: &str, value: &str) -> AttributeValue {
        AttributeValue {
            data_type: data_type.into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    #[test]
    fn attribute_digests_match_published_values() {
        let mut attrs = BTreeMap::new();
        attrs.insert("attribName1".to_owned(), string("String", "attribValue 1"));
        assert_eq!(
            message_attributes_md5(&attrs),
            "19e27d4e946b072f3f58da80d94fd778"
        );

        let mut attrs = BTreeMap::new();
        attrs.insert(
            "binaryAttribute".to_owned(),
            AttributeValue {
                data_type: "Binary".into(),
                string_value: None,
                binary_value: Some(b"Hello binary world!".to_vec()),
            },
        );
        assert_eq!(
            message_attributes_md5(&attrs),
            "31a92b15d92f8db860eda32aceb656c3"
        );

        attrs.insert("attribName1".to_owned(), string("String", "attribValue 1"));
        attrs.insert(
            "customNumberTypeAttrib".to_owned(),
            string("Number.float", "4563442423554324324264524243.32543234"),
        );
        assert_eq!(
            message_attributes_md5(&attrs),
            "c932db14a896c663f83c260297d594ff"
        );
    }
}
