//! Caps on open event streams (and, in a set of their own, MCP sessions),
//! per user and per instance. Each costs a socket and a query per change of
//! its user, so one user opening thousands would turn each of their changes
//! into thousands of queries.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use todo_common::domain::UserId;

pub struct StreamSlots {
    /// The gauge that follows how many are open.
    gauge: &'static str,
    per_user: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_user: HashMap<UserId, usize>,
}

/// Why a stream was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    User(usize),
    Instance(usize),
}

/// An open stream's place; freed when dropped.
pub struct Slot {
    slots: Arc<StreamSlots>,
    user: UserId,
}

impl StreamSlots {
    pub fn new(gauge: &'static str, per_user: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            gauge,
            per_user,
            total,
            open: Mutex::default(),
        })
    }

    // parking_lot: a panic elsewhere cannot poison the lock (as in the hub).
    fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock()
    }

    pub fn acquire(self: &Arc<Self>, user: &UserId) -> Result<Slot, Full> {
        let mut open = self.open();
        let mine = open.by_user.get(user).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(Full::User(self.per_user));
        }
        if open.total >= self.total {
            return Err(Full::Instance(self.total));
        }
        open.total += 1;
        open.by_user.insert(user.clone(), mine + 1);
        metrics::gauge!(self.gauge).set(open.total as f64);
        Ok(Slot {
            slots: self.clone(),
            user: user.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.by_user.remove(&self.user);
            }
        }
        metrics::gauge!(self.slots.gauge).set(open.total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u8) -> UserId {
        UserId::parse(&format!("user-{n}")).unwrap()
    }

    #[test]
    fn caps_per_user_and_per_instance_and_frees_on_drop() {
        let slots = StreamSlots::new("test_slots_open", 2, 3);
        let a1 = slots.acquire(&user(1)).unwrap();
        let _a2 = slots.acquire(&user(1)).unwrap();
        assert_eq!(slots.acquire(&user(1)).err(), Some(Full::User(2)));
        let _b1 = slots.acquire(&user(2)).unwrap();
        assert_eq!(slots.acquire(&user(3)).err(), Some(Full::Instance(3)));
        drop(a1);
        let _c1 = slots.acquire(&user(3)).unwrap();
        assert_eq!(slots.acquire(&user(1)).err(), Some(Full::Instance(3)));
    }
}
