//! Idempotency keys: a client's name for one request, sent again with each
//! retry of it, so a retry after a lost answer finds what the first attempt
//! stored instead of storing it twice. Chat posts and task creation take
//! them (the `Idempotency-Key` header, or MCP `add_task`'s `idempotency_key`
//! argument: MCP calls carry no headers of their own).

use std::fmt;

use crate::error::Error;

/// 1 to [`IdempotencyKey::MAX_CHARS`] visible ASCII characters, taken as
/// sent (the IETF draft's quoted form is a key like any other, as long as the
/// client's retries send it the same way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key kept (the columns' CHECK).
    pub const MAX_CHARS: usize = 255;
    /// The HTTP header that carries it.
    pub const HEADER: &'static str = "Idempotency-Key";

    /// `field` names where the key came from in an error: the header, or a
    /// tool argument.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        if raw.is_empty()
            || raw.len() > Self::MAX_CHARS
            || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::invalid(
                field,
                format!(
                    "must be 1 to {} visible ASCII characters, such as a UUID",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_up_to_255_characters() {
        let longest = "k".repeat(255);
        for ok in [
            "a",
            "0b0a8b0e-6f27-4c1f-9d55-0e7f2f0b3f4e",
            "\"quoted\"",
            &longest,
        ] {
            assert_eq!(IdempotencyKey::parse("k", ok).unwrap().as_str(), ok);
        }
        let long = "k".repeat(256);
        for bad in ["", " ", "has space", "tab\there", "café", &long] {
            let err = IdempotencyKey::parse("Idempotency-Key", bad).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { field, .. } if field == "Idempotency-Key"),
                "{bad:?}: {err:?}"
            );
        }
    }
}
