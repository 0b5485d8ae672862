//! Small helpers for the keys and counters services keep in the store.

/// The first key after every key that starts with `prefix`: the exclusive
/// end of a prefix scan.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

/// A stored big-endian `u64` counter; absent (or malformed) reads as 0.
pub fn read_u64(bytes: Option<Vec<u8>>) -> u64 {
    bytes
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"nq"), b"nr".to_vec());
        assert_eq!(prefix_end(&[1, 0xff]), vec![2]);
        assert_eq!(prefix_end(&[0xff, 0xff]), vec![0xff, 0xff, 0xff]);
    }

    #[test]
    fn counters() {
        assert_eq!(read_u64(None), 0);
        assert_eq!(read_u64(Some(7u64.to_be_bytes().to_vec())), 7);
        assert_eq!(read_u64(Some(vec![1, 2])), 0);
    }
}
