//! Token revocation: "log out" (this token) and "log out everywhere" (every
//! token of a user issued so far).
//!
//! PostgreSQL holds the truth for every API instance: `revoked_tokens` (one
//! row per logged-out token, kept until the token would have expired anyway)
//! and `users.tokens_valid_after`. Requests are checked against an in-memory
//! copy, so a check costs two hashes and a few map lookups, not a query. The
//! instance that revokes applies the change to its copy at once; the others
//! pick it up at their next [`Revocations::refresh`] (every ~2 s in the API).
//!
//! "Everywhere" compares the token's `iat` (whole seconds) with the cutoff
//! instant: a token is refused when `iat <= floor(cutoff)`, so every token
//! issued up to the cutoff, including earlier in the same second, is refused.
//! A token we issue afterwards gets `iat >= floor(cutoff) + 1` (see
//! [`super::TokenService::issue`]), so a login right after still works; and a
//! repeated "everywhere" moves the cutoff at least one second on, past such
//! a bumped `iat`. This assumes host clocks agree to well under a second, as
//! checking `exp` already does.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::token::{Identity, LEEWAY_SECONDS};
use todo_common::domain::UserId;
use todo_common::error::{Error, Result};

/// How the store names a token: SHA-256 of its signed part (`header.payload`,
/// everything before the last '.'), so tokens without a `jti` (Better
/// Auth's, JWKS-signed ones) can be revoked, and no usable token is ever
/// stored. Not of the whole string: an ES256 signature has a twin, (r, n - s),
/// that verifies as well, so the same token can be sent with another
/// signature (issue 19, item 6); the signed part is what the signer vouched
/// for, whatever the algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest {
    signed: [u8; 32],
    /// SHA-256 of the whole string, as revocations were named before. Rows
    /// stored then are kept until their token expires (its own `exp`, which
    /// for an external token may be later than JWT_EXPIRATION_HOURS), so this
    /// is checked too and such a token stays logged out. Once no row revoked
    /// before this release is left, this field can go.
    whole: [u8; 32],
}

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        let signed = token.rsplit_once('.').map_or(token, |(signed, _)| signed);
        Self {
            signed: Sha256::digest(signed.as_bytes()).into(),
            whole: Sha256::digest(token.as_bytes()).into(),
        }
    }
}

/// Rows are read again for this long after the instant they were first
/// looked for. A row's `revoked_at` is its transaction's start, and it
/// becomes visible only at commit; re-reading a window makes a refresh that
/// ran in between miss nothing (the statements are single, short writes).
const OVERLAP: TimeDelta = TimeDelta::seconds(60);

pub struct Revocations {
    pool: PgPool,
    cache: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    /// False until the first successful load; until then no token is accepted.
    loaded: bool,
    /// Revoked tokens (stored digests) and when their rows may go.
    tokens: HashMap<[u8; 32], DateTime<Utc>>,
    /// Per-user "log out everywhere" instants.
    cutoffs: HashMap<UserId, DateTime<Utc>>,
    /// Database time from which the next refresh reads.
    watermark: Option<DateTime<Utc>>,
}

impl Revocations {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: RwLock::default(),
        }
    }

    // A panic while holding the lock leaves the maps consistent (every
    // update is a plain insert or retain), so poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Err(Unauthenticated) when the token was revoked, by itself or by its
    /// user's "log out everywhere". Memory only; Err(Unavailable) before the
    /// first load succeeded, as revocations cannot be told apart yet.
    pub fn check(&self, token: &TokenDigest, who: &Identity) -> Result<()> {
        let cache = self.read();
        if !cache.loaded {
            return Err(Error::Unavailable(
                "token revocations not loaded yet".into(),
            ));
        }
        let revoked = cache.tokens.contains_key(&token.signed)
            || cache.tokens.contains_key(&token.whole)
            || cache
                .cutoffs
                .get(&who.user_id)
                .is_some_and(|cutoff| who.issued_at <= cutoff.timestamp());
        if revoked {
            return Err(Error::Unauthenticated("token revoked".into()));
        }
        Ok(())
    }

    /// Revokes one token (already verified as `who`). Revoking it again is a no-op.
    pub async fn revoke(&self, token: &TokenDigest, who: &Identity) -> Result<()> {
        let keep_until = Self::keep_until(who);
        insert_token(&self.pool, token, who, keep_until).await?;
        self.write().tokens.insert(token.signed, keep_until);
        Ok(())
    }

    /// Revokes every token of `who`'s user issued up to now, the presented
    /// one by its digest as well (its `iat` may be ahead of our clock).
    /// Returns the new cutoff.
    pub async fn revoke_all(&self, token: &TokenDigest, who: &Identity) -> Result<DateTime<Utc>> {
        let keep_until = Self::keep_until(who);
        let mut tx = self.pool.begin().await?;
        insert_token(&mut *tx, token, who, keep_until).await?;
        // GREATEST skips a NULL; "+ 1 second" moves the cutoff past tokens
        // issued after the previous cutoff within its second (see the module doc).
        let cutoff = sqlx::query_scalar!(
            r#"UPDATE users
             SET tokens_valid_after = GREATEST(now(), tokens_valid_after + interval '1 second')
             WHERE id = $1 RETURNING tokens_valid_after AS "tokens_valid_after!""#,
            who.user_id.as_str(),
        )
        .fetch_optional(&mut *tx)
        .await?;
        let cutoff =
            cutoff.ok_or_else(|| Error::Unauthenticated("this account no longer exists".into()))?;
        tx.commit().await?;
        let mut cache = self.write();
        cache.tokens.insert(token.signed, keep_until);
        raise(&mut cache.cutoffs, who.user_id.clone(), cutoff);
        Ok(cutoff)
    }

    /// The user's current cutoff, from the database (not the cache, which on
    /// another instance may be up to a refresh behind), for issuing tokens.
    pub async fn valid_after(&self, user: &UserId) -> Result<Option<DateTime<Utc>>> {
        let cutoff = sqlx::query_scalar!(
            "SELECT tokens_valid_after FROM users WHERE id = $1",
            user.as_str(),
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(cutoff.flatten())
    }

    /// Reads what was revoked since the last refresh (everything unexpired
    /// the first time) into memory. Run at start and every couple of seconds.
    pub async fn refresh(&self) -> Result<()> {
        // The epoch, not NULL, on the first load: `revoked_at > $1` keeps
        // the statement one plan that uses the index.
        let since = self.read().watermark.unwrap_or(DateTime::UNIX_EPOCH);
        let read_at = sqlx::query_scalar!(r#"SELECT now() AS "now!""#)
            .fetch_one(&self.pool)
            .await?;
        let tokens = sqlx::query!(
            r#"SELECT token_hash, expires_at FROM revoked_tokens
             WHERE revoked_at > $1 AND expires_at > now()"#,
            since,
        )
        .fetch_all(&self.pool)
        .await?;
        // Not NULL: the WHERE leaves those rows out.
        let cutoffs = sqlx::query!(
            r#"SELECT id AS "id: UserId", tokens_valid_after AS "tokens_valid_after!"
             FROM users WHERE tokens_valid_after > $1"#,
            since,
        )
        .fetch_all(&self.pool)
        .await?;

        let mut cache = self.write();
        for token in tokens {
            if let Ok(digest) = <[u8; 32]>::try_from(token.token_hash) {
                cache.tokens.insert(digest, token.expires_at);
            }
        }
        for row in cutoffs {
            raise(&mut cache.cutoffs, row.id, row.tokens_valid_after);
        }
        let next = read_at - OVERLAP;
        cache.watermark = Some(cache.watermark.map_or(next, |w| w.max(next)));
        cache.loaded = true;
        Ok(())
    }

    /// Deletes rows of tokens that have expired anyway, here and in the
    /// database; returns how many rows went.
    pub async fn prune(&self) -> Result<u64> {
        let deleted = sqlx::query!("DELETE FROM revoked_tokens WHERE expires_at < now()")
            .execute(&self.pool)
            .await?
            .rows_affected();
        let now = Utc::now();
        self.write()
            .tokens
            .retain(|_, keep_until| *keep_until >= now);
        Ok(deleted)
    }

    /// The last moment `verify` would still accept the token: `exp` plus the leeway.
    fn keep_until(who: &Identity) -> DateTime<Utc> {
        who.expires_at + TimeDelta::seconds(LEEWAY_SECONDS as i64)
    }
}

async fn insert_token<'e>(
    db: impl sqlx::PgExecutor<'e>,
    token: &TokenDigest,
    who: &Identity,
    keep_until: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO revoked_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (token_hash) DO NOTHING",
        token.signed.as_slice(),
        who.user_id.as_str(),
        keep_until,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Cutoffs only move forward, whichever of refresh and revoke lands first.
fn raise(cutoffs: &mut HashMap<UserId, DateTime<Utc>>, user: UserId, cutoff: DateTime<Utc>) {
    let entry = cutoffs.entry(user).or_insert(cutoff);
    *entry = (*entry).max(cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(user: &str, iat: i64) -> Identity {
        Identity {
            user_id: UserId::parse(user).unwrap(),
            email: None,
            name: None,
            issued_at: iat,
            expires_at: Utc::now() + TimeDelta::hours(1),
        }
    }

    fn loaded() -> Revocations {
        // A lazy pool never connects; these tests touch only the cache.
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let r = Revocations::new(pool);
        r.write().loaded = true;
        r
    }

    #[tokio::test]
    async fn nothing_is_accepted_before_the_first_load() {
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let r = Revocations::new(pool);
        let err = r.check(&TokenDigest::of("t"), &identity("u1", 0));
        assert!(matches!(err, Err(Error::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_cutoff_refuses_its_whole_second_and_nothing_later() {
        let r = loaded();
        let cutoff = DateTime::from_timestamp(1_000, 400_000_000).unwrap();
        raise(&mut r.write().cutoffs, UserId::parse("u1").unwrap(), cutoff);
        let t = TokenDigest::of("t");
        for iat in [999, 1_000] {
            assert!(r.check(&t, &identity("u1", iat)).is_err(), "iat {iat}");
        }
        assert!(r.check(&t, &identity("u1", 1_001)).is_ok());
        assert!(
            r.check(&t, &identity("u2", 999)).is_ok(),
            "other users untouched"
        );
    }

    #[tokio::test]
    async fn cutoffs_never_move_back() {
        let mut cutoffs = HashMap::new();
        let user = UserId::parse("u1").unwrap();
        let later = DateTime::from_timestamp(2_000, 0).unwrap();
        raise(&mut cutoffs, user.clone(), later);
        raise(
            &mut cutoffs,
            user.clone(),
            DateTime::from_timestamp(1_000, 0).unwrap(),
        );
        assert_eq!(cutoffs[&user], later);
    }

    #[tokio::test]
    async fn a_token_is_named_by_its_signed_part_whatever_its_signature() {
        let r = loaded();
        let who = identity("u1", 0);
        let (token, twin) = (TokenDigest::of("h.p.sig"), TokenDigest::of("h.p.twin"));
        assert_eq!(token.signed, twin.signed);
        r.write().tokens.insert(token.signed, who.expires_at);
        assert!(
            r.check(&twin, &who).is_err(),
            "the other signature is refused"
        );
        assert!(r.check(&TokenDigest::of("h.q.sig"), &who).is_ok());
    }

    #[tokio::test]
    async fn a_token_revoked_under_its_whole_string_digest_stays_revoked() {
        // A row stored before revocations were named by the signed part.
        let r = loaded();
        let who = identity("u1", 0);
        let old: [u8; 32] = Sha256::digest(b"h.p.sig").into();
        r.write().tokens.insert(old, who.expires_at);
        assert!(r.check(&TokenDigest::of("h.p.sig"), &who).is_err());
    }
}
