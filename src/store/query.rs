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
    /// The text embeds literal id lists, so it is unlikely to be seen twice: it is not kept in
    /// the connection's prepared-statement cache (each cached statement would hold its list).
    one_shot: bool,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            args: Vec::new(),
            one_shot: false,
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

    /// `(1, 2, …)`, the ids written into the text rather than bound: a list may hold tens of
    /// thousands, past the parameters a statement may have (32,766 on SQLite, 65,535 on
    /// PostgreSQL). An `i64` prints as digits and a sign only, so nothing can be injected.
    pub fn id_list(&mut self, ids: &[i64]) -> &mut Self {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        self.one_shot = true;
        self.push("(").push(&list.join(", ")).push(")")
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
        q.persistent(!self.one_shot)
    }
}

#[cfg(test)]
mod tests {
    use super::Sql;

    #[test]
    fn id_lists_are_literals_and_not_cached() {
        let mut sql = Sql::new("x in ");
        assert!(!sql.one_shot);
        sql.id_list(&[3, -1, i64::MAX]);
        let q = format!("{sql:?}");
        assert!(q.contains("x in (3, -1, 9223372036854775807)"), "{q}");
        assert!(q.contains("args: []"), "{q}");
        assert!(
            sql.one_shot,
            "a statement with a literal list is not cached"
        );
    }
}
