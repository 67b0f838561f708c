//! argon2id password hashes (PHC strings), a bounded number at a time, on
//! threads of their own.
//!
//! Each hash holds 19 MiB and a core for tens of milliseconds by design.
//! Unbounded, 200 parallel sign-ups took the API to 7 GiB (issue 10), so at
//! most PASSWORD_HASH_CONCURRENCY hashes run at once. A request waits up to
//! PASSWORD_HASH_WAIT_MS for a turn and then gets `Error::Overloaded` (503 +
//! Retry-After): a burst is absorbed, a flood is refused instead of queued
//! without limit.
//!
//! The hashes run on PASSWORD_HASH_CONCURRENCY threads started for them, not
//! on tokio's blocking pool (issue 23): that pool starts a new thread
//! whenever none is idle, so a storm of sign-ups passed the 19 MiB buffers
//! through a dozen threads. A fixed set bounds which threads ever hold one.
//! That the memory comes back after a storm is the allocator's doing: glibc
//! raised its mmap threshold after the first buffer was freed and kept the
//! later ones in its heaps (593 MiB after 400 sign-ups), so the API
//! allocates with jemalloc (docs/benchmarks.md, "Memory").

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use todo_common::config::Auth;
use todo_common::domain::Password;
use todo_common::error::{Error, Result};
use todo_common::metric;

/// What a refused caller is told to wait: a hash takes tens of
/// milliseconds, so slots free up quickly once a burst passes.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Work for a hashing thread; it holds its slot until it ends.
type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on `limit` threads of their own, at most
/// `limit` at once; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct Passwords {
    slots: Arc<Semaphore>,
    limit: usize,
    wait: Duration,
    jobs: mpsc::Sender<Job>,
}

impl Passwords {
    pub fn new(limit: usize, wait: Duration) -> Self {
        let limit = limit.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..limit {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for a job, so
                        // the threads take turns at the queue, not at work.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            // Every sender is gone: the service is.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                // Fewer threads only means jobs wait in the queue for one
                // (the slots still bound them); with none, `run` says so.
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            wait,
            jobs,
        }
    }

    pub fn from_config(config: &Auth) -> Self {
        Self::new(
            usize::try_from(config.password_hash_concurrency).unwrap_or(usize::MAX),
            config.password_hash_wait,
        )
    }

    pub async fn hash(&self, password: Password) -> Result<String> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
        })
        .await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown
    /// email, or an account without a password) it still spends the same
    /// time on a dummy hash, so response time does not reveal which emails exist.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool> {
        self.run(move || {
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
    }

    /// Runs `work` on a hashing thread once a slot is free (within `wait`).
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let slot = self.slot().await?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Held until the hash ends, even when the request is gone: the
            // memory is in use until then. Freed before the answer goes
            // out, so a caller that has its answer finds its slot free.
            let done = work();
            drop(slot);
            let _ = tx.send(done);
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal("no password hashing thread is running".into()))?;
        rx.await
            .map_err(|_| Error::Internal("a password hashing thread failed".into()))
    }

    /// Hashes running now.
    pub fn in_progress(&self) -> usize {
        self.limit - self.slots.available_permits()
    }

    /// A free slot now, or within `wait`; else `Overloaded`.
    async fn slot(&self) -> Result<OwnedSemaphorePermit> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Ok(slot);
        }
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            // The wait ran out (the semaphore is never closed).
            _ => {
                metrics::counter!(metric::PASSWORD_HASHES_REFUSED_TOTAL).increment(1);
                Err(Error::Overloaded {
                    retry_after: RETRY_AFTER,
                })
            }
        }
    }
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
    use std::future::{Future, poll_fn};
    use std::pin::pin;
    use std::task::Poll;

    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let passwords = Passwords::new(2, Duration::from_secs(5));
        let stored = passwords.hash(pw("correct horse")).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            passwords
                .verify(pw("correct horse"), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(pw("wrong horse"), Some(stored))
                .await
                .unwrap()
        );
        assert!(!passwords.verify(pw("correct horse"), None).await.unwrap());
        assert_eq!(passwords.in_progress(), 0, "slots come back");
    }

    #[tokio::test]
    async fn no_more_than_the_limit_hash_at_once() {
        let passwords = Passwords::new(2, Duration::ZERO);
        let first = passwords.slot().await.unwrap();
        let _second = passwords.slot().await.unwrap();
        assert_eq!(passwords.in_progress(), 2);
        for refused in [
            passwords.hash(pw("correct horse")).await.unwrap_err(),
            passwords
                .verify(pw("correct horse"), None)
                .await
                .unwrap_err(),
        ] {
            match refused {
                Error::Overloaded { retry_after } => assert!(retry_after >= Duration::from_secs(1)),
                other => panic!("expected Overloaded, got {other:?}"),
            }
        }
        assert_eq!(passwords.in_progress(), 2, "refused calls take no slot");
        drop(first);
        passwords.hash(pw("correct horse")).await.unwrap();
    }

    #[tokio::test]
    async fn hashes_run_on_the_pools_own_threads_at_most_limit_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let passwords = Passwords::new(2, Duration::from_secs(60));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let calls = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            passwords.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Real work, so that calls overlap if the bound let them.
                let _ = Argon2::default().hash_password(b"correct horse");
                running.fetch_sub(1, Ordering::SeqCst);
                std::thread::current().name().map(str::to_owned)
            })
        });
        for name in futures_util::future::join_all(calls).await {
            let name = name.unwrap().unwrap_or_default();
            assert!(name.starts_with("argon2-"), "ran on {name:?}, not the pool");
        }
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "more than the limit at once"
        );
        assert_eq!(passwords.in_progress(), 0, "slots come back");
    }

    #[tokio::test]
    async fn a_call_waits_for_a_slot_within_the_wait() {
        let passwords = Passwords::new(1, Duration::from_secs(60));
        let held = passwords.slot().await.unwrap();
        let mut hashing = pin!(passwords.hash(pw("correct horse")));
        // Polled once: it queues for the slot instead of running or failing.
        let pending = poll_fn(|cx| Poll::Ready(hashing.as_mut().poll(cx).is_pending())).await;
        assert!(pending);
        drop(held);
        assert!(hashing.await.unwrap().starts_with("$argon2id$"));
    }
}
