//! Firing reminders, exactly once (issue 21).
//!
//! A task's reminders live on its row, with `next_reminder_at` the earliest
//! unfired one. [`fire_due`] takes rows whose time has come, `FOR UPDATE
//! SKIP LOCKED` (so any number of workers share the work and never take the
//! same row), and in one transaction marks them fired, appends the
//! reminder's message to the user's latest conversation and records its
//! `reminder.due` event. A worker killed before the commit leaves nothing
//! behind and the rows are taken again; after the commit they are fired and
//! never taken again. So each reminder fires once, and never before its
//! time: the rows are chosen by the database's own clock.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::chat::messages::{self, NewRow};
use crate::domain::{Conversation, MessageRole, Reminders, TaskId, TimeZone, UserId};
use crate::error::Result;
use crate::events::{Event, ReminderDue};
use crate::metric;
use crate::queue::Broker;
use crate::work::Work;

/// A reminder fired later than this after its time is "late".
pub const LATE_AFTER: TimeDelta = TimeDelta::minutes(1);

/// What one round of [`fire_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fired {
    /// Tasks reminded (one message each).
    pub tasks: usize,
    /// Reminders fired (several of a task due together are one message).
    pub reminders: usize,
}

struct Due {
    pk: i64,
    id: TaskId,
    user: UserId,
    title: String,
    due_date: Option<NaiveDate>,
    due_at: Option<DateTime<Utc>>,
    reminders: Reminders,
    zone: TimeZone,
}

/// Fires the reminders whose time has come, of at most `limit` tasks, in
/// one unit of work; see the module docs.
pub async fn fire_due(pool: &PgPool, live: &Arc<Broker>, limit: i64) -> Result<Fired> {
    let mut work = Work::begin(pool, live).await?;
    let rows = sqlx::query!(
        r#"SELECT t.id AS pk, t.number AS "id: TaskId", t.user_id AS "user_id: UserId", t.title,
            t.due_date, t.due_at, t.reminders AS "reminders: Reminders",
            u.time_zone AS "zone: TimeZone", now() AS "now!"
         FROM tasks t JOIN users u ON u.id = t.user_id
         WHERE t.next_reminder_at <= now()
         ORDER BY t.next_reminder_at
         LIMIT $1
         FOR UPDATE OF t SKIP LOCKED"#,
        limit,
    )
    .fetch_all(work.conn())
    .await?;
    let Some(now) = rows.first().map(|r| r.now) else {
        return Ok(Fired::default());
    };
    let due: Vec<Due> = rows
        .into_iter()
        .map(|r| Due {
            pk: r.pk,
            id: r.id,
            user: r.user_id,
            title: r.title,
            due_date: r.due_date,
            due_at: r.due_at,
            reminders: r.reminders,
            zone: r.zone,
        })
        .collect();

    // Mark what came due fired, and find each task's next time.
    let mut pks = Vec::with_capacity(due.len());
    let mut lists = Vec::with_capacity(due.len());
    let mut nexts = Vec::with_capacity(due.len());
    let mut fired = Vec::with_capacity(due.len());
    for task in &due {
        let mut reminders = task.reminders.clone();
        let mut times = Vec::new();
        for r in reminders.0.iter_mut() {
            if r.fired_at.is_none() && r.at <= now {
                r.fired_at = Some(now);
                times.push(r.at);
            }
        }
        pks.push(task.pk);
        nexts.push(reminders.next_at());
        lists.push(reminders.stored());
        fired.push(times);
    }
    sqlx::query!(
        r#"UPDATE tasks t SET reminders = m.reminders, next_reminder_at = m.next
         FROM unnest($1::bigint[], $2::jsonb[], $3::timestamptz[]) AS m(pk, reminders, next)
         WHERE t.id = m.pk"#,
        &pks,
        &lists,
        &nexts as &[Option<DateTime<Utc>>],
    )
    .execute(work.conn())
    .await?;

    let conversations = latest_conversations(&mut work, &due).await?;
    let mut done = Fired::default();
    for (task, times) in due.iter().zip(&fired) {
        // A row whose reminders changed under an old next_reminder_at has
        // nothing to fire: only its next time was put right.
        let Some(&at) = times.iter().max() else {
            continue;
        };
        for t in times {
            let lateness = (now - *t).to_std().unwrap_or_default().as_secs_f64();
            metrics::histogram!(metric::REMINDER_LATENESS_SECONDS).record(lateness);
        }
        let late = now - at > LATE_AFTER;
        let conversation = conversations[&task.user];
        let text = message_text(task, at, late, now);
        let row = NewRow::new(MessageRole::Assistant, &text);
        let appended = messages::append(work.tx(), conversation, &task.user, &[row], None).await?;
        let Some(message) = appended.messages.into_iter().next() else {
            continue;
        };
        work.record(
            &task.user,
            Event::ReminderDue(ReminderDue {
                task_id: task.id,
                title: task.title.clone(),
                due_date: task.due_date,
                due_at: task.due_at,
                at,
                fired_at: now,
                late,
                reminders: times.len(),
                message,
            }),
        );
        let late_label = if late { "true" } else { "false" };
        metrics::counter!(metric::REMINDERS_FIRED_TOTAL, "late" => late_label)
            .increment(times.len() as u64);
        done.tasks += 1;
        done.reminders += times.len();
    }
    work.commit().await?;
    Ok(done)
}

/// Each user's most recent conversation; one titled "Reminders" is started
/// for a user who has none.
async fn latest_conversations(work: &mut Work, due: &[Due]) -> Result<HashMap<UserId, Uuid>> {
    let mut users: Vec<&str> = due.iter().map(|d| d.user.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let found = sqlx::query!(
        r#"SELECT DISTINCT ON (user_id) user_id AS "user_id: UserId", id
         FROM conversations WHERE user_id = ANY($1)
         ORDER BY user_id, updated_at DESC"#,
        &users as &[&str],
    )
    .fetch_all(work.conn())
    .await?;
    let mut latest: HashMap<UserId, Uuid> = found.into_iter().map(|r| (r.user_id, r.id)).collect();
    for task in due {
        if latest.contains_key(&task.user) {
            continue;
        }
        let conversation = sqlx::query_as!(
            Conversation,
            r#"INSERT INTO conversations (id, user_id, title) VALUES ($1, $2, 'Reminders')
             RETURNING id, title, created_at, updated_at, NULL::text AS last_message"#,
            Uuid::now_v7(),
            task.user.as_str(),
        )
        .fetch_one(work.conn())
        .await?;
        latest.insert(task.user.clone(), conversation.id);
        work.record(&task.user, Event::ConversationCreated(conversation));
    }
    Ok(latest)
}

/// "Reminder: call mom at 18:00", "Reminder: pay rent, due today", with
/// the day when it is not today, and "(late: this was for 17:30)" when late;
/// times on the user's clock.
fn message_text(task: &Due, at: DateTime<Utc>, late: bool, now: DateTime<Utc>) -> String {
    let today = task.zone.local(now).date_naive();
    let day = |date: NaiveDate| match (date - today).num_days() {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        -1 => "yesterday".to_string(),
        _ => date.format("%a %-d %b").to_string(),
    };
    let mut text = match (task.due_at, task.due_date) {
        (Some(due_at), Some(date)) => {
            let time = task.zone.local(due_at).format("%H:%M");
            if date == today {
                format!("Reminder: {} at {time}", task.title)
            } else {
                format!("Reminder: {} at {time} {}", task.title, day(date))
            }
        }
        (_, Some(date)) => format!("Reminder: {}, due {}", task.title, day(date)),
        _ => format!("Reminder: {}", task.title),
    };
    if late {
        let was = task.zone.local(at);
        let when = if was.date_naive() == today {
            was.format("%H:%M").to_string()
        } else {
            format!("{} {}", was.format("%H:%M"), day(was.date_naive()))
        };
        text.push_str(&format!(" (late: this was for {when})"));
    }
    text
}

/// How many tasks have a reminder still to fire, and how many of those are
/// past their time (the scheduler's backlog), for the gauges.
pub async fn pending(pool: &PgPool) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "pending!", count(*) FILTER (WHERE next_reminder_at <= now()) AS "overdue!"
         FROM tasks WHERE next_reminder_at IS NOT NULL"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.pending, row.overdue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(due_at: Option<&str>, due_date: Option<&str>) -> Due {
        Due {
            pk: 1,
            id: TaskId::new(3).unwrap(),
            user: UserId::parse("u").unwrap(),
            title: "call mom".into(),
            due_date: due_date.map(|d| d.parse().unwrap()),
            due_at: due_at.map(|d| d.parse().unwrap()),
            reminders: Reminders::default(),
            zone: TimeZone::parse("Europe/Berlin").unwrap(),
        }
    }

    #[test]
    fn messages_say_when_on_the_users_clock() {
        let now: DateTime<Utc> = "2026-12-08T16:30:00Z".parse().unwrap();
        let timed = task(Some("2026-12-08T17:00:00Z"), Some("2026-12-08"));
        assert_eq!(
            message_text(&timed, now, false, now),
            "Reminder: call mom at 18:00"
        );
        let tomorrow = task(Some("2026-12-09T17:00:00Z"), Some("2026-12-09"));
        assert_eq!(
            message_text(&tomorrow, now, false, now),
            "Reminder: call mom at 18:00 tomorrow"
        );
        let all_day = task(None, Some("2026-12-08"));
        assert_eq!(
            message_text(&all_day, now, false, now),
            "Reminder: call mom, due today"
        );
        let was: DateTime<Utc> = "2026-12-08T08:00:00Z".parse().unwrap();
        assert_eq!(
            message_text(&all_day, was, true, now),
            "Reminder: call mom, due today (late: this was for 09:00)"
        );
    }
}
