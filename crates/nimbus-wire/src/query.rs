//! awsQuery request parameters grouped by their dotted names, the first step
//! of decoding a query request: `A.1.B=x` becomes `A -> 1 -> B -> "x"`.
//! Each service then reads the tree with its own protocol conventions
//! (SQS's flattened lists and maps, SNS's `member` / `entry` wrappers).

use std::collections::BTreeMap;

/// A parameter value, or the parameters below a dotted name.
#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

/// Groups a request's parameters by name, leaving out the protocol's own
/// (`Action`, `Version`, and the SigV4 `X-Amz-*` of a presigned request).
/// When two parameters have one name the first wins; when `A=x` and `A.1=y`
/// both come, the one that cannot be placed is dropped.
pub fn group(params: &[(String, String)]) -> BTreeMap<String, Node> {
    let mut tree = BTreeMap::new();
    for (name, value) in params {
        if matches!(name.as_str(), "Action" | "Version") || name.starts_with("X-Amz-") {
            continue;
        }
        insert(&mut tree, &name.split('.').collect::<Vec<_>>(), value);
    }
    tree
}

fn insert(children: &mut BTreeMap<String, Node>, path: &[&str], value: &str) {
    match path {
        [] => {}
        [last] => {
            children
                .entry((*last).to_owned())
                .or_insert_with(|| Node::Leaf(value.to_owned()));
        }
        [head, rest @ ..] => {
            let child = children
                .entry((*head).to_owned())
                .or_insert_with(|| Node::Branch(BTreeMap::new()));
            if let Node::Branch(grand) = child {
                insert(grand, rest, value);
            }
        }
    }
}

/// Owned parameters from string pairs, for in-process callers and tests.
pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The children of an indexed member (`X.1`, `X.2`, ...) in index order;
/// indexes that are not numbers are not members and are skipped.
pub fn indexed(children: BTreeMap<String, Node>) -> Vec<Node> {
    let mut items: Vec<(u64, Node)> = children
        .into_iter()
        .filter_map(|(index, node)| index.parse::<u64>().ok().map(|i| (i, node)))
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, node)| node).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_dotted_names() {
        let tree = group(&params(&[
            ("Action", "X"),
            ("Version", "1"),
            ("X-Amz-Date", "d"),
            ("A.2.B", "second"),
            ("A.10.B", "tenth"),
            ("A.x.B", "not indexed"),
            ("C", "first"),
            ("C", "dropped"),
            ("C.1", "cannot be placed"),
        ]));
        assert_eq!(tree.len(), 2);
        assert_eq!(tree["C"], Node::Leaf("first".into()));
        let Some(Node::Branch(a)) = tree.into_iter().next().map(|(_, n)| n) else {
            panic!("A is a branch");
        };
        let items = indexed(a);
        assert_eq!(items.len(), 2);
        let leaf = |n: &Node| match n {
            Node::Branch(m) => m["B"] == Node::Leaf("second".into()),
            Node::Leaf(_) => false,
        };
        assert!(leaf(&items[0]));
    }
}
