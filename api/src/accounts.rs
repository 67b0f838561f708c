//! User accounts: the rows behind sign-up, login and token subjects.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use todo_common::domain::{DisplayName, Email, TimeZone, UserId};
use todo_common::error::Result;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: Option<String>,
    pub name: Option<String>,
    pub time_zone: TimeZone,
    #[serde(skip)]
    pub created_at: DateTime<Utc>,
}

/// Creates an account; a taken email comes back as `Error::Conflict`.
pub async fn create(
    pool: &PgPool,
    email: &Email,
    name: Option<&DisplayName>,
    time_zone: TimeZone,
    password_hash: &str,
) -> Result<User> {
    let id = UserId::generate();
    Ok(sqlx::query_as!(
        User,
        r#"INSERT INTO users (id, email, name, password_hash, time_zone) VALUES ($1, $2, $3, $4, $5)
         RETURNING id AS "id: UserId", email, name, time_zone AS "time_zone: TimeZone", created_at"#,
        id.as_str(),
        email.as_str(),
        name.map(DisplayName::as_str),
        password_hash,
        time_zone.name(),
    )
    .fetch_one(pool)
    .await?)
}

/// The account with this email and its password hash (None for accounts
/// that sign in elsewhere).
pub async fn find_for_login(
    pool: &PgPool,
    email: &Email,
) -> Result<Option<(User, Option<String>)>> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: UserId", email, name, time_zone AS "time_zone: TimeZone",
            created_at, password_hash
         FROM users WHERE lower(email) = $1"#,
        email.as_str(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let user = User {
            id: r.id,
            email: r.email,
            name: r.name,
            time_zone: r.time_zone,
            created_at: r.created_at,
        };
        (user, r.password_hash)
    }))
}

pub async fn find(pool: &PgPool, id: &UserId) -> Result<Option<User>> {
    Ok(sqlx::query_as!(
        User,
        r#"SELECT id AS "id: UserId", email, name, time_zone AS "time_zone: TimeZone", created_at
         FROM users WHERE id = $1"#,
        id.as_str(),
    )
    .fetch_optional(pool)
    .await?)
}

/// Makes sure a user known only from an external token (Better Auth) has a
/// row, so their tasks have an owner. Keeps the email only when it is valid
/// and not already another account's.
pub async fn ensure_exists(
    pool: &PgPool,
    id: &UserId,
    email: Option<&str>,
    name: Option<&str>,
) -> Result<()> {
    let email = email.and_then(|e| Email::parse(e).ok());
    let name = name.and_then(|n| DisplayName::parse(n).ok().flatten());
    // ON CONFLICT without a target also swallows an email clash; the second
    // statement then creates the row without the email.
    let inserted = sqlx::query!(
        "INSERT INTO users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        id.as_str(),
        email.as_ref().map(Email::as_str),
        name.as_ref().map(DisplayName::as_str),
    )
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 0 && email.is_some() {
        sqlx::query!(
            "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            id.as_str(),
            name.as_ref().map(DisplayName::as_str),
        )
        .execute(pool)
        .await?;
    }
    Ok(())
}
