//! The parsed statement: plain data, positions kept where DynamoDB's
//! messages print them.

use super::lexer::Pos;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    /// `EXISTS(SELECT ...)`: a condition check inside ExecuteTransaction.
    Exists(Select),
}

impl Statement {
    pub fn is_read(&self) -> bool {
        matches!(self, Statement::Select(_))
    }
}

/// `FROM "table"` or `FROM "table"."index"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub table: String,
    pub index: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub projection: Projection,
    pub source: Source,
    pub filter: Option<Expr>,
    pub order_by: Vec<OrderBy>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    All,
    /// Document paths, each with where it was written.
    Paths(Vec<(Vec<Step>, Pos)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: String,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub source: Source,
    pub actions: Vec<Action>,
    pub filter: Option<Expr>,
    pub returning: Option<Returning>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Set(Vec<Step>, Expr),
    Remove(Vec<Step>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub source: Source,
    pub filter: Option<Expr>,
    pub returning: Option<Returning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    AllOld,
    ModifiedOld,
    AllNew,
    ModifiedNew,
}

impl Returning {
    pub fn text(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL OLD *",
            Returning::ModifiedOld => "MODIFIED OLD *",
            Returning::AllNew => "ALL NEW *",
            Returning::ModifiedNew => "MODIFIED NEW *",
        }
    }

    /// The ReturnValues of the operation it runs as.
    pub fn return_values(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL_OLD",
            Returning::ModifiedOld => "UPDATED_OLD",
            Returning::AllNew => "ALL_NEW",
            Returning::ModifiedNew => "UPDATED_NEW",
        }
    }
}

/// One step of a document path. The first step of a path is always a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Name(String),
    /// `[n]`: a list index (`[ 'k' ]` reads as a name step).
    Index(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    /// The first token of the expression.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
            ArithOp::Concat => "||",
        }
    }
}

/// The type named after `IS`, by its PartiQL name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName(pub String);

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Path(Vec<Step>),
    Lit(Lit),
    /// The n-th `?` of the statement, counted from 0.
    Param(usize),
    List(Vec<Expr>),
    Bag(Vec<Expr>),
    /// `{key: value, ...}`.
    Tuple(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// Chains of one operator are kept flat, so walking a long chain never
    /// recurses deeper than its parentheses do.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Like(Box<Expr>, Box<Expr>),
    Between(Box<Expr>, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>),
    Is(Box<Expr>, TypeName),
    /// A function call; the name is lower-cased (PartiQL function names are
    /// case-insensitive).
    Call(String, Vec<Expr>),
    /// A `SELECT` used as a value, which DynamoDB never runs.
    Subquery,
}

impl Expr {
    pub fn new(kind: ExprKind, pos: Pos) -> Expr {
        Expr { kind, pos }
    }

    /// The path's steps when the expression is a document path.
    pub fn as_path(&self) -> Option<&[Step]> {
        match &self.kind {
            ExprKind::Path(steps) => Some(steps),
            _ => None,
        }
    }

    /// The attribute name when the expression is a bare top-level name.
    pub fn as_name(&self) -> Option<&str> {
        match self.as_path()? {
            [Step::Name(n)] => Some(n),
            _ => None,
        }
    }

    /// The conjuncts of a top-level AND (the expression itself otherwise).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::And(items) => items.iter().collect(),
            _ => vec![self],
        }
    }
}
