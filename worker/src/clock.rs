//! The one place the worker reads the clock for what a user's words mean:
//! "today", "tomorrow at 5pm", "overdue" are the user's, in their zone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use todo_common::domain::TimeZone;

/// Now, for one user.
#[derive(Debug, Clone, Copy)]
pub struct UserNow {
    pub instant: DateTime<Utc>,
    pub zone: TimeZone,
}

impl UserNow {
    /// The system clock, read now.
    pub fn of(zone: TimeZone) -> Self {
        Self {
            instant: Utc::now(),
            zone,
        }
    }

    /// The user's wall clock.
    pub fn local(&self) -> DateTime<Tz> {
        self.zone.local(self.instant)
    }

    /// The user's today.
    pub fn today(&self) -> NaiveDate {
        self.local().date_naive()
    }
}
