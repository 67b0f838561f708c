//! The transactional outbox: a turn is recorded here in the same transaction
//! as its message, deleted once RabbitMQ confirms it, and re-published by the
//! relay if that never happened (broker down, process died after commit).

use std::time::Duration;

use parking_lot::Mutex;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use crate::error::Result;
use crate::queue::TurnJob;

/// The request that wrote the record publishes it itself; the relay only
/// steps in when that has not happened within this grace period.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

pub(crate) async fn insert(tx: &mut Transaction<'_, Postgres>, job: &TurnJob) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO outbox (message_id, payload, next_attempt_at)
         VALUES ($1, $2, now() + $3::interval) RETURNING id",
        job.message_id,
        Json(job) as _,
        GRACE as _,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Enqueues a job outside a message transaction (re-driving a stale turn).
pub async fn enqueue(pool: &PgPool, job: &TurnJob) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let id = insert(&mut tx, job).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the broker confirmed, forgotten together: one statement per
/// relay tick (`clear`, every 500 ms, well inside the grace period), not
/// one per post. A record a crash leaves behind is published once more by
/// the relay after the grace period: a duplicate delivery, which the claim
/// settles.
#[derive(Debug, Default)]
pub struct Confirmed(Mutex<Vec<i64>>);

impl Confirmed {
    /// The broker confirmed record `id`.
    pub fn add(&self, id: i64) {
        self.0.lock().push(id);
    }

    /// Deletes the records confirmed so far.
    pub async fn clear(&self, pool: &PgPool) -> Result<()> {
        let ids = std::mem::take(&mut *self.0.lock());
        if ids.is_empty() {
            return Ok(());
        }
        let deleted = sqlx::query!("DELETE FROM outbox WHERE id = ANY($1)", &ids)
            .execute(pool)
            .await;
        if deleted.is_err() {
            // Kept for the next tick.
            self.0.lock().extend(ids);
        }
        deleted?;
        Ok(())
    }
}

/// The request's own publish failed: the relay need not wait out the grace
/// period for it (during a broker failover that wait was most of a turn's
/// delay: docs/benchmarks.md, "RabbitMQ as a cluster").
pub async fn due_now(pool: &PgPool, id: i64) -> Result<()> {
    sqlx::query!(
        "UPDATE outbox SET next_attempt_at = now() WHERE id = $1",
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records due for (re)publishing. Each is pushed into the future by
/// `lease` as it is taken, so concurrent relays (several API replicas) do
/// not publish the same record at the same moment; a record whose publish
/// fails comes due again after that, with backoff by attempt.
pub async fn take_due(pool: &PgPool, limit: i64, lease: Duration) -> Result<Vec<(i64, TurnJob)>> {
    let rows = sqlx::query!(
        r#"UPDATE outbox SET attempts = attempts + 1,
            next_attempt_at = now() + $2::interval * least(power(2, attempts), 60)
         WHERE id IN (SELECT id FROM outbox WHERE next_attempt_at <= now()
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, payload AS "payload: Json<TurnJob>""#,
        limit,
        lease as _,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.payload.0)).collect())
}

/// How many turns wait to be handed to the broker (a health signal).
pub async fn backlog(pool: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM outbox"#)
            .fetch_one(pool)
            .await?,
    )
}
