//! A small builder for SQL whose filters depend on the request, with `$n` placeholders that
//! both dialects accept (sqlx's SQLite driver binds `$n` by number).

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `arg`.
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn text(&mut self, arg: impl Into<String>) -> &mut Self {
        self.bind(Arg::Text(arg.into()))
    }

    pub fn int(&mut self, arg: i64) -> &mut Self {
        self.bind(Arg::Int(arg))
    }

    /// `column in ($a, $b, …)`; an empty list matches nothing.
    pub fn any_of(&mut self, column: &str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("1 = 0");
        }
        self.push(column).push(" in (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(v.clone());
        }
        self.push(")")
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments> {
        // Safe: the text is built only from literals in this crate; values go through `bind`.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
        for arg in &self.args {
            q = match arg {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
