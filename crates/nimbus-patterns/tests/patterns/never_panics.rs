//! Property-style: random patterns and random (deeply nested) events never
//! panic, and parsing is deterministic. A small xorshift generator keeps the
//! crate free of extra dependencies and the runs reproducible.

use nimbus_patterns::Pattern;
use serde_json::{json, Map, Value};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const KEYS: &[&str] = &[
    "a", "b", "detail", "$or", "prefix", "numeric", "x.y", "", "é",
];
const OPS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "exists",
    "numeric",
    "anything-but",
    "cidr",
    "",
];
const STRINGS: &[&str] = &[
    "", "a", "A", "*", "a*b", "\\*", "\\", "**", "init", "é", ">", "<=", "=",
];

fn scalar(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.below(20) as i64 - 10),
        3 => json!((rng.below(2_000_000) as f64 - 1e6) / 1e3),
        4 => json!(f64::from_bits(0x4340_0000_0000_0000 + rng.below(1 << 20))),
        5 => json!(u64::MAX - rng.below(10)),
        _ => json!(rng.pick(STRINGS)),
    }
}

/// Anything JSON, nested up to `depth`.
fn value(rng: &mut Rng, depth: u32) -> Value {
    if depth == 0 || rng.below(4) == 0 {
        return scalar(rng);
    }
    match rng.below(3) {
        0 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(rng.pick(KEYS).to_string(), value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// Pattern-shaped JSON: mostly plausible, sometimes broken.
fn pattern(rng: &mut Rng, depth: u32) -> Value {
    let mut map = Map::new();
    for _ in 0..=rng.below(3) {
        let key = rng.pick(KEYS).to_string();
        let v = if key == "$or" {
            Value::Array(
                (0..rng.below(4))
                    .map(|_| pattern(rng, depth.saturating_sub(1)))
                    .collect(),
            )
        } else if depth > 0 && rng.below(3) == 0 {
            pattern(rng, depth - 1)
        } else if rng.below(10) == 0 {
            value(rng, 2)
        } else {
            // Mostly non-empty, so that most patterns reach the matcher.
            Value::Array((0..=rng.below(3)).map(|_| condition(rng)).collect())
        };
        map.insert(key, v);
    }
    Value::Object(map)
}

fn condition(rng: &mut Rng) -> Value {
    if rng.below(2) == 0 {
        return scalar(rng);
    }
    let op = rng.pick(OPS);
    let operand = match rng.below(4) {
        0 => json!(rng.pick(STRINGS)),
        1 => json!([
            rng.pick(&[">", ">=", "=", "<", "<="]),
            scalar(rng),
            rng.pick(&["<", "<=", ">"]),
            scalar(rng)
        ]),
        2 => json!({ rng.pick(OPS): value(rng, 1) }),
        _ => value(rng, 2),
    };
    json!({ op: operand })
}

#[test]
fn random_patterns_and_events_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for _ in 0..3000 {
        let text = pattern(&mut rng, 4).to_string();
        let first = Pattern::parse(&text);
        assert_eq!(
            first,
            Pattern::parse(&text),
            "parsing is deterministic: {text}"
        );
        if let Ok(compiled) = first {
            accepted += 1;
            for _ in 0..10 {
                let event = value(&mut rng, 8);
                let once = compiled.matches(&event);
                assert_eq!(once, compiled.matches(&event));
            }
        }
    }
    // The generator must exercise the matcher, not only the error paths.
    assert!(accepted > 300, "only {accepted} random patterns were valid");
}

#[test]
fn random_text_never_panics() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let alphabet: Vec<char> = "{}[]\",:0123456789.eE-+ aé*\\$ortruefalsnul"
        .chars()
        .collect();
    for _ in 0..5000 {
        let len = rng.below(64) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
            .collect();
        let _ = Pattern::parse(&text);
    }
}

#[test]
fn deep_random_events_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let patterns: Vec<Pattern> = [
        r#"{"a": {"a": {"a": ["x"]}}}"#,
        r#"{"a": [{"exists": false}]}"#,
        r#"{"$or": [{"a": {"b": [{"numeric": [">", 0]}]}}, {"b": [{"anything-but": {"wildcard": "*a*"}}]}]}"#,
        r#"{"detail": {"a": [{"wildcard": "*é*"}, {"prefix": {"equals-ignore-case": "A"}}, null]}}"#,
    ]
    .iter()
    .map(|p| Pattern::parse(p).unwrap())
    .collect();
    for _ in 0..300 {
        // Deep chains of random containers, beyond anything serde would parse.
        let mut event = value(&mut rng, 3);
        for _ in 0..rng.below(2000) {
            // Moved in, not json!(): that macro serializes its operands.
            event = match rng.below(3) {
                0 => Value::Array(vec![event, scalar(&mut rng)]),
                1 => Value::Object(Map::from_iter([(rng.pick(KEYS).to_string(), event)])),
                _ => Value::Array(vec![event]),
            };
        }
        for p in &patterns {
            let _ = p.matches(&event);
        }
        // See limits.rs: serde_json drops recursively; a 2000-deep value is
        // within what the test thread's stack can drop, but keep it explicit.
        std::mem::forget(event);
    }
}
