//! Projection expressions: which attributes (or nested parts) of an item a
//! read returns.
//!
//! ```text
//! projection ::= path ( ',' path )*
//! ```
//!
//! Nested parts keep their place in the document: projecting `a.b` returns
//! `{a: {b: ...}}`, and projecting `l[1]` and `l[3]` returns `l` as a list of
//! those two elements, in index order.

use std::collections::BTreeMap;

use super::lexer::TokenKind;
use super::parser::Parser;
use super::path::{check_disjoint, step, Path, PathElement};
use super::subst::Substitutions;
use super::{ExprError, ExprKind};
use crate::model::{AttributeValue, Item};

/// A parsed projection expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub paths: Vec<Path>,
}

pub fn parse_projection(expr: &str, subs: &mut Substitutions) -> Result<Projection, ExprError> {
    let mut p = Parser::new(expr, ExprKind::Projection)?;
    let mut paths = vec![p.path(subs)?];
    while p.peek() == Some(TokenKind::Comma) {
        p.advance();
        paths.push(p.path(subs)?);
    }
    p.finish()?;
    check_disjoint(ExprKind::Projection, &paths)?;
    Ok(Projection { paths })
}

/// The projected document while it is being assembled: list elements are
/// kept by their original index until the end, when they are compacted.
enum Partial {
    Whole(AttributeValue),
    Map(BTreeMap<String, Partial>),
    List(BTreeMap<usize, Partial>),
}

impl Partial {
    fn finish(self) -> AttributeValue {
        match self {
            Partial::Whole(v) => v,
            Partial::Map(m) => {
                AttributeValue::M(m.into_iter().map(|(k, v)| (k, v.finish())).collect())
            }
            Partial::List(l) => AttributeValue::L(l.into_values().map(Partial::finish).collect()),
        }
    }
}

impl Projection {
    /// The parts of `item` the projection names; paths that lead nowhere
    /// contribute nothing.
    pub fn apply(&self, item: &Item) -> Item {
        let mut out: BTreeMap<String, Partial> = BTreeMap::new();
        for path in &self.paths {
            let Some(top) = item.get(path.top_level()) else {
                continue;
            };
            let rest = &path.elements()[1..];
            // Check the whole path exists before creating anything for it.
            let mut value = top;
            let mut found = true;
            for element in rest {
                match step(value, element) {
                    Some(next) => value = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            let slot = out
                .entry(path.top_level().to_string())
                .or_insert_with(|| container_for(rest.first(), top));
            insert(slot, rest, value);
        }
        out.into_iter().map(|(k, v)| (k, v.finish())).collect()
    }
}

/// An empty container for the step `next`, or the whole value if the path
/// ends here.
fn container_for(next: Option<&PathElement>, value: &AttributeValue) -> Partial {
    match next {
        None => Partial::Whole(value.clone()),
        Some(PathElement::Attr(_)) => Partial::Map(BTreeMap::new()),
        Some(PathElement::Index(_)) => Partial::List(BTreeMap::new()),
    }
}

/// Places `leaf` (the value at the end of `rest`) into `slot`. Paths of one
/// projection never overlap or conflict (the parser refuses that), so the
/// containers met on the way always have the expected shape.
fn insert(slot: &mut Partial, rest: &[PathElement], leaf: &AttributeValue) {
    let Some((first, tail)) = rest.split_first() else {
        *slot = Partial::Whole(leaf.clone());
        return;
    };
    let child = match (slot, first) {
        (Partial::Map(map), PathElement::Attr(name)) => map
            .entry(name.clone())
            .or_insert_with(|| container_for(tail.first(), leaf)),
        (Partial::List(list), PathElement::Index(i)) => list
            .entry(*i)
            .or_insert_with(|| container_for(tail.first(), leaf)),
        _ => return,
    };
    insert(child, tail, leaf);
}
