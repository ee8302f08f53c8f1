//! Names of flags, projects, environments, segments and tokens, by Unleash's rule.

use crate::domain::Invalid;

/// Unleash requires names to be "URL friendly": `encodeURIComponent(name) === name`, so only
/// ASCII letters, digits and `-_.!~*'()` are allowed, 1 to 100 characters.
pub fn parse_url_friendly(field: &str, value: &str) -> Result<String, Invalid> {
    if value.is_empty() {
        return Err(Invalid::at(
            field,
            format!("\"{field}\" is not allowed to be empty."),
        ));
    }
    if value.chars().count() > 100 {
        return Err(Invalid::at(
            field,
            format!(
                "\"{field}\" must be at most 100 characters long. You provided {} characters.",
                value.chars().count()
            ),
        ));
    }
    let friendly = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c));
    if !friendly {
        return Err(Invalid::at(
            field,
            format!("\"{field}\" must be URL friendly. You provided \"{value}\"."),
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_encode_uri_component_leaves_alone() {
        for ok in [
            "new-checkout-flow",
            "a.b_c~d*e'f(g)h!",
            "X",
            &"a".repeat(100),
        ] {
            assert!(parse_url_friendly("name", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_empty_long_and_unfriendly_names_with_unleash_messages() {
        let e = parse_url_friendly("name", "").unwrap_err();
        assert_eq!(e.message, "\"name\" is not allowed to be empty.");
        let e = parse_url_friendly("name", "bad name with spaces!").unwrap_err();
        assert_eq!(
            e.message,
            "\"name\" must be URL friendly. You provided \"bad name with spaces!\"."
        );
        assert!(parse_url_friendly("name", &"a".repeat(101)).is_err());
        assert!(parse_url_friendly("name", "ชื่อ").is_err());
        assert!(parse_url_friendly("name", "a/b").is_err());
    }
}
