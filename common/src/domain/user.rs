//! Account fields and their rules.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::bounded;
use crate::error::Error;

/// An opaque user id: ours are UUIDv7 strings, Better Auth's are its own.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[schema(value_type = String)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct UserId(String);

impl UserId {
    /// A fresh id for an account created here.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// An id from a verified token or a path segment.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let ok = !raw.is_empty() && raw.len() <= 255 && raw.chars().all(|c| c.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(Error::invalid("user_id", "is not a valid user id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A trimmed, lower-cased address of the form local@domain.tld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let email = raw.trim().to_lowercase();
        let invalid = || Error::invalid("email", "must be a valid email address");
        if email.is_empty() || email.chars().count() > 254 {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if well_formed {
            Ok(Self(email))
        } else {
            Err(invalid())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8..=128 characters. The upper bound keeps hashing cost bounded.
/// No Debug: a password must not end up in a log line by accident.
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(Error::invalid(
                "password",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(Error::invalid(
                "password",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        Ok(Self(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An optional display name, at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Option<Self>, Error> {
        let name = bounded("name", raw, 0, 100, false)?;
        Ok((!name.is_empty()).then_some(Self(name)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn passwords_are_bounded() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(129)).is_err());
    }

    #[test]
    fn user_ids_are_printable_ascii() {
        assert!(UserId::parse("0193a1b2-aaaa").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("has space").is_err());
    }
}
