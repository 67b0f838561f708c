//! Text rules shared by the domain types.

use crate::error::Error;

/// Rejects characters PostgreSQL cannot store (NUL) or that have no place in
/// user text (other control characters); `multiline` allows newlines and tabs.
pub(crate) fn check_chars(field: &str, value: &str, multiline: bool) -> Result<(), Error> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(Error::invalid(
            field,
            if multiline {
                "must not contain control characters other than newlines and tabs"
            } else {
                "must not contain control characters"
            },
        ));
    }
    Ok(())
}

/// Trims and checks the length in characters (not bytes: titles may be any script).
pub(crate) fn bounded(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, Error> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(Error::invalid(
            field,
            if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    check_chars(field, trimmed, multiline)?;
    Ok(trimmed.to_string())
}
