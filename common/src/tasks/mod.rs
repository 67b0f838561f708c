//! The task tools: the one implementation of add / list / get / update /
//! complete / delete (and, for undo, putting a task back: `revert`) that
//! the REST routes, the chat agent and the MCP server all call. Every
//! function is scoped by the caller's user id, which comes from a verified
//! token (REST, MCP) or from the queued turn (chat), never from
//! user-controlled input.

mod input;
mod list;
mod repeat;
mod revert;
mod service;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgExecutor};

use crate::domain::reminder;
use crate::domain::{
    Due, DueSpec, IdempotencyKey, Priority, Recurrence, Reminder, Reminders, TaskId, TimeZone,
    UserId,
};
use crate::error::{Error, Result};
use crate::events::{Event, TaskCompleted};
use crate::work::Work;

pub use crate::domain::Task;
pub use input::{NewTask, NewTaskInput, TaskPatch, TaskPatchInput};
pub use list::{
    DueFilter, ListParams, ListQuery, MAX_LIMIT as MAX_LIST_LIMIT, Sort, StatusFilter, Tally,
    TaskPage,
};
pub(crate) use revert::{current, forget_completion, reinstate, restore};
pub use service::Tasks;

/// The task columns, for the one listing whose SQL is assembled at run time
/// (list.rs). The `query_as!` queries below spell them out: a macro's SQL
/// must be one literal, and the overrides map them to our types.
macro_rules! columns {
    () => {
        "number AS id, user_id, title, description, completed, priority, tags, \
         due_date, due_at, recurrence, reminders, completed_at, created_at, updated_at"
    };
}
pub(crate) use columns;

/// A due date as sent, placed in the user's zone when it has a time.
async fn place(work: &mut Work, user: &UserId, spec: Option<DueSpec>) -> Result<Option<Due>> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    let zone = if spec.needs_zone() {
        work.zone(user).await?
    } else {
        TimeZone::UTC
    };
    spec.place(zone).map(Some)
}

fn not_found(id: TaskId) -> Error {
    Error::NotFound(format!("task {id}"))
}

// Writes take anything that can begin a transaction: a pool ([`Tasks`], for
// REST and MCP), or the caller's own transaction (a chat tool call, whose
// effect must commit together with its recorded result). Each runs in its
// own transaction or savepoint and records its event in it. They are not
// public: a door goes through [`Tasks`] or the tools, which also wake the
// user's live streams once the change is committed.

/// What [`create`] came to.
#[derive(Debug, Clone)]
pub struct Created {
    /// The new task, or (replayed) the one the first request with the same
    /// idempotency key created, as it is now.
    pub task: Task,
    /// True when the key had been used for this same task before: nothing
    /// was stored and no event recorded.
    pub replayed: bool,
}

/// Adds a task; with an idempotency key, only once per key (a retry gets the
/// first request's task, another task under the key is refused).
pub(crate) async fn create(
    work: &mut Work,
    user: &UserId,
    new: NewTask,
    key: Option<&IdempotencyKey>,
) -> Result<Created> {
    let fingerprint = key.map(|_| new.fingerprint());
    let mut due = place(work, user, new.due).await?;
    let recurrence = match new.recurrence {
        Some(spec) => {
            let zone = work.zone(user).await?;
            let placed = repeat::place(spec, due, zone, work.now())?;
            due = Some(placed.due);
            Some(placed.recurrence)
        }
        None => None,
    };
    let zone = zone_if(work, user, !new.reminders.is_empty()).await?;
    let reminders = Reminders(reminder::place(&new.reminders, due, zone)?);
    // The key is looked for after the insert meets the unique index, not
    // before: an insert racing another with the same key waits for it to
    // commit and then does nothing, so of parallel retries exactly one
    // stores the task. A task deleted in between frees its key: try again.
    for _ in 0..3 {
        // The user's next number, taken under the lock of their counter row
        // (held to commit, so numbers follow one another without a race).
        let inserted = sqlx::query_as!(
            Task,
            r#"WITH n AS (
                INSERT INTO task_numbers AS c (user_id, last) VALUES ($1, 1)
                ON CONFLICT (user_id) DO UPDATE SET last = c.last + 1
                RETURNING last)
             INSERT INTO tasks (user_id, number, title, description, priority, tags, due_date,
                due_at, recurrence, reminders, next_reminder_at, idempotency_key,
                idempotency_fingerprint)
             SELECT $1, n.last, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM n
             ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL
             DO NOTHING RETURNING number AS "id: TaskId", user_id AS "user_id: UserId", title,
                description, completed, priority AS "priority: Priority", tags, due_date,
                due_at, recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at,
                updated_at"#,
            user.as_str(),
            new.title.as_str(),
            new.description.as_str(),
            new.priority as Priority,
            new.tags.as_slice() as &[String],
            due.map(|d| d.date),
            due.and_then(|d| d.at),
            recurrence.as_ref().map(Recurrence::stored),
            reminders.stored(),
            reminders.next_at(),
            key.map(IdempotencyKey::as_str),
            fingerprint.as_ref().map(|f| f.as_slice()),
        )
        .fetch_optional(work.conn())
        .await?;
        if let Some(task) = inserted {
            work.record(user, Event::TaskCreated(task.clone()));
            tracing::debug!(task_id = %task.id, "task created");
            return Ok(Created {
                task,
                replayed: false,
            });
        }
        // Only a key can conflict. The number taken for it goes back: a
        // retry must not leave a gap in the user's list.
        let (Some(key), Some(fingerprint)) = (key, fingerprint) else {
            break;
        };
        sqlx::query!(
            "UPDATE task_numbers SET last = last - 1 WHERE user_id = $1",
            user.as_str(),
        )
        .execute(work.conn())
        .await?;
        if let Some(task) = created_under(work.conn(), user, key, &fingerprint).await? {
            return Ok(Created {
                task,
                replayed: true,
            });
        }
    }
    Err(Error::Internal(
        "a task's idempotency key kept conflicting without a task".into(),
    ))
}

/// The task created earlier under `key`, if it still exists. The key sent
/// with another task is the client's mistake, refused rather than answered
/// with the wrong task.
async fn created_under(
    conn: &mut PgConnection,
    user: &UserId,
    key: &IdempotencyKey,
    fingerprint: &[u8; 32],
) -> Result<Option<Task>> {
    // The fingerprint is set whenever the key is (tasks_idempotency_pair_check).
    let stored = sqlx::query!(
        r#"SELECT number AS "id: TaskId", idempotency_fingerprint AS "fingerprint!" FROM tasks
         WHERE user_id = $1 AND idempotency_key = $2"#,
        user.as_str(),
        key.as_str(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    if stored.fingerprint != fingerprint {
        return Err(Error::IdempotencyKeyReused);
    }
    get(conn, user, stored.id).await.map(Some)
}

pub async fn get<'c>(db: impl PgExecutor<'c>, user: &UserId, id: TaskId) -> Result<Task> {
    sqlx::query_as!(
        Task,
        r#"SELECT number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at
         FROM tasks WHERE number = $1 AND user_id = $2"#,
        id.get(),
        user.as_str(),
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found(id))
}

/// Lists in a unit of work (a tool call); the user's zone is read only
/// when the query needs their today.
pub(crate) async fn list_in(work: &mut Work, user: &UserId, query: &ListQuery) -> Result<TaskPage> {
    let zone = if query.needs_zone() {
        work.zone(user).await?
    } else {
        TimeZone::UTC
    };
    let now = work.now();
    list::run(work.conn(), user, query, zone, now).await
}

/// The counts of a listing (a tool's summary): all its matches, and the
/// user's open, overdue and due-today tasks in their zone.
pub(crate) async fn tally_in(work: &mut Work, user: &UserId, query: &ListQuery) -> Result<Tally> {
    let zone = work.zone(user).await?;
    let now = work.now();
    list::tally(work.conn(), user, query, zone, now).await
}

/// Applies the fields present in `patch`; absent fields keep their value.
/// Completing a recurring task records the occurrence and moves the task
/// to its next one instead (see [`repeat::next`]); at the end of its series
/// it is done for good.
pub(crate) async fn update(
    work: &mut Work,
    user: &UserId,
    id: TaskId,
    mut patch: TaskPatch,
) -> Result<Task> {
    let current = locked(work, user, id).await?;
    let mut due = match patch.due {
        Some(spec) => place(work, user, spec).await?,
        None => current.due(),
    };
    let mut recurrence = match patch.recurrence.take() {
        Some(Some(spec)) => {
            let zone = work.zone(user).await?;
            let placed = repeat::place(spec, due, zone, work.now())?;
            due = Some(placed.due);
            Some(placed.recurrence)
        }
        Some(None) => None,
        None => current.recurrence.clone(),
    };
    let Some(now_due) = due else {
        if recurrence.is_some() {
            return Err(Error::invalid(
                "due_date",
                "a recurring task is always due; send \"recurrence\": null to stop it repeating",
            ));
        }
        let reminders = follow_or_place(work, user, &current, &patch, None).await?;
        let after = After {
            due: None,
            recurrence: None,
            reminders: &reminders,
            completed: patch.completed,
        };
        return write(work, user, id, &patch, after).await;
    };
    let mut completed = patch.completed;
    let mut done = None;
    if patch.completed == Some(true)
        && !current.completed
        && let Some(series) = &recurrence
    {
        let zone = work.zone(user).await?;
        if let Some(moved) = repeat::next(series, now_due, zone, work.now()) {
            done = Some(now_due);
            due = Some(moved.due);
            recurrence = Some(moved.recurrence);
            completed = None;
        }
    }
    let reminders = follow_or_place(work, user, &current, &patch, due).await?;
    let after = After {
        due,
        recurrence: recurrence.as_ref(),
        reminders: &reminders,
        completed,
    };
    let task = write(work, user, id, &patch, after).await?;
    if let Some(occurrence) = done {
        record_completion(work, user, &task, occurrence).await?;
    }
    Ok(task)
}

/// The user's zone when `needed` (a relative reminder on a task due all
/// day counts from 09:00 there), else UTC without a query.
async fn zone_if(work: &mut Work, user: &UserId, needed: bool) -> Result<TimeZone> {
    if needed {
        work.zone(user).await
    } else {
        Ok(TimeZone::UTC)
    }
}

/// The task's reminders after a change: the patch's list placed on the new
/// due date, or the task's own, relative ones following it there.
async fn follow_or_place(
    work: &mut Work,
    user: &UserId,
    current: &Task,
    patch: &TaskPatch,
    due: Option<Due>,
) -> Result<Reminders> {
    let relative = |r: &Reminder| r.before_due_minutes.is_some();
    match &patch.reminders {
        Some(specs) => {
            let zone = zone_if(work, user, !specs.is_empty()).await?;
            Ok(Reminders(reminder::place(specs, due, zone)?))
        }
        None => {
            let zone = zone_if(work, user, current.reminders.0.iter().any(relative)).await?;
            Ok(Reminders(reminder::follow(&current.reminders.0, due, zone)))
        }
    }
}

/// The task's row, locked until the work ends: a change computed from it
/// (the next occurrence) cannot race another.
async fn locked(work: &mut Work, user: &UserId, id: TaskId) -> Result<Task> {
    sqlx::query_as!(
        Task,
        r#"SELECT number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at
         FROM tasks WHERE number = $1 AND user_id = $2 FOR UPDATE"#,
        id.get(),
        user.as_str(),
    )
    .fetch_optional(work.conn())
    .await?
    .ok_or_else(|| not_found(id))
}

/// What a change leaves of the fields worked out from the task's own:
/// its due date, series, reminders, and done (None: as it is).
struct After<'a> {
    due: Option<Due>,
    recurrence: Option<&'a Recurrence>,
    reminders: &'a Reminders,
    completed: Option<bool>,
}

/// Writes a change: the patch's own fields, and the rest as worked out.
async fn write(
    work: &mut Work,
    user: &UserId,
    id: TaskId,
    patch: &TaskPatch,
    after: After<'_>,
) -> Result<Task> {
    let After {
        due,
        recurrence,
        reminders,
        completed,
    } = after;
    // COALESCE keeps absent fields; `completed` None keeps it as it is.
    let task = sqlx::query_as!(
        Task,
        r#"UPDATE tasks SET
            title = COALESCE($3, title),
            description = COALESCE($4, description),
            priority = COALESCE($5, priority),
            tags = COALESCE($6, tags),
            due_date = $7,
            due_at = $8,
            recurrence = $9,
            reminders = $10,
            next_reminder_at = $11,
            completed = COALESCE($12, completed),
            completed_at = CASE
                WHEN $12 IS NULL OR $12 = completed THEN completed_at
                WHEN $12 THEN now() ELSE NULL END,
            updated_at = now()
         WHERE number = $1 AND user_id = $2
         RETURNING number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at"#,
        id.get(),
        user.as_str(),
        patch.title.as_ref().map(|t| t.as_str()),
        patch.description.as_ref().map(|d| d.as_str()),
        patch.priority as Option<Priority>,
        patch.tags.as_ref().map(|t| t.as_slice()) as Option<&[String]>,
        due.map(|d| d.date),
        due.and_then(|d| d.at),
        recurrence.map(Recurrence::stored),
        reminders.stored(),
        reminders.next_at(),
        completed,
    )
    .fetch_optional(work.conn())
    .await?
    .ok_or_else(|| not_found(id))?;
    work.record(user, Event::TaskUpdated(task.clone()));
    Ok(task)
}

/// Keeps a done occurrence of a recurring task, and says so.
async fn record_completion(
    work: &mut Work,
    user: &UserId,
    task: &Task,
    occurrence: Due,
) -> Result<()> {
    let completed_at = sqlx::query_scalar!(
        r#"INSERT INTO task_completions (task_id, due_date, due_at)
         SELECT id, $3, $4 FROM tasks WHERE user_id = $1 AND number = $2
         RETURNING completed_at"#,
        user.as_str(),
        task.id.get(),
        occurrence.date,
        occurrence.at,
    )
    .fetch_one(work.conn())
    .await?;
    work.record(
        user,
        Event::TaskCompleted(TaskCompleted {
            task: task.clone(),
            due_date: occurrence.date,
            due_at: occurrence.at,
            completed_at,
        }),
    );
    Ok(())
}

/// Moves a recurring task to its next occurrence without marking this one
/// done ("skip this one"); a task at the end of its series is done.
pub(crate) async fn skip(work: &mut Work, user: &UserId, id: TaskId) -> Result<Task> {
    let current = locked(work, user, id).await?;
    let (Some(series), Some(due)) = (&current.recurrence, current.due()) else {
        return Err(Error::invalid(
            "task_id",
            format!("task {id} does not repeat: there is no next occurrence to skip to"),
        ));
    };
    let zone = work.zone(user).await?;
    let patch = TaskPatch::default();
    match repeat::next(series, due, zone, work.now()) {
        Some(moved) => {
            let reminders = Reminders(reminder::follow(
                &current.reminders.0,
                Some(moved.due),
                zone,
            ));
            let after = After {
                due: Some(moved.due),
                recurrence: Some(&moved.recurrence),
                reminders: &reminders,
                completed: None,
            };
            write(work, user, id, &patch, after).await
        }
        // The series is over: done for good.
        None => {
            let after = After {
                due: Some(due),
                recurrence: Some(series),
                reminders: &current.reminders,
                completed: Some(true),
            };
            write(work, user, id, &patch, after).await
        }
    }
}

/// Marks a task done (or not done). Completing a completed task keeps its
/// original completed_at, so repeating the request changes nothing.
pub(crate) async fn set_completed(
    work: &mut Work,
    user: &UserId,
    id: TaskId,
    completed: bool,
) -> Result<Task> {
    update(
        work,
        user,
        id,
        TaskPatch {
            completed: Some(completed),
            ..TaskPatch::default()
        },
    )
    .await
}

/// What a delete of a recurring task removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteScope {
    /// This occurrence: the task moves to its next one (a skip).
    Occurrence,
    /// The task and its whole series.
    Series,
}

impl DeleteScope {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "occurrence" => Ok(Self::Occurrence),
            "series" => Ok(Self::Series),
            _ => Err(Error::invalid("scope", "must be occurrence or series")),
        }
    }
}

/// What a delete came to.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The task is gone; what it was.
    Gone(Task),
    /// Only this occurrence: the task, moved to its next one.
    Skipped(Task),
}

/// Deletes a task and returns what it was. A recurring task needs a scope:
/// without one the caller is asked which they meant, and nothing changes.
pub(crate) async fn delete(
    work: &mut Work,
    user: &UserId,
    id: TaskId,
    scope: Option<DeleteScope>,
) -> Result<Deleted> {
    if scope != Some(DeleteScope::Series) {
        let current = locked(work, user, id).await?;
        if current.recurrence.is_some() {
            return match scope {
                Some(_) => skip(work, user, id).await.map(Deleted::Skipped),
                None => Err(Error::invalid(
                    "scope",
                    format!(
                        "task {id} (\"{}\") repeats: skip just this occurrence, or delete the whole series (scope \"series\")?",
                        current.title
                    ),
                )),
            };
        }
    }
    let task = sqlx::query_as!(
        Task,
        r#"DELETE FROM tasks WHERE number = $1 AND user_id = $2
         RETURNING number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at"#,
        id.get(),
        user.as_str(),
    )
    .fetch_optional(work.conn())
    .await?
    .ok_or_else(|| not_found(id))?;
    work.record(user, Event::TaskDeleted(task.clone()));
    Ok(Deleted::Gone(task))
}

/// Sets `user`'s time zone, and moves each timed task to its day there
/// (its instant stays: 18:00 in Berlin is 12:00 in New York) and relative
/// reminders of all-day tasks to 09:00 there. False when the account is gone.
pub(crate) async fn set_time_zone(work: &mut Work, user: &UserId, zone: TimeZone) -> Result<bool> {
    let found = sqlx::query_scalar!(
        r#"UPDATE users SET time_zone = $2 WHERE id = $1 RETURNING true AS "found!""#,
        user.as_str(),
        zone.name(),
    )
    .fetch_optional(work.conn())
    .await?;
    if found.is_none() {
        return Ok(false);
    }
    work.know_zone(user, zone);
    // Timed tasks (their day) and tasks with reminders (relative ones on an
    // all-day task count from 09:00 in the zone).
    let placed = sqlx::query!(
        r#"SELECT number, due_date, due_at, reminders AS "reminders: Reminders" FROM tasks
         WHERE user_id = $1 AND (due_at IS NOT NULL OR reminders <> '[]')"#,
        user.as_str(),
    )
    .fetch_all(work.conn())
    .await?;
    let mut numbers = Vec::new();
    let mut days = Vec::new();
    let mut lists = Vec::new();
    let mut nexts = Vec::new();
    for t in placed {
        let day = t
            .due_at
            .map(|at| zone.local(at).date_naive())
            .or(t.due_date);
        let due = day.map(|date| Due { date, at: t.due_at });
        let reminders = Reminders(reminder::follow(&t.reminders.0, due, zone));
        if day != t.due_date || reminders != t.reminders {
            numbers.push(t.number);
            days.push(day);
            nexts.push(reminders.next_at());
            lists.push(reminders.stored());
        }
    }
    if numbers.is_empty() {
        return Ok(true);
    }
    let moved = sqlx::query_as!(
        Task,
        r#"UPDATE tasks t SET due_date = m.day, reminders = m.reminders,
            next_reminder_at = m.next, updated_at = now()
         FROM unnest($2::bigint[], $3::date[], $4::jsonb[], $5::timestamptz[])
            AS m(number, day, reminders, next)
         WHERE t.user_id = $1 AND t.number = m.number
         RETURNING t.number AS "id: TaskId", t.user_id AS "user_id: UserId", t.title,
            t.description, t.completed, t.priority AS "priority: Priority", t.tags, t.due_date,
            t.due_at, t.recurrence AS "recurrence: Recurrence",
            t.reminders AS "reminders: Reminders", t.completed_at, t.created_at, t.updated_at"#,
        user.as_str(),
        &numbers,
        &days as &[Option<NaiveDate>],
        &lists,
        &nexts as &[Option<chrono::DateTime<chrono::Utc>>],
    )
    .fetch_all(work.conn())
    .await?;
    for task in moved {
        work.record(user, Event::TaskUpdated(task));
    }
    Ok(true)
}
