//! Gauges of what one worker holds right now, for sizing workers (issue 11):
//! turns in flight, and its database pool under the names the API uses, so
//! one dashboard panel (and the pool alert) covers both. A turn spends its
//! time waiting on the model without a connection, so many turns in flight
//! with few connections in use is the healthy picture; a pool at its maximum
//! means the pool, not the model, paces the worker.

use sqlx::PgPool;
use todo_common::metric;

/// Turns this process has claimed and not finished (`worker_turns_in_flight`).
pub fn turns_in_flight(count: usize) {
    metrics::gauge!(metric::WORKER_TURNS_IN_FLIGHT).set(count as f64);
}

/// The pool's connections in use and idle, and its maximum.
pub fn pool(pool: &PgPool) {
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!(metric::DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(metric::DB_POOL_CONNECTIONS, "state" => "in_use").set(size - idle);
    metrics::gauge!(metric::DB_POOL_MAX_CONNECTIONS)
        .set(f64::from(pool.options().get_max_connections()));
}
