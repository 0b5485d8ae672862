//! `application/x-www-form-urlencoded` decoding, shared by presigned SigV4
//! query strings and (later) awsQuery request bodies.

/// Iterates over the decoded `(name, value)` pairs of a query string or form
/// body. Invalid percent escapes are kept literally rather than rejected: the
/// caller decides whether a strange value is an error, and a decoder that
/// cannot fail cannot be used to crash the server.
pub fn pairs(input: &str) -> impl Iterator<Item = (String, String)> + '_ {
    input
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
}

/// The first value of `name` (compared exactly, after decoding), if any.
pub fn get(input: &str, name: &str) -> Option<String> {
    pairs(input).find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Percent-decodes one component; `+` means a space in form encoding.
pub fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&hi), Some(&lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                    out.push(hex_value(hi) << 4 | hex_value(lo));
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Decoded bytes may not be UTF-8; replacing keeps this total.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(decode("a%2Fb+c"), "a/b c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn finds_first_value() {
        let q =
            "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fdynamodb%2Faws4_request&flag&a=1&a=2";
        assert_eq!(
            get(q, "X-Amz-Credential").as_deref(),
            Some("AKID/20240101/us-east-1/dynamodb/aws4_request")
        );
        assert_eq!(get(q, "flag").as_deref(), Some(""));
        assert_eq!(get(q, "a").as_deref(), Some("1"));
        assert_eq!(get(q, "missing"), None);
    }
}
