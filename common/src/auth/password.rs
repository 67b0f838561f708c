//! argon2id password hashes (PHC strings). Hashing runs on the blocking pool:
//! it takes tens of milliseconds of CPU by design.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::domain::Password;
use crate::error::{Error, Result};

pub async fn hash(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
}

/// True when `password` matches `stored`. With no stored hash (unknown
/// email, or an account without a password) it still spends the same time
/// on a dummy hash, so response time does not reveal which emails exist.
pub async fn verify(password: Password, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let argon = Argon2::default();
        match stored {
            Some(hash) => argon
                .verify_password(password.expose().as_bytes(), hash.as_str())
                .is_ok(),
            None => {
                let _ = argon.verify_password(password.expose().as_bytes(), dummy_hash());
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"timing equaliser")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let stored = hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify(
                Password::parse("correct horse").unwrap(),
                Some(stored.clone())
            )
            .await
        );
        assert!(!verify(Password::parse("wrong horse").unwrap(), Some(stored)).await);
        assert!(!verify(Password::parse("correct horse").unwrap(), None).await);
    }
}
