//! Feeds arbitrary text to every expression parser and runs whatever parses
//! against a small item. The property is the one the server relies on: no
//! input panics or overflows the stack; everything is Ok or an ExprError.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use nimbus_dynamodb::expr::{
    parse_condition, parse_key_condition, parse_projection, parse_update, ExprKind, Substitutions,
};
use nimbus_dynamodb::model::{AttributeValue, Item};

fn substitutions() -> Substitutions {
    let names: HashMap<String, String> = [("#a", "a"), ("#b", "b.c"), ("#s", "status")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values: HashMap<String, AttributeValue> = [
        (":s", AttributeValue::S("x".into())),
        (":n", AttributeValue::N("1".parse().expect("number"))),
        (":l", AttributeValue::L(vec![AttributeValue::Null])),
        (":ss", AttributeValue::Ss(vec!["x".into()])),
        (":m", AttributeValue::M(Item::new())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Substitutions::new(Some(names), Some(values))
}

fn sample() -> Item {
    let mut item = Item::new();
    item.insert("a".into(), AttributeValue::N("5".parse().expect("number")));
    item.insert(
        "l".into(),
        AttributeValue::L(vec![AttributeValue::S("x".into())]),
    );
    item.insert("m".into(), AttributeValue::M(item.clone()));
    item
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut subs = substitutions();
    if let Ok(c) = parse_condition(text, ExprKind::Filter, &mut subs) {
        let _ = c.evaluate(&sample());
        let _ = c.evaluate(&Item::new());
    }
    if let Ok(u) = parse_update(text, &mut subs) {
        let mut item = sample();
        let _ = u.apply(&mut item);
        let mut empty = Item::new();
        let _ = u.apply(&mut empty);
        let _ = u.top_level_attributes();
    }
    if let Ok(p) = parse_projection(text, &mut subs) {
        let _ = p.apply(&sample());
    }
    let _ = parse_key_condition(text, &mut subs, "a", Some("b"));
    let _ = subs.check_all_used();
});
