//! Document paths (`a.b[2].c`) after substitution, reading through them, and
//! the rule that two paths of one update or projection may not overlap.

use std::fmt;

use super::{ExprError, ExprKind};
use crate::model::{AttributeValue, Item};

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A map key (or, first, a top-level attribute name), already substituted.
    Attr(String),
    /// A list index.
    Index(usize),
}

/// A document path. It always starts with an attribute name and holds at most
/// [`super::limits::MAX_PATH_DEPTH`] elements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    elements: Vec<PathElement>,
}

impl Path {
    /// Builds a path; `None` if it is empty or does not start with a name.
    pub fn new(elements: Vec<PathElement>) -> Option<Path> {
        match elements.first() {
            Some(PathElement::Attr(_)) => Some(Path { elements }),
            _ => None,
        }
    }

    /// A one-element path naming a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Path {
        Path {
            elements: vec![PathElement::Attr(name.into())],
        }
    }

    pub fn elements(&self) -> &[PathElement] {
        &self.elements
    }

    /// The top-level attribute the path starts at.
    pub fn top_level(&self) -> &str {
        match &self.elements[0] {
            PathElement::Attr(name) => name,
            // `Path::new` guarantees the first element is a name.
            PathElement::Index(_) => "",
        }
    }

    /// Whether the path is a single top-level attribute name.
    pub fn is_top_level(&self) -> bool {
        self.elements.len() == 1
    }

    /// The path in the bracketed form DynamoDB uses in messages:
    /// `a.b[0]` is `[a, b, [0]]`.
    pub(crate) fn bracketed(&self) -> String {
        let parts: Vec<String> = self
            .elements
            .iter()
            .map(|e| match e {
                PathElement::Attr(name) => name.clone(),
                PathElement::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    /// The value at this path in `item`, if every step exists and has the
    /// right type (a name step needs a map, an index step a list).
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let mut current = item.get(self.top_level())?;
        for element in &self.elements[1..] {
            current = step(current, element)?;
        }
        Some(current)
    }
}

/// One step into a value.
pub(crate) fn step<'a>(
    value: &'a AttributeValue,
    element: &PathElement,
) -> Option<&'a AttributeValue> {
    match (value, element) {
        (AttributeValue::M(map), PathElement::Attr(name)) => map.get(name),
        (AttributeValue::L(list), PathElement::Index(i)) => list.get(*i),
        _ => None,
    }
}

/// Displays the path as written in an expression (`a.b[0]`), without
/// placeholders; names are shown raw.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.elements.iter().enumerate() {
            match e {
                PathElement::Attr(name) if i == 0 => f.write_str(name)?,
                PathElement::Attr(name) => write!(f, ".{name}")?,
                PathElement::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How two paths relate, for the rule that the paths of one update (or one
/// projection) must address disjoint parts of the item.
#[derive(Debug, PartialEq, Eq)]
enum Relation {
    /// They address different parts (they differ at some step in a way that
    /// can both hold, like two keys of one map or two indexes of one list).
    Disjoint,
    /// One is the other or a prefix of it.
    Overlap,
    /// At some step one expects a map and the other a list.
    Conflict,
}

fn relation(a: &Path, b: &Path) -> Relation {
    for (x, y) in a.elements.iter().zip(&b.elements) {
        match (x, y) {
            (PathElement::Attr(p), PathElement::Attr(q)) if p != q => return Relation::Disjoint,
            (PathElement::Index(p), PathElement::Index(q)) if p != q => return Relation::Disjoint,
            (PathElement::Attr(_), PathElement::Index(_))
            | (PathElement::Index(_), PathElement::Attr(_)) => return Relation::Conflict,
            _ => {}
        }
    }
    Relation::Overlap
}

/// Rejects the first pair of paths (in the order given) that overlap or
/// conflict, with AWS's messages.
pub(crate) fn check_disjoint<'a>(
    kind: ExprKind,
    paths: impl IntoIterator<Item = &'a Path>,
) -> Result<(), ExprError> {
    let paths: Vec<&Path> = paths.into_iter().collect();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let what = match relation(a, b) {
                Relation::Disjoint => continue,
                Relation::Overlap => "overlap",
                Relation::Conflict => "conflict",
            };
            return Err(ExprError::invalid(
                kind,
                format_args!(
                    "Two document paths {what} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    a.bracketed(),
                    b.bracketed()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use PathElement::{Attr, Index};

    fn p(elements: Vec<PathElement>) -> Path {
        Path::new(elements).unwrap()
    }

    fn a(s: &str) -> PathElement {
        Attr(s.to_string())
    }

    #[test]
    fn construction_and_display() {
        assert!(Path::new(vec![]).is_none());
        assert!(Path::new(vec![Index(0)]).is_none());
        let path = p(vec![a("a"), a("b"), Index(3), a("c")]);
        assert_eq!(path.to_string(), "a.b[3].c");
        assert_eq!(path.bracketed(), "[a, b, [3], c]");
        assert_eq!(path.top_level(), "a");
        assert!(!path.is_top_level());
        assert!(Path::attribute("x").is_top_level());
    }

    #[test]
    fn resolve_through_maps_and_lists() {
        let mut inner = Item::new();
        inner.insert("c".into(), AttributeValue::Bool(true));
        let mut item = Item::new();
        item.insert(
            "a".into(),
            AttributeValue::L(vec![AttributeValue::Null, AttributeValue::M(inner)]),
        );
        assert_eq!(
            p(vec![a("a"), Index(1), a("c")]).resolve(&item),
            Some(&AttributeValue::Bool(true))
        );
        assert_eq!(p(vec![a("a"), Index(2)]).resolve(&item), None);
        assert_eq!(p(vec![a("a"), a("c")]).resolve(&item), None);
        assert_eq!(p(vec![a("a"), Index(0), a("c")]).resolve(&item), None);
        assert_eq!(p(vec![a("zz")]).resolve(&item), None);
    }

    #[test]
    fn relations() {
        let ab = p(vec![a("a"), a("b")]);
        let ac = p(vec![a("a"), a("c")]);
        let a_ = p(vec![a("a")]);
        let a0 = p(vec![a("a"), Index(0)]);
        let a1 = p(vec![a("a"), Index(1)]);
        assert_eq!(relation(&ab, &ac), Relation::Disjoint);
        assert_eq!(relation(&a0, &a1), Relation::Disjoint);
        assert_eq!(relation(&a_, &ab), Relation::Overlap);
        assert_eq!(relation(&ab, &ab), Relation::Overlap);
        assert_eq!(relation(&a0, &ab), Relation::Conflict);
        assert!(check_disjoint(ExprKind::Update, [&ab, &ac, &a_]).is_err());
        assert!(check_disjoint(ExprKind::Update, [&ab, &ac]).is_ok());
        assert_eq!(
            check_disjoint(ExprKind::Projection, [&a0, &ab]).unwrap_err().message,
            "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
        );
    }
}
