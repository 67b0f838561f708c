//! Putting tasks back as they were: the writes that undo a chat change
//! (`tools::undo`, issue 22). Like every write here, each records its
//! `task.*` event in the caller's unit of work, so live clients see an
//! undo as they see any other change.

use super::{Due, Priority, Recurrence, Reminders, Task, TaskId, UserId, Work, locked};
use crate::error::{Error, Result};
use crate::events::Event;

/// The task's row, locked until the work ends; None when it is gone.
pub(crate) async fn current(work: &mut Work, user: &UserId, id: TaskId) -> Result<Option<Task>> {
    match locked(work, user, id).await {
        Ok(task) => Ok(Some(task)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `before`'s fields back onto the task, which is `now` (locked):
/// title, description, done (with its time), priority, tags, due date,
/// series (with its count) and reminders. A reminder that already fired at
/// the same time stays fired: putting it back must not remind twice.
pub(crate) async fn restore(
    work: &mut Work,
    user: &UserId,
    before: &Task,
    now: &Task,
) -> Result<Task> {
    let mut reminders = before.reminders.clone();
    for r in &mut reminders.0 {
        if let Some(fired) = now.reminders.0.iter().find(|n| {
            n.at == r.at && n.before_due_minutes == r.before_due_minutes && n.fired_at.is_some()
        }) {
            r.fired_at = fired.fired_at;
        }
    }
    let task = sqlx::query_as!(
        Task,
        r#"UPDATE tasks SET title = $3, description = $4, completed = $5, completed_at = $6,
            priority = $7, tags = $8, due_date = $9, due_at = $10, recurrence = $11,
            reminders = $12, next_reminder_at = $13, updated_at = now()
         WHERE number = $1 AND user_id = $2
         RETURNING number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at"#,
        before.id.get(),
        user.as_str(),
        before.title,
        before.description,
        before.completed,
        before.completed_at,
        before.priority as Priority,
        before.tags.as_slice() as &[String],
        before.due_date,
        before.due_at,
        before.recurrence.as_ref().map(Recurrence::stored),
        reminders.stored(),
        reminders.next_at(),
    )
    .fetch_optional(work.conn())
    .await?
    .ok_or_else(|| super::not_found(before.id))?;
    work.record(user, Event::TaskUpdated(task.clone()));
    Ok(task)
}

/// Inserts a deleted task again under its own number (numbers are never
/// reused, so it is still free) with its fields and creation time. The
/// done occurrences of a recurring task went with it and stay gone.
pub(crate) async fn reinstate(work: &mut Work, user: &UserId, task: &Task) -> Result<Task> {
    let task = sqlx::query_as!(
        Task,
        r#"INSERT INTO tasks (user_id, number, title, description, completed, completed_at,
            priority, tags, due_date, due_at, recurrence, reminders, next_reminder_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (user_id, number) DO NOTHING
         RETURNING number AS "id: TaskId", user_id AS "user_id: UserId", title, description,
            completed, priority AS "priority: Priority", tags, due_date, due_at,
            recurrence AS "recurrence: Recurrence", reminders AS "reminders: Reminders", completed_at, created_at, updated_at"#,
        user.as_str(),
        task.id.get(),
        task.title,
        task.description,
        task.completed,
        task.completed_at,
        task.priority as Priority,
        task.tags.as_slice() as &[String],
        task.due_date,
        task.due_at,
        task.recurrence.as_ref().map(Recurrence::stored),
        task.reminders.stored(),
        task.reminders.next_at(),
        task.created_at,
    )
    .fetch_optional(work.conn())
    .await?
    .ok_or_else(|| Error::Internal(format!("task {} exists again", task.id)))?;
    work.record(user, Event::TaskCreated(task.clone()));
    Ok(task)
}

/// Forgets the done occurrence `occurrence` of task `id` (the newest record
/// of it): completing a recurring task recorded it, and that is undone.
pub(crate) async fn forget_completion(
    work: &mut Work,
    user: &UserId,
    id: TaskId,
    occurrence: Due,
) -> Result<()> {
    sqlx::query!(
        "DELETE FROM task_completions WHERE (task_id, due_date, completed_at) IN (
            SELECT c.task_id, c.due_date, c.completed_at
            FROM task_completions c JOIN tasks t ON t.id = c.task_id
            WHERE t.user_id = $1 AND t.number = $2 AND c.due_date = $3
              AND c.due_at IS NOT DISTINCT FROM $4
            ORDER BY c.completed_at DESC LIMIT 1)",
        user.as_str(),
        id.get(),
        occurrence.date,
        occurrence.at,
    )
    .execute(work.conn())
    .await?;
    Ok(())
}
