//! The one error type of the shared layer. The API maps it to HTTP in one place
//! (`api/src/error.rs`); the chat tools turn it into a result the model can read.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; `field` names the JSON field (or query parameter).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// Well-formed input that names nothing we know (an unknown time zone):
    /// shown as 422, naming `field`.
    #[error("{field}: {message}")]
    Unrecognised { field: String, message: String },

    /// The thing does not exist for this user (also when it belongs to another).
    #[error("{0} not found")]
    NotFound(String),

    /// A uniqueness rule, named by a stable code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },

    /// An Idempotency-Key sent again with another request: the client's
    /// mistake, refused rather than answered with the first request's result.
    #[error("this Idempotency-Key was used for another request; use a new key for a new one")]
    IdempotencyKeyReused,

    /// Credentials or token were missing or wrong; the message is safe to show.
    #[error("{0}")]
    Unauthenticated(String),

    #[error("too many attempts; retry in {} s", .retry_after.as_secs())]
    TooManyRequests { retry_after: Duration },

    /// Too much expensive work (password hashing) is in progress; the request
    /// may succeed after `retry_after`. Shown as 503, not the client's fault.
    #[error("the server is busy; retry in {} s", .retry_after.as_secs().max(1))]
    Overloaded { retry_after: Duration },

    /// A dependency (database, key server) is unreachable; the request may succeed later.
    #[error("service unavailable: {0}")]
    Unavailable(String),

    /// PostgreSQL is unreachable or restarting; logs show what it said.
    #[error("service unavailable: database")]
    DatabaseUnavailable(#[source] sqlx::Error),

    /// PostgreSQL rolled this transaction back to let a concurrent one
    /// finish (deadlock, or serialization failure): nothing was written, and
    /// the same request sent again is expected to succeed.
    #[error("the request collided with a concurrent change and was not applied; send it again")]
    TransactionConflict(#[source] sqlx::Error),

    /// Anything else from the database: logged in full, never shown.
    #[error("database error")]
    Database(#[source] sqlx::Error),

    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with its causes, for logs: `database error: error returned from
/// database: relation "x" does not exist` rather than `database error`.
pub trait ErrorChain {
    fn chain(&self) -> String;
}

impl<E: std::error::Error + ?Sized> ErrorChain for E {
    fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            // Some errors repeat their source's message in their own.
            if !text.ends_with(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for Error {
    /// Constraint violations are recognised by constraint name, never by message text.
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            match db.constraint() {
                Some("users_email_key") => {
                    return Self::Conflict {
                        code: "email_taken",
                        message: "an account with this email already exists".into(),
                    };
                }
                Some("tasks_user_id_fkey") => {
                    return Self::Unauthenticated("this account no longer exists".into());
                }
                _ => {}
            }
            // 40P01 (deadlock_detected) and 40001 (serialization_failure):
            // the request was fine, it lost a race, and PostgreSQL asks the
            // client to run the transaction again.
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                return Self::TransactionConflict(err);
            }
            // Class 08 (connection exception) and 57P (the server shutting
            // down or starting: what a restart sends its sessions) say the
            // database is away, not that the request was wrong.
            if db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
            {
                return Self::DatabaseUnavailable(err);
            }
        }
        match err {
            // Connection-level failures: the database is unreachable, not the request wrong.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Self::DatabaseUnavailable(err),
            other => Self::Database(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, PgConnection};

    use super::Error;

    /// What a PostgreSQL restart sends every session (57P01), read off a
    /// real server: the database is away, so a 503, not a 500.
    #[tokio::test]
    async fn a_terminated_session_means_the_database_is_unavailable() {
        let url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = PgConnection::connect(&url).await.expect("PostgreSQL is up");
        let err = sqlx::query!("SELECT pg_terminate_backend(pg_backend_pid())")
            .fetch_one(&mut conn)
            .await
            .expect_err("the session ends");
        let code = match &err {
            sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        };
        assert_eq!(code.as_deref(), Some("57P01"), "{err:?}");
        let mapped = Error::from(err);
        assert!(
            matches!(mapped, Error::DatabaseUnavailable(_)),
            "mapped to DatabaseUnavailable: {mapped:?}"
        );
        // The log line says why, not just "database".
        use super::ErrorChain;
        assert!(
            mapped.chain().contains("terminating connection"),
            "{}",
            mapped.chain()
        );
    }
}
