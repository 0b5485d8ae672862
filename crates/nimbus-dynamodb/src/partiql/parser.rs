//! PartiQL statements, parsed by recursive descent (expressions by operator
//! precedence).
//!
//! DynamoDB reads statements with the reference PartiQL parser and then
//! refuses what it does not support, so two kinds of errors come out:
//! syntax errors, reported at once in the parser's words inside "Statement
//! wasn't well formed, can't be processed: ...", and refusals of
//! constructs that parse (an alias, LIMIT, a function in a projection),
//! which DynamoDB only reports when the whole statement has parsed. The
//! parser keeps the first refusal and reports it after the last token, so a
//! statement with both gets the syntax error, as on DynamoDB.
//!
//! Grammar (DynamoDB's subset, plus what must parse to be refused well):
//!
//! ```text
//! statement := (select | insert | update | delete | from-dml | exists) [';']
//! select    := SELECT (* | item (, item)*) FROM source [WHERE expr]
//!              [ORDER BY expr [ASC|DESC] (, ...)*]
//! insert    := INSERT INTO simple-path VALUE expr
//! update    := UPDATE simple-path (SET assign (, assign)* | REMOVE simple-path)+
//!              [WHERE expr] [RETURNING (ALL|MODIFIED) (OLD|NEW) *]
//! delete    := DELETE FROM simple-path [WHERE expr] [RETURNING ALL OLD *]
//! from-dml  := FROM simple-path [WHERE expr] (SET ... | REMOVE ...)+ [RETURNING ...]
//! exists    := EXISTS ( select )
//! ```
//!
//! Nesting (parentheses, NOT, literals inside literals, operator chains) is
//! bounded, so no statement can exhaust the stack.

use super::ast::*;
use super::error::{self, invalid, malformed, PartiqlError};
use super::lexer::{tokenize, Pos, Tok, Token};

/// Deepest nesting the parser accepts. DynamoDB's 8 KB statement limit
/// bounds nesting too, but not below what a recursive parser can afford.
pub const MAX_DEPTH: usize = 100;

/// A parsed statement and how many `?` it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub statement: Statement,
    pub parameters: usize,
}

pub fn parse(src: &str) -> Result<Parsed, PartiqlError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
        parameters: 0,
        deferred: None,
    };
    let statement = p.statement()?;
    if p.peek_is(&Tok::Semicolon) {
        p.i += 1;
        if !p.at_end() {
            return Err(malformed(
                "Unexpected token after semicolon. (Only one query is allowed.)",
            ));
        }
    }
    if !p.at_end() {
        return Err(malformed("Unexpected token after expression"));
    }
    if let Some(e) = p.deferred {
        return Err(e);
    }
    Ok(Parsed {
        statement,
        parameters: p.parameters,
    })
}

/// SQL-92's reserved words and PartiQL's own: bare, they are never names.
const KEYWORDS: &[&str] = &[
    "absolute",
    "action",
    "add",
    "all",
    "allocate",
    "alter",
    "and",
    "any",
    "are",
    "as",
    "asc",
    "assertion",
    "at",
    "authorization",
    "avg",
    "bag",
    "begin",
    "between",
    "bit",
    "bit_length",
    "blob",
    "bool",
    "boolean",
    "both",
    "by",
    "can_cast",
    "can_lossless_cast",
    "cascade",
    "cascaded",
    "case",
    "cast",
    "catalog",
    "char",
    "char_length",
    "character",
    "character_length",
    "check",
    "clob",
    "close",
    "coalesce",
    "collate",
    "collation",
    "column",
    "commit",
    "conflict",
    "connect",
    "connection",
    "constraint",
    "constraints",
    "continue",
    "convert",
    "corresponding",
    "count",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "date",
    "date_add",
    "date_diff",
    "day",
    "deallocate",
    "dec",
    "decimal",
    "declare",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "describe",
    "descriptor",
    "diagnostics",
    "disconnect",
    "distinct",
    "do",
    "domain",
    "double",
    "drop",
    "else",
    "end",
    "escape",
    "except",
    "exception",
    "exclude",
    "exec",
    "execute",
    "exists",
    "external",
    "extract",
    "false",
    "fetch",
    "first",
    "float",
    "for",
    "foreign",
    "found",
    "from",
    "full",
    "get",
    "global",
    "go",
    "goto",
    "grant",
    "group",
    "having",
    "hour",
    "identity",
    "immediate",
    "in",
    "index",
    "indicator",
    "initially",
    "inner",
    "input",
    "insensitive",
    "insert",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isolation",
    "join",
    "key",
    "language",
    "last",
    "leading",
    "left",
    "let",
    "level",
    "like",
    "limit",
    "list",
    "local",
    "lower",
    "match",
    "max",
    "min",
    "minute",
    "missing",
    "modified",
    "module",
    "month",
    "names",
    "national",
    "natural",
    "nchar",
    "new",
    "next",
    "no",
    "not",
    "nothing",
    "null",
    "nullif",
    "numeric",
    "octet_length",
    "of",
    "offset",
    "old",
    "on",
    "only",
    "open",
    "option",
    "or",
    "order",
    "outer",
    "output",
    "overlaps",
    "pad",
    "partial",
    "pivot",
    "position",
    "precision",
    "prepare",
    "preserve",
    "primary",
    "prior",
    "privileges",
    "procedure",
    "public",
    "read",
    "real",
    "references",
    "relative",
    "remove",
    "replace",
    "restrict",
    "returning",
    "revoke",
    "right",
    "rollback",
    "rows",
    "schema",
    "scroll",
    "second",
    "section",
    "select",
    "session",
    "session_user",
    "set",
    "sexp",
    "size",
    "smallint",
    "some",
    "space",
    "sql",
    "sqlcode",
    "sqlerror",
    "sqlstate",
    "string",
    "struct",
    "substring",
    "sum",
    "symbol",
    "system_user",
    "table",
    "temporary",
    "then",
    "time",
    "timestamp",
    "timezone_hour",
    "timezone_minute",
    "to",
    "trailing",
    "transaction",
    "translate",
    "trim",
    "true",
    "tuple",
    "union",
    "unique",
    "unknown",
    "unpivot",
    "update",
    "upper",
    "upsert",
    "usage",
    "user",
    "using",
    "value",
    "values",
    "varchar",
    "varying",
    "view",
    "when",
    "whenever",
    "where",
    "with",
    "work",
    "write",
    "year",
    "zone",
];

/// Keywords that name a function when a parenthesis follows.
const FUNCTION_KEYWORDS: &[&str] = &[
    "avg",
    "bag",
    "bit_length",
    "cast",
    "char_length",
    "character_length",
    "coalesce",
    "count",
    "date_add",
    "date_diff",
    "exists",
    "extract",
    "list",
    "lower",
    "max",
    "min",
    "nullif",
    "octet_length",
    "position",
    "sexp",
    "size",
    "substring",
    "sum",
    "trim",
    "upper",
];

/// Keywords the reference parser lexes as operators.
const OPERATOR_WORDS: &[&str] = &["and", "between", "in", "is", "like", "or"];

/// PartiQL's type names (after `IS`), with the name DynamoDB prints.
const TYPE_NAMES: &[(&str, &str)] = &[
    ("any", "ANY"),
    ("bag", "BAG"),
    ("bigint", "INTEGER8"),
    ("blob", "BLOB"),
    ("bool", "BOOLEAN"),
    ("boolean", "BOOLEAN"),
    ("char", "CHARACTER"),
    ("character", "CHARACTER"),
    ("clob", "CLOB"),
    ("date", "DATE"),
    ("dec", "DECIMAL"),
    ("decimal", "DECIMAL"),
    ("double", "DOUBLE_PRECISION"),
    ("float", "FLOAT"),
    ("int", "INTEGER"),
    ("int2", "SMALLINT"),
    ("int4", "INTEGER4"),
    ("int8", "INTEGER8"),
    ("integer", "INTEGER"),
    ("integer2", "SMALLINT"),
    ("integer4", "INTEGER4"),
    ("integer8", "INTEGER8"),
    ("list", "LIST"),
    ("missing", "MISSING"),
    ("null", "NULL"),
    ("numeric", "NUMERIC"),
    ("real", "REAL"),
    ("sexp", "SEXP"),
    ("smallint", "SMALLINT"),
    ("string", "STRING"),
    ("struct", "STRUCT"),
    ("symbol", "SYMBOL"),
    ("time", "TIME"),
    ("timestamp", "TIMESTAMP"),
    ("tuple", "TUPLE"),
    ("varchar", "CHARACTER_VARYING"),
];

pub fn is_keyword(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    KEYWORDS.binary_search(&lower.as_str()).is_ok()
}

/// Operator precedence, as the reference parser ranks it.
mod prec {
    pub const OR: u8 = 10;
    pub const AND: u8 = 20;
    pub const NOT: u8 = 30;
    pub const EQUALITY: u8 = 40;
    pub const COMPARISON: u8 = 50;
    pub const ADDITION: u8 = 60;
    pub const MULTIPLICATION: u8 = 70;
}

#[derive(Debug, Clone, Copy)]
enum Infix {
    Or,
    And,
    Cmp(CmpOp),
    Arith(ArithOp),
    Is { negated: bool },
    In { negated: bool },
    Between { negated: bool },
    Like { negated: bool },
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    parameters: usize,
    /// The first construct that parsed but DynamoDB refuses.
    deferred: Option<PartiqlError>,
}

impl Parser {
    // ---- cursor ---------------------------------------------------------

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.i)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.i + ahead)
    }

    fn peek_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn at_end(&self) -> bool {
        self.i >= self.tokens.len()
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(word))
    }

    fn word_at(&self, ahead: usize, word: &str) -> bool {
        self.peek_at(ahead).is_some_and(|t| t.is_word(word))
    }

    fn pos(&self) -> Pos {
        self.peek()
            .or_else(|| self.tokens.last())
            .map(|t| t.pos)
            .unwrap_or_default()
    }

    /// Steps over the current token when `matched`; says whether it did.
    fn step_if(&mut self, matched: bool) -> bool {
        if matched {
            self.i += 1;
        }
        matched
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        self.step_if(self.peek_is(tok))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        self.step_if(self.at_word(word))
    }

    fn expect(&mut self, tok: Tok, name: &str) -> Result<(), PartiqlError> {
        if self.eat(&tok) {
            Ok(())
        } else {
            Err(malformed(&format!("Expected {name}")))
        }
    }

    /// A bare identifier that is not a keyword, or a quoted one.
    fn name_here(&self) -> Option<String> {
        match &self.peek()?.tok {
            Tok::Ident(s) if !is_keyword(s) => Some(s.clone()),
            Tok::Quoted(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn defer(&mut self, e: PartiqlError) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    fn enter(&mut self) -> Result<(), PartiqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(malformed(&format!(
                "Statement nesting exceeds {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- statements -----------------------------------------------------

    fn statement(&mut self) -> Result<Statement, PartiqlError> {
        if self.at_word("select") {
            return self.select().map(Statement::Select);
        }
        if self.at_word("insert") && self.word_at(1, "into") {
            return self.insert().map(Statement::Insert);
        }
        if self.at_word("update") {
            return self.update(false).map(Statement::Update);
        }
        if self.at_word("delete") {
            return self.delete().map(Statement::Delete);
        }
        if self.at_word("from") {
            return self.update(true).map(Statement::Update);
        }
        if self.at_word("exists")
            && self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen)
            && self.word_at(2, "select")
        {
            self.i += 2;
            let select = self.select()?;
            self.expect(Tok::RParen, "RIGHT_PAREN")?;
            return Ok(Statement::Exists(select));
        }
        // Any other expression parses, and is then refused by its kind.
        let e = self.expr(0)?;
        let kind = operation_name(&e);
        self.defer(invalid(format!("Unsupported operation: {kind}")));
        Ok(Statement::Select(Select {
            projection: Projection::All,
            source: Source {
                table: String::new(),
                index: None,
            },
            filter: None,
            order_by: vec![],
        }))
    }

    fn select(&mut self) -> Result<Select, PartiqlError> {
        self.i += 1; // SELECT
        if self.eat_word("distinct") {
            self.defer(invalid("Unsupported clause: DISTINCT"));
        } else {
            self.eat_word("all");
        }
        let projection = if self.at_word("value") {
            self.i += 1;
            self.expr(0)?;
            self.defer(invalid(error::SELECT_VALUE));
            Projection::All
        } else {
            self.projection()?
        };
        if !self.eat_word("from") {
            return Err(malformed("Expected FROM after SELECT list"));
        }
        let source = self.select_source()?;
        let filter = self.where_clause()?;
        if self.at_word("group") {
            self.i += 1;
            if !self.eat_word("by") {
                return Err(malformed("Expected BY"));
            }
            self.expr_list()?;
            self.defer(invalid("Unsupported clause: GROUP BY"));
        }
        if self.eat_word("having") {
            self.expr(0)?;
            self.defer(invalid("Unsupported clause: HAVING"));
        }
        let mut order_by = Vec::new();
        if self.at_word("order") {
            self.i += 1;
            if !self.eat_word("by") {
                return Err(malformed("Expected BY"));
            }
            loop {
                let expr = self.expr(0)?;
                let descending = if self.eat_word("desc") {
                    true
                } else {
                    self.eat_word("asc");
                    false
                };
                order_by.push(OrderBy { expr, descending });
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        for clause in ["limit", "offset"] {
            if self.eat_word(clause) {
                self.expr(0)?;
                self.defer(invalid(format!(
                    "Unsupported clause: {}",
                    clause.to_ascii_uppercase()
                )));
            }
        }
        Ok(Select {
            projection,
            source,
            filter,
            order_by,
        })
    }

    fn projection(&mut self) -> Result<Projection, PartiqlError> {
        let mut star = false;
        let mut items = Vec::new();
        let mut count = 0;
        loop {
            count += 1;
            if self.eat(&Tok::Star) {
                star = true;
            } else {
                let e = self.expr(0)?;
                match &e.kind {
                    ExprKind::Path(steps) => items.push((steps.clone(), e.pos)),
                    _ => self.defer(invalid(format!("Unexpected path component{}", e.pos.at()))),
                }
                self.alias()?;
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        if star && count > 1 {
            return Err(malformed(
                "Other expressions may not be present in the select list when '*' is used without dot notation.",
            ));
        }
        Ok(if star {
            Projection::All
        } else {
            Projection::Paths(items)
        })
    }

    /// `[AS] name`, `AT name`, `BY name` after a projection item or a
    /// source: they parse, and DynamoDB refuses them.
    fn alias(&mut self) -> Result<(), PartiqlError> {
        for keyword in ["as", "at", "by"] {
            if self.eat_word(keyword) {
                if self.name_here().is_none() {
                    return Err(malformed(&format!(
                        "Expected identifier for {}-alias",
                        keyword.to_ascii_uppercase()
                    )));
                }
                self.i += 1;
                self.defer(invalid(error::ALIASING));
                return Ok(());
            }
        }
        if self.name_here().is_some() {
            self.i += 1;
            self.defer(invalid(error::ALIASING));
        }
        Ok(())
    }

    /// A SELECT's FROM: a table or `table.index`, refusing aliases and
    /// joins once parsed.
    fn select_source(&mut self) -> Result<Source, PartiqlError> {
        if self.name_here().is_none() {
            // A literal or any other expression parses as a source.
            self.expr(0)?;
            self.defer(invalid("Unexpected from source"));
            self.alias()?;
            return Ok(Source {
                table: String::new(),
                index: None,
            });
        }
        let source = self.source_path(false)?;
        self.alias()?;
        loop {
            if self.eat(&Tok::Comma) {
                self.select_source()?;
                self.defer(invalid(error::SINGLE_SOURCE));
                continue;
            }
            let mut n = 0;
            while ["cross", "inner", "left", "right", "outer", "full"]
                .iter()
                .any(|w| self.word_at(n, w))
            {
                n += 1;
            }
            if !self.word_at(n, "join") {
                break;
            }
            self.i += n + 1;
            self.select_source()?;
            if self.eat_word("on") {
                self.expr(0)?;
            }
            self.defer(invalid(error::SINGLE_SOURCE));
        }
        Ok(source)
    }

    /// `name(.name)*` naming a table and maybe an index. In a DML statement
    /// the reference parser wants a simple path, and says so.
    fn source_path(&mut self, dml: bool) -> Result<Source, PartiqlError> {
        let Some(first) = self.name_here() else {
            return Err(if dml {
                malformed("Expected identifier for simple path")
            } else {
                self.term_error()
            });
        };
        self.i += 1;
        let mut parts = vec![first];
        while self.eat(&Tok::Dot) {
            match self.name_here() {
                Some(n) => {
                    self.i += 1;
                    parts.push(n);
                }
                None if self.peek_is(&Tok::Star) && dml => {
                    return Err(malformed("Invalid path dot component for simple path"))
                }
                None => return Err(malformed("Invalid path dot component")),
            }
        }
        if parts.iter().any(String::is_empty) {
            self.defer(invalid(error::EMPTY_COMPONENT));
        } else if parts.len() > 2 {
            self.defer(invalid(error::FROM_COMPONENTS));
        } else if !valid_table_name(&parts[0]) {
            self.defer(invalid(error::TABLE_NAME));
        }
        let mut parts = parts.into_iter();
        Ok(Source {
            table: parts.next().unwrap_or_default(),
            index: parts.next(),
        })
    }

    fn where_clause(&mut self) -> Result<Option<Expr>, PartiqlError> {
        if self.eat_word("where") {
            Ok(Some(self.expr(0)?))
        } else {
            Ok(None)
        }
    }

    fn insert(&mut self) -> Result<Insert, PartiqlError> {
        self.i += 2; // INSERT INTO
        let source = self.source_path(true)?;
        if source.index.is_some() {
            self.defer(invalid(error::ON_INDEX));
        }
        let value = if self.eat_word("value") {
            let value = self.expr(0)?;
            if self.eat_word("at") {
                self.expr(0)?;
                self.defer(invalid(error::INSERT_AT));
            }
            value
        } else {
            let values = self.expr(0)?;
            self.defer(invalid(error::INSERT_MANY));
            values
        };
        if self.at_word("returning") {
            self.returning()?;
            self.defer(invalid(error::INSERT_RETURNING));
        }
        Ok(Insert {
            table: source.table,
            value,
        })
    }

    /// `UPDATE table SET ... [WHERE ...]`, or PartiQL's FROM-first form
    /// `FROM table [WHERE ...] SET ...` (`from_first`).
    fn update(&mut self, from_first: bool) -> Result<Update, PartiqlError> {
        self.i += 1; // UPDATE or FROM
        let source = self.source_path(true)?;
        self.alias()?;
        let (filter, actions) = if from_first {
            let filter = self.where_clause()?;
            (filter, self.dml_actions()?)
        } else {
            let actions = self.dml_actions()?;
            (self.where_clause()?, actions)
        };
        let returning = self.optional_returning()?;
        Ok(Update {
            source,
            actions,
            filter,
            returning,
        })
    }

    fn delete(&mut self) -> Result<Delete, PartiqlError> {
        self.i += 1; // DELETE
        if !self.eat_word("from") {
            return Err(malformed("Expected FROM after DELETE"));
        }
        let source = self.source_path(true)?;
        self.alias()?;
        let filter = self.where_clause()?;
        let returning = self.optional_returning()?;
        Ok(Delete {
            source,
            filter,
            returning,
        })
    }

    /// One or more `SET a = v, ...` and `REMOVE a` clauses, in any order.
    fn dml_actions(&mut self) -> Result<Vec<Action>, PartiqlError> {
        let mut actions = Vec::new();
        loop {
            if self.eat_word("set") {
                if self.at_end() {
                    return Err(malformed("Expected assignment for SET"));
                }
                loop {
                    let target = self.simple_path()?;
                    if !self.eat(&Tok::Eq) {
                        return Err(malformed("Expected '='"));
                    }
                    let value = self.expr(0)?;
                    actions.push(Action::Set(target, value));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
            } else if self.eat_word("remove") {
                actions.push(Action::Remove(self.simple_path()?));
            } else {
                break;
            }
        }
        if actions.is_empty() {
            return Err(malformed("Expected data manipulation"));
        }
        Ok(actions)
    }

    /// A path made of names and literal indexes only (an assignment target).
    fn simple_path(&mut self) -> Result<Vec<Step>, PartiqlError> {
        let Some(root) = self.name_here() else {
            return Err(malformed("Expected identifier for simple path"));
        };
        self.i += 1;
        let mut steps = vec![Step::Name(root)];
        loop {
            if self.eat(&Tok::Dot) {
                match self.name_here() {
                    Some(n) => {
                        self.i += 1;
                        steps.push(Step::Name(n));
                    }
                    None if self.peek_is(&Tok::Star) => {
                        return Err(malformed("Invalid path dot component for simple path"))
                    }
                    None => return Err(malformed("Invalid path dot component")),
                }
            } else if self.eat(&Tok::LBracket) {
                let index = self.expr(0)?;
                self.expect(Tok::RBracket, "RIGHT_BRACKET")?;
                match &index.kind {
                    ExprKind::Lit(Lit::Num(_) | Lit::Str(_)) => {
                        steps.push(self.bracket_step(&index));
                    }
                    _ => return Err(malformed("Invalid path component for simple path")),
                }
            } else {
                return Ok(steps);
            }
        }
    }

    fn optional_returning(&mut self) -> Result<Option<Returning>, PartiqlError> {
        if self.at_word("returning") {
            self.returning().map(Some)
        } else {
            Ok(None)
        }
    }

    fn returning(&mut self) -> Result<Returning, PartiqlError> {
        self.i += 1; // RETURNING
        let first = self.returning_element()?;
        if self.peek_is(&Tok::Comma) {
            while self.eat(&Tok::Comma) {
                self.returning_element()?;
            }
            self.defer(invalid(error::RETURNING_MANY));
        }
        Ok(first)
    }

    fn returning_element(&mut self) -> Result<Returning, PartiqlError> {
        let all = if self.eat_word("all") {
            true
        } else if self.eat_word("modified") {
            false
        } else {
            return Err(malformed("Expected ( MODIFIED | ALL ) in RETURNING clause"));
        };
        let new = if self.eat_word("new") {
            true
        } else if self.eat_word("old") {
            false
        } else {
            return Err(malformed(
                "Expected ( NEW | OLD ) after ( MODIFIED | ALL ) in RETURNING clause",
            ));
        };
        if !self.eat(&Tok::Star) {
            self.expr(0)?;
            self.defer(invalid(error::RETURNING_STAR));
        }
        Ok(match (all, new) {
            (true, false) => Returning::AllOld,
            (false, false) => Returning::ModifiedOld,
            (true, true) => Returning::AllNew,
            (false, true) => Returning::ModifiedNew,
        })
    }

    // ---- expressions ----------------------------------------------------

    fn expr_list(&mut self) -> Result<Vec<Expr>, PartiqlError> {
        let mut out = vec![self.expr(0)?];
        while self.eat(&Tok::Comma) {
            out.push(self.expr(0)?);
        }
        Ok(out)
    }

    /// An expression whose operators all bind tighter than `min`.
    fn expr(&mut self, min: u8) -> Result<Expr, PartiqlError> {
        self.enter()?;
        let mut left = self.unary()?;
        let mut chain = 0;
        while let Some((precedence, op, width)) = self.infix() {
            if precedence <= min {
                break;
            }
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                return Err(malformed(&format!(
                    "Statement nesting exceeds {MAX_DEPTH} levels"
                )));
            }
            let pos = left.pos;
            self.i += width;
            left = match op {
                Infix::Is { negated } => {
                    let ty = self.type_name()?;
                    not_if(negated, Expr::new(ExprKind::Is(Box::new(left), ty), pos))
                }
                Infix::In { negated } => {
                    let list = if self.peek_is(&Tok::LParen) {
                        let at = self.pos();
                        self.i += 1;
                        let items = if self.peek_is(&Tok::RParen) {
                            vec![]
                        } else {
                            self.expr_list()?
                        };
                        self.expect(Tok::RParen, "RIGHT_PAREN")?;
                        Expr::new(ExprKind::List(items), at)
                    } else {
                        self.right_operand(precedence)?
                    };
                    not_if(
                        negated,
                        Expr::new(ExprKind::In(Box::new(left), Box::new(list)), pos),
                    )
                }
                Infix::Between { negated } => {
                    let low = self.right_operand(precedence)?;
                    if !self.eat_word("and") {
                        return Err(malformed("Expected AND"));
                    }
                    if self.at_end() {
                        return Err(malformed("Expected expression after AND"));
                    }
                    let high = self.expr(precedence)?;
                    not_if(
                        negated,
                        Expr::new(
                            ExprKind::Between(Box::new(left), Box::new(low), Box::new(high)),
                            pos,
                        ),
                    )
                }
                Infix::Like { negated } => {
                    let pattern = self.right_operand(precedence)?;
                    if self.eat_word("escape") {
                        self.expr(precedence)?;
                    }
                    not_if(
                        negated,
                        Expr::new(ExprKind::Like(Box::new(left), Box::new(pattern)), pos),
                    )
                }
                Infix::And | Infix::Or => {
                    let right = self.right_operand(precedence)?;
                    let is_and = matches!(op, Infix::And);
                    chain -= 1; // flat: the tree does not deepen
                    let mut items = match left.kind {
                        ExprKind::And(items) if is_and => items,
                        ExprKind::Or(items) if !is_and => items,
                        kind => vec![Expr::new(kind, pos)],
                    };
                    items.push(right);
                    Expr::new(
                        if is_and {
                            ExprKind::And(items)
                        } else {
                            ExprKind::Or(items)
                        },
                        pos,
                    )
                }
                Infix::Cmp(cmp) => {
                    let right = self.right_operand(precedence)?;
                    Expr::new(ExprKind::Cmp(cmp, Box::new(left), Box::new(right)), pos)
                }
                Infix::Arith(arith) => {
                    let right = self.right_operand(precedence)?;
                    Expr::new(ExprKind::Arith(arith, Box::new(left), Box::new(right)), pos)
                }
            };
        }
        self.leave();
        Ok(left)
    }

    /// The right side of an infix operator just consumed.
    fn right_operand(&mut self, precedence: u8) -> Result<Expr, PartiqlError> {
        if self.at_end() {
            return Err(malformed(
                "Missing right-hand side expression of infix operator",
            ));
        }
        self.expr(precedence)
    }

    /// The infix operator at the cursor: precedence, operator, tokens used.
    fn infix(&self) -> Option<(u8, Infix, usize)> {
        let t = self.peek()?;
        let simple = |p, op| Some((p, op, 1));
        match &t.tok {
            Tok::Eq => simple(prec::EQUALITY, Infix::Cmp(CmpOp::Eq)),
            Tok::Ne => simple(prec::EQUALITY, Infix::Cmp(CmpOp::Ne)),
            Tok::Lt => simple(prec::COMPARISON, Infix::Cmp(CmpOp::Lt)),
            Tok::Le => simple(prec::COMPARISON, Infix::Cmp(CmpOp::Le)),
            Tok::Gt => simple(prec::COMPARISON, Infix::Cmp(CmpOp::Gt)),
            Tok::Ge => simple(prec::COMPARISON, Infix::Cmp(CmpOp::Ge)),
            Tok::Plus => simple(prec::ADDITION, Infix::Arith(ArithOp::Add)),
            Tok::Minus => simple(prec::ADDITION, Infix::Arith(ArithOp::Sub)),
            Tok::Concat => simple(prec::ADDITION, Infix::Arith(ArithOp::Concat)),
            Tok::Star => simple(prec::MULTIPLICATION, Infix::Arith(ArithOp::Mul)),
            Tok::Slash => simple(prec::MULTIPLICATION, Infix::Arith(ArithOp::Div)),
            Tok::Percent => simple(prec::MULTIPLICATION, Infix::Arith(ArithOp::Mod)),
            Tok::Ident(w) => {
                let w = w.to_ascii_lowercase();
                match w.as_str() {
                    "or" => simple(prec::OR, Infix::Or),
                    "and" => simple(prec::AND, Infix::And),
                    "is" if self.word_at(1, "not") => {
                        Some((prec::EQUALITY, Infix::Is { negated: true }, 2))
                    }
                    "is" => simple(prec::EQUALITY, Infix::Is { negated: false }),
                    "in" => simple(prec::COMPARISON, Infix::In { negated: false }),
                    "between" => simple(prec::COMPARISON, Infix::Between { negated: false }),
                    "like" => simple(prec::COMPARISON, Infix::Like { negated: false }),
                    "not" if self.word_at(1, "in") => {
                        Some((prec::COMPARISON, Infix::In { negated: true }, 2))
                    }
                    "not" if self.word_at(1, "between") => {
                        Some((prec::COMPARISON, Infix::Between { negated: true }, 2))
                    }
                    "not" if self.word_at(1, "like") => {
                        Some((prec::COMPARISON, Infix::Like { negated: true }, 2))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn unary(&mut self) -> Result<Expr, PartiqlError> {
        let pos = self.pos();
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let term = self.unary()?;
            self.leave();
            return Ok(match term.kind {
                ExprKind::Lit(Lit::Num(n)) => Expr::new(ExprKind::Lit(Lit::Num(negate(&n))), pos),
                kind => Expr::new(ExprKind::Neg(Box::new(Expr::new(kind, term.pos))), pos),
            });
        }
        if self.eat(&Tok::Plus) {
            self.enter()?;
            let term = self.unary()?;
            self.leave();
            return Ok(term);
        }
        if self.eat_word("not") {
            let inner = self.expr(prec::NOT)?;
            return Ok(Expr::new(ExprKind::Not(Box::new(inner)), pos));
        }
        self.term()
    }

    /// What the reference parser says when a term was expected here.
    fn term_error(&self) -> PartiqlError {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Ident(w)) if OPERATOR_WORDS.contains(&w.to_ascii_lowercase().as_str()) => {
                malformed("Unexpected operator")
            }
            Some(Tok::Ident(w)) if is_keyword(w) => malformed("Unexpected keyword"),
            Some(
                Tok::Eq
                | Tok::Ne
                | Tok::Lt
                | Tok::Le
                | Tok::Gt
                | Tok::Ge
                | Tok::Concat
                | Tok::Slash
                | Tok::Percent,
            ) => malformed("Unexpected operator"),
            _ => malformed("Unexpected term"),
        }
    }

    fn term(&mut self) -> Result<Expr, PartiqlError> {
        let Some(token) = self.peek().cloned() else {
            return Err(malformed("Unexpected term"));
        };
        let pos = token.pos;
        let lit = |l| Ok(Expr::new(ExprKind::Lit(l), pos));
        match token.tok {
            Tok::Str(s) => {
                self.i += 1;
                lit(Lit::Str(s))
            }
            Tok::Num(n) => {
                self.i += 1;
                lit(Lit::Num(n))
            }
            Tok::Question => {
                self.i += 1;
                self.parameters += 1;
                Ok(Expr::new(ExprKind::Param(self.parameters - 1), pos))
            }
            Tok::LParen => {
                self.i += 1;
                if self.at_word("select") {
                    self.enter()?;
                    self.select()?;
                    self.leave();
                    self.expect(Tok::RParen, "RIGHT_PAREN")?;
                    return Ok(Expr::new(ExprKind::Subquery, pos));
                }
                if self.peek_is(&Tok::RParen) {
                    return Err(malformed("Expression group cannot be empty"));
                }
                let mut items = self.expr_list()?;
                self.expect(Tok::RParen, "RIGHT_PAREN")?;
                if items.len() == 1 {
                    let inner = items.pop().expect("one item");
                    return self.path_steps(inner);
                }
                Ok(Expr::new(ExprKind::List(items), pos))
            }
            Tok::LBracket => {
                self.i += 1;
                let items = self.items_until(&Tok::RBracket, "RIGHT_BRACKET")?;
                Ok(Expr::new(ExprKind::List(items), pos))
            }
            Tok::LBag => {
                self.i += 1;
                let items = self.items_until(&Tok::RBag, "RIGHT_DOUBLE_ANGLE_BRACKET")?;
                Ok(Expr::new(ExprKind::Bag(items), pos))
            }
            Tok::LBrace => {
                self.i += 1;
                self.enter()?;
                let mut members = Vec::new();
                if !self.peek_is(&Tok::RBrace) {
                    loop {
                        let key = self.expr(0)?;
                        self.expect(Tok::Colon, "COLON")?;
                        let value = self.expr(0)?;
                        members.push((key, value));
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                }
                self.expect(Tok::RBrace, "RIGHT_CURLY")?;
                self.leave();
                Ok(Expr::new(ExprKind::Tuple(members), pos))
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                let call_follows = self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen);
                if is_keyword(&word) {
                    match lower.as_str() {
                        "true" | "false" => {
                            self.i += 1;
                            return lit(Lit::Bool(lower == "true"));
                        }
                        "null" => {
                            self.i += 1;
                            return lit(Lit::Null);
                        }
                        "missing" => {
                            self.i += 1;
                            return lit(Lit::Missing);
                        }
                        "select" => {
                            self.enter()?;
                            self.select()?;
                            self.leave();
                            return Ok(Expr::new(ExprKind::Subquery, pos));
                        }
                        "from" => {
                            self.enter()?;
                            self.update(true)?;
                            self.leave();
                            return Ok(Expr::new(ExprKind::Subquery, pos));
                        }
                        _ if call_follows && FUNCTION_KEYWORDS.contains(&lower.as_str()) => {
                            return self.call(lower, pos);
                        }
                        _ => return Err(self.term_error()),
                    }
                }
                if call_follows {
                    return self.call(lower, pos);
                }
                self.i += 1;
                self.path_steps(Expr::new(ExprKind::Path(vec![Step::Name(word)]), pos))
            }
            Tok::Quoted(name) => {
                if self.peek_at(1).is_some_and(|t| t.tok == Tok::LParen) {
                    return self.call(name.to_ascii_lowercase(), pos);
                }
                self.i += 1;
                self.path_steps(Expr::new(ExprKind::Path(vec![Step::Name(name)]), pos))
            }
            _ => Err(self.term_error()),
        }
    }

    /// Elements up to a closing token (list and bag literals).
    fn items_until(&mut self, close: &Tok, name: &str) -> Result<Vec<Expr>, PartiqlError> {
        self.enter()?;
        let items = if self.peek_is(close) {
            vec![]
        } else {
            self.expr_list()?
        };
        self.expect(close.clone(), name)?;
        self.leave();
        Ok(items)
    }

    /// `name(args)`, the name token and `(` at the cursor.
    fn call(&mut self, name: String, pos: Pos) -> Result<Expr, PartiqlError> {
        self.i += 2;
        self.enter()?;
        if self.peek_is(&Tok::Star) {
            return Err(malformed(&format!("{name}(*) is not allowed")));
        }
        let args = if self.peek_is(&Tok::RParen) {
            vec![]
        } else {
            self.expr_list()?
        };
        self.expect(Tok::RParen, "RIGHT_PAREN")?;
        self.leave();
        self.path_steps(Expr::new(ExprKind::Call(name, args), pos))
    }

    /// `.name` and `[index]` steps after a term. Only a path takes them in
    /// DynamoDB; on anything else they are refused once parsed.
    fn path_steps(&mut self, base: Expr) -> Result<Expr, PartiqlError> {
        if !self.peek_is(&Tok::Dot) && !self.peek_is(&Tok::LBracket) {
            return Ok(base);
        }
        let pos = base.pos;
        let mut steps = match base.kind {
            ExprKind::Path(steps) => steps,
            _ => {
                self.defer(invalid(format!("Unexpected path component{}", pos.at())));
                vec![Step::Name(String::new())]
            }
        };
        loop {
            if self.eat(&Tok::Dot) {
                match self.name_here() {
                    Some(n) => {
                        self.i += 1;
                        steps.push(Step::Name(n));
                    }
                    None if self.eat(&Tok::Star) => self.defer(invalid(error::UNPIVOT_PATH)),
                    None => return Err(malformed("Invalid path dot component")),
                }
            } else if self.eat(&Tok::LBracket) {
                if self.eat(&Tok::Star) {
                    self.expect(Tok::RBracket, "RIGHT_BRACKET")?;
                    self.defer(invalid(error::WILDCARD_PATH));
                    continue;
                }
                let index = self.expr(0)?;
                self.expect(Tok::RBracket, "RIGHT_BRACKET")?;
                match &index.kind {
                    ExprKind::Lit(Lit::Num(_) | Lit::Str(_)) => {
                        steps.push(self.bracket_step(&index))
                    }
                    _ => self.defer(invalid(format!(
                        "Unexpected path component{}",
                        index.pos.at()
                    ))),
                }
            } else {
                return Ok(Expr::new(ExprKind::Path(steps), pos));
            }
        }
    }

    /// `[n]` is a list index and `['k']` a map key.
    fn bracket_step(&mut self, index: &Expr) -> Step {
        match &index.kind {
            ExprKind::Lit(Lit::Str(s)) => Step::Name(s.clone()),
            ExprKind::Lit(Lit::Num(n)) => match n.parse::<u32>() {
                Ok(i) => Step::Index(i),
                Err(_) => {
                    self.defer(invalid(format!(
                        "List index is not within the allowable range; index: [{n}]"
                    )));
                    Step::Index(0)
                }
            },
            _ => Step::Index(0),
        }
    }

    /// The type after `IS [NOT]`.
    fn type_name(&mut self) -> Result<TypeName, PartiqlError> {
        let word = match self.peek().map(|t| &t.tok) {
            Some(Tok::Ident(w)) => w.to_ascii_lowercase(),
            _ => return Err(malformed("Expected type name")),
        };
        let name = if word == "double" && self.word_at(1, "precision") {
            self.i += 1;
            "DOUBLE_PRECISION"
        } else if word == "character" && self.word_at(1, "varying") {
            self.i += 1;
            "CHARACTER_VARYING"
        } else {
            match TYPE_NAMES.iter().find(|(n, _)| *n == word) {
                Some((_, canonical)) => canonical,
                None => return Err(malformed("Expected type name")),
            }
        };
        self.i += 1;
        // Type parameters, as in `IS DECIMAL(5, 2)`.
        if self.eat(&Tok::LParen) {
            while !self.at_end() && !self.eat(&Tok::RParen) {
                self.i += 1;
            }
        }
        Ok(TypeName(name.to_string()))
    }
}

fn not_if(negated: bool, e: Expr) -> Expr {
    if negated {
        let pos = e.pos;
        Expr::new(ExprKind::Not(Box::new(e)), pos)
    } else {
        e
    }
}

fn negate(number: &str) -> String {
    match number.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{number}"),
    }
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.chars().count())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The name DynamoDB gives an expression that is not a statement.
fn operation_name(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Path(steps) if steps.len() == 1 => "Id",
        ExprKind::Path(_) => "Path",
        ExprKind::Lit(Lit::Missing) => "Missing",
        ExprKind::Lit(_) => "Lit",
        ExprKind::Param(_) => "Parameter",
        ExprKind::List(_) => "List",
        ExprKind::Bag(_) => "Bag",
        ExprKind::Tuple(_) => "Struct",
        ExprKind::Not(_) => "Not",
        ExprKind::Neg(_) => "Neg",
        ExprKind::And(_) => "And",
        ExprKind::Or(_) => "Or",
        ExprKind::Cmp(op, ..) => match op {
            CmpOp::Eq => "Eq",
            CmpOp::Ne => "Ne",
            CmpOp::Lt => "Lt",
            CmpOp::Le => "Lte",
            CmpOp::Gt => "Gt",
            CmpOp::Ge => "Gte",
        },
        ExprKind::Arith(op, ..) => match op {
            ArithOp::Add => "Plus",
            ArithOp::Sub => "Minus",
            ArithOp::Mul => "Times",
            ArithOp::Div => "Divide",
            ArithOp::Mod => "Modulo",
            ArithOp::Concat => "Concat",
        },
        ExprKind::Like(..) => "Like",
        ExprKind::Between(..) => "Between",
        ExprKind::In(..) => "InCollection",
        ExprKind::Is(..) => "IsType",
        ExprKind::Call(..) => "Call",
        ExprKind::Subquery => "Select",
    }
}
