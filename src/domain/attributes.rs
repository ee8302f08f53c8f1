//! Reading Better Stack-style JSON attributes (monitors, heartbeats, status pages): every field
//! is checked and every problem collected, so a 422 names all the bad fields at once.

use serde_json::{Map, Value};

use crate::domain::Invalid;

/// Field errors, Better Stack style: each names the attribute and says what is wrong.
pub type FieldErrors = Vec<Invalid>;

/// `current`'s attributes with `input`'s writable ones laid over them (a PATCH).
pub fn merged(
    current: Map<String, Value>,
    input: &Map<String, Value>,
    read_only: &[&str],
) -> Map<String, Value> {
    let mut attrs = current;
    for (k, v) in input {
        if !read_only.contains(&k.as_str()) {
            attrs.insert(k.clone(), v.clone());
        }
    }
    attrs
}

/// Reads attributes, collecting every field error.
pub struct Fields<'a> {
    pub input: &'a Map<String, Value>,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(input: &'a Map<String, Value>) -> Self {
        Self {
            input,
            errors: Vec::new(),
        }
    }

    /// The value given for `key`; `null` counts as not given (the default applies).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.input.get(key).filter(|v| !v.is_null())
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(Invalid::at(key, message));
    }

    /// Whether `key` already has an error.
    pub fn has_error(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.path.as_deref() == Some(key))
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    /// A string, trimmed; empty counts as not given. At most `max` characters.
    pub fn text(&mut self, key: &str, max: usize) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.error(key, format!("is too long (at most {max} characters)"));
                    None
                } else {
                    (!s.is_empty()).then(|| s.to_string())
                }
            }
            _ => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    /// [`Fields::text`] that must be given: missing or blank is "can't be blank".
    pub fn required_text(&mut self, key: &str, max: usize) -> String {
        let given = self.get(key).is_some();
        match self.text(key, max) {
            Some(s) => s,
            None => {
                if !given || !self.has_error(key) {
                    self.error(key, "can't be blank");
                }
                String::new()
            }
        }
    }

    pub fn bool(&mut self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.error(key, "must be true or false");
                default
            }
        }
    }

    /// An integer; Better Stack also takes numeric strings (`"30"`).
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let value = self.get(key)?;
        let parsed = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.error(key, "must be an integer");
        }
        parsed
    }

    /// An integer within `min..=max` (`unit` names them in the error), or `default` if not given.
    pub fn int_in(&mut self, key: &str, default: i64, (min, max): (i64, i64), unit: &str) -> i64 {
        match self.int(key) {
            None => default,
            Some(n) if (min..=max).contains(&n) => n,
            Some(_) => {
                self.error(key, format!("must be between {min} and {max} {unit}"));
                default
            }
        }
    }

    pub fn string_list(&mut self, key: &str) -> Option<Vec<String>> {
        match self.get(key)? {
            Value::Array(items) if items.iter().all(Value::is_string) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => {
                self.error(key, "must be an array of strings");
                None
            }
        }
    }

    /// The attributes among `keys` that were sent, as they came (`null` included).
    pub fn pass_through(&self, keys: &[&str]) -> Map<String, Value> {
        let mut extra = Map::new();
        for &key in keys {
            if let Some(value) = self.input.get(key) {
                extra.insert(key.to_string(), value.clone());
            }
        }
        extra
    }
}
