//! undo_last_change (issue 22): reverts the last change this conversation
//! made, once.
//!
//! A chat call that changes tasks leaves what reverts it on its own stored
//! result row (`messages.metadata`: `{"undo": [change, ...]}`, each change
//! with the task before and after), not in the result the model reads, so
//! the context does not grow with it. An undo reads the conversation's
//! newest row that holds a change or an undo. A change: every change of that
//! turn is reverted, newest first, through `crate::tasks` (events recorded,
//! live clients woken), and the undo's own row says `{"undid": <turn>}`. An
//! undo: there is nothing more to undo. So an undo is never undone and no
//! change is reverted twice, without rewriting a stored row.
//!
//! A task changed since (in the app, by another conversation) is not
//! overwritten: the undo refuses, naming it, and changes nothing. A task
//! already back as it was is left as it is. Only the turn's conversation and
//! user are read (the worker binds both from the claimed turn), never an
//! argument.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::{Recurrence, TaskId, TimeZone, UserId};
use crate::error::{Error, Result};
use crate::tasks::{self, DeleteScope, Task};
use crate::work::Work;

/// The key of a change's record on its result row.
const UNDO: &str = "undo";
/// The key of an undo's record on its result row: the turn it reverted.
const UNDID: &str = "undid";

/// The chat turn a tool call runs in, as the worker claimed it.
#[derive(Debug, Clone, Copy)]
pub struct InTurn<'a> {
    pub conversation_id: Uuid,
    /// The user message being answered.
    pub message_id: Uuid,
    /// What this round's earlier calls recorded (their rows' metadata):
    /// the round is stored only after its last call.
    pub earlier: &'a [Value],
}

/// What a change was, in the words of its undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Completed,
    Reopened,
    Skipped,
    Updated,
}

/// One change a call made, with what reverts it.
// A call records a few at most, moved into JSON at once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Change {
    /// Reverted by deleting the task.
    Created {
        #[serde(with = "snapshot")]
        task: Task,
    },
    /// Reverted by writing `before` back.
    Changed {
        kind: Kind,
        #[serde(with = "snapshot")]
        before: Task,
        #[serde(with = "snapshot")]
        after: Task,
    },
    /// Reverted by inserting the task again.
    Deleted {
        #[serde(with = "snapshot")]
        task: Task,
    },
}

impl Change {
    fn id(&self) -> TaskId {
        self.task().id
    }

    /// The task as the change saw it last (what to call it).
    fn task(&self) -> &Task {
        match self {
            Change::Created { task } | Change::Deleted { task } => task,
            Change::Changed { after, .. } => after,
        }
    }

    /// The task as the change left it (None: deleted).
    fn after(&self) -> Option<&Task> {
        match self {
            Change::Created { task } => Some(task),
            Change::Changed { after, .. } => Some(after),
            Change::Deleted { .. } => None,
        }
    }

    /// The task as it was before (None: not there yet).
    fn before(&self) -> Option<&Task> {
        match self {
            Change::Created { .. } => None,
            Change::Changed { before, .. } => Some(before),
            Change::Deleted { task } => Some(task),
        }
    }
}

/// A task as a record keeps it: as shown, but with its series' count of
/// done occurrences, which the shown form leaves out and a revert restores.
mod snapshot {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::Error as _};
    use serde_json::Value;

    use crate::domain::{Recurrence, Task};

    pub fn serialize<S: Serializer>(task: &Task, s: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(task).map_err(S::Error::custom)?;
        value["recurrence"] = task
            .recurrence
            .as_ref()
            .map_or(Value::Null, Recurrence::stored);
        value.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Task, D::Error> {
        Task::deserialize(d)
    }
}

/// What a call leaves on its result row for undo. Only the chat door keeps
/// one: an MCP session has no conversation to undo in.
#[derive(Debug)]
pub(super) struct Record {
    keep: bool,
    changes: Vec<Change>,
    undid: Option<Uuid>,
}

impl Record {
    pub(super) fn new(keep: bool) -> Self {
        Self {
            keep,
            changes: Vec::new(),
            undid: None,
        }
    }

    /// The task before a change, locked so the change starts from it; read
    /// only when the record is kept.
    pub(super) async fn before(
        &self,
        work: &mut Work,
        user: &UserId,
        id: TaskId,
    ) -> Result<Option<Task>> {
        match self.keep {
            true => tasks::current(work, user, id).await,
            false => Ok(None),
        }
    }

    pub(super) fn created(&mut self, task: &Task) {
        if self.keep {
            self.changes.push(Change::Created { task: task.clone() });
        }
    }

    /// A change from `before` (None when not read) to `after`; one that
    /// changed nothing leaves nothing to undo.
    pub(super) fn changed(&mut self, kind: Kind, before: Option<Task>, after: &Task) {
        if let Some(before) = before
            && !same(Some(&before), Some(after))
        {
            self.changes.push(Change::Changed {
                kind,
                before,
                after: after.clone(),
            });
        }
    }

    pub(super) fn deleted(&mut self, task: &Task) {
        if self.keep {
            self.changes.push(Change::Deleted { task: task.clone() });
        }
    }

    /// The result row's metadata.
    pub(super) fn into_metadata(self) -> Value {
        if let Some(turn) = self.undid {
            json!({ UNDID: turn })
        } else if self.changes.is_empty() {
            json!({})
        } else {
            json!({ UNDO: self.changes })
        }
    }
}

/// Whether two states of a task (None: absent) are the same for the user.
/// When a reminder fired is the reminder scheduler's, not a change.
fn same(a: Option<&Task>, b: Option<&Task>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return a.is_none() && b.is_none();
    };
    let reminders = |t: &Task| -> Vec<_> {
        t.reminders
            .0
            .iter()
            .map(|r| (r.at, r.before_due_minutes))
            .collect()
    };
    a.id == b.id
        && a.title == b.title
        && a.description == b.description
        && a.completed == b.completed
        && a.priority == b.priority
        && a.tags == b.tags
        && a.due_date == b.due_date
        && a.due_at == b.due_at
        && a.recurrence == b.recurrence
        && reminders(a) == reminders(b)
}

/// The newest record of the conversation: the turn it belongs to, whether
/// it is an undo, and (when not) every change of that turn in order.
struct Last {
    turn: Uuid,
    undid: bool,
    changes: Json<Vec<Value>>,
}

async fn last_record(work: &mut Work, user: &UserId, turn: &InTurn<'_>) -> Result<Option<Last>> {
    Ok(sqlx::query_as!(
        Last,
        r#"SELECT t.reply_to AS "turn!", (t.metadata -> 'undid') IS NOT NULL AS "undid!",
            (SELECT COALESCE(jsonb_agg(c.change ORDER BY m.seq, c.n), '[]')
             FROM messages m
             CROSS JOIN LATERAL jsonb_array_elements(m.metadata -> 'undo') WITH ORDINALITY AS c(change, n)
             WHERE m.reply_to = t.reply_to AND m.role = 'tool'
               AND jsonb_typeof(m.metadata -> 'undo') = 'array') AS "changes!: Json<Vec<Value>>"
         FROM messages t
         WHERE t.conversation_id = $1 AND t.user_id = $2 AND t.role = 'tool'
           AND t.reply_to IS NOT NULL
           AND ((t.metadata -> 'undo') IS NOT NULL OR (t.metadata -> 'undid') IS NOT NULL)
         ORDER BY t.seq DESC LIMIT 1"#,
        turn.conversation_id,
        user.as_str(),
    )
    .fetch_optional(work.conn())
    .await?)
}

/// Runs undo_last_change for `user` in `turn` (None: a door without a
/// conversation). Refuses with nothing changed, or reverts all of the last
/// change.
pub(super) async fn run(
    work: &mut Work,
    user: &UserId,
    turn: Option<InTurn<'_>>,
    record: &mut Record,
) -> Result<Value> {
    let Some(turn) = turn else {
        return Err(Error::invalid(
            "name",
            "undo_last_change works only in a chat conversation",
        ));
    };
    let own_changes = || {
        Error::invalid(
            "undo_last_change",
            "this request has already changed tasks, and undo reverts only an earlier \
             message's changes: nothing was undone",
        )
    };
    if turn.earlier.iter().any(|r| r.get(UNDID).is_some()) {
        return Ok(nothing_more());
    }
    if turn.earlier.iter().any(|r| r.get(UNDO).is_some()) {
        return Err(own_changes());
    }
    let Some(last) = last_record(work, user, &turn).await? else {
        return Ok(nothing(
            "There is nothing to undo: no task has been changed in this conversation.",
        ));
    };
    if last.undid {
        return Ok(nothing_more());
    }
    if last.turn == turn.message_id {
        return Err(own_changes());
    }
    let changes = last
        .changes
        .0
        .into_iter()
        .map(serde_json::from_value::<Change>)
        .collect::<std::result::Result<Vec<_>, _>>()
        // Only a record of another version could (a deploy under way): a
        // refusal, not a turn that fails every time it is retried.
        .map_err(|e| {
            tracing::warn!(error = %e, "an undo record does not read");
            Error::Conflict {
                code: "undo_unreadable",
                message: "the last change cannot be undone here (its record is of another \
                          version); nothing was undone"
                    .into(),
            }
        })?;

    // Checked before anything is written: newest first, each change against
    // the task as the newer ones' reverts will leave it.
    let mut state: HashMap<TaskId, Option<Task>> = HashMap::new();
    let mut reverts: Vec<(&Change, Option<Task>)> = Vec::new();
    let mut as_before: Vec<&Change> = Vec::new();
    for change in changes.iter().rev() {
        let id = change.id();
        let now = match state.get(&id) {
            Some(now) => now.clone(),
            None => tasks::current(work, user, id).await?,
        };
        if same(now.as_ref(), change.after()) {
            state.insert(id, change.before().cloned());
            reverts.push((change, now));
        } else if same(now.as_ref(), change.before()) {
            as_before.push(change);
            state.insert(id, now);
        } else {
            return Err(Error::Conflict {
                code: "changed_since",
                message: format!(
                    "{} has changed since (in the app or another conversation), so nothing was \
                     undone; change it directly instead",
                    named(change.task())
                ),
            });
        }
    }
    for (change, now) in &reverts {
        revert(work, user, change, now.as_ref())
            .await
            .map_err(unexpected)?;
    }
    record.undid = Some(last.turn);

    let zone = work.zone(user).await?;
    // Told in the order they were made.
    let undone: Vec<String> = reverts
        .iter()
        .rev()
        .map(|(change, _)| words(change, zone))
        .collect();
    let already: Vec<String> = as_before.iter().rev().map(|c| named(c.task())).collect();
    let mut message = match undone.is_empty() {
        true => "Nothing needed undoing: the last change was already reverted.".to_string(),
        false => format!("Undid: {}.", undone.join("; ")),
    };
    if !already.is_empty() {
        message.push_str(&format!(" Already as before: {}.", already.join(", ")));
    }
    let ids: Vec<TaskId> = reverts.iter().rev().map(|(c, _)| c.id()).collect();
    Ok(json!({ "status": "undone", "message": message, "task_ids": ids }))
}

/// Reverts one change; `now` is the task as it is (checked, locked).
async fn revert(work: &mut Work, user: &UserId, change: &Change, now: Option<&Task>) -> Result<()> {
    match (change, now) {
        (Change::Created { task }, Some(_)) => {
            tasks::delete(work, user, task.id, Some(DeleteScope::Series)).await?;
        }
        (Change::Changed { before, after, .. }, Some(now)) => {
            tasks::restore(work, user, before, now).await?;
            if done_occurrence(change)
                && let Some(due) = before.due()
            {
                tasks::forget_completion(work, user, after.id, due).await?;
            }
        }
        (Change::Deleted { task }, None) => {
            tasks::reinstate(work, user, task).await?;
        }
        _ => {
            return Err(Error::Internal(format!(
                "task {} is not as checked",
                change.id()
            )));
        }
    }
    Ok(())
}

/// Once checked, a revert that fails is not the caller's to fix: an error
/// that rolls the whole round back rather than a refusal that would commit
/// the reverts before it.
fn unexpected(e: Error) -> Error {
    match e {
        Error::Invalid { .. } | Error::NotFound(_) | Error::Conflict { .. } => {
            Error::Internal(format!("an undo failed after its checks: {e}"))
        }
        other => other,
    }
}

/// Whether the change completed an occurrence of a recurring task (recorded
/// in `task_completions`): its series counted one more done, not by a skip.
fn done_occurrence(change: &Change) -> bool {
    let Change::Changed {
        kind,
        before,
        after,
    } = change
    else {
        return false;
    };
    let done = |t: &Task| t.recurrence.as_ref().map(|r: &Recurrence| r.done);
    *kind != Kind::Skipped && matches!((done(before), done(after)), (Some(b), Some(a)) if a > b)
}

fn nothing(message: &str) -> Value {
    json!({ "status": "nothing_to_undo", "message": message })
}

fn nothing_more() -> Value {
    nothing("There is nothing more to undo: the last change was already undone (undo works once).")
}

/// `#12 “call mom”`.
fn named(task: &Task) -> String {
    format!("#{} “{}”", task.id, task.title)
}

/// When a task is due, on the user's clock.
fn due_words(task: &Task, zone: TimeZone) -> String {
    match (task.due_at, task.due_date) {
        (Some(at), _) => zone.local(at).format("%Y-%m-%d %H:%M").to_string(),
        (None, Some(date)) => date.to_string(),
        (None, None) => "no due date".to_string(),
    }
}

/// A reverted change in words: `added #12 “call mom” (deleted it)`.
fn words(change: &Change, zone: TimeZone) -> String {
    match change {
        Change::Created { task } => format!("added {} (deleted it)", named(task)),
        Change::Deleted { task } => {
            format!("deleted {} (restored it as #{})", named(task), task.id)
        }
        Change::Changed {
            kind,
            before,
            after,
        } => {
            let (verb, undone) = match kind {
                Kind::Completed if done_occurrence(change) => (
                    "completed",
                    format!("open again, due {}", due_words(before, zone)),
                ),
                Kind::Completed => ("completed", "reopened it".to_string()),
                Kind::Reopened => ("reopened", "marked it done again".to_string()),
                Kind::Skipped => ("skipped", format!("back to {}", due_words(before, zone))),
                Kind::Updated => ("changed", back_to(before, after, zone)),
            };
            format!("{verb} {} ({undone})", named(after))
        }
    }
}

/// `back to the title “call mom”, due 2026-12-10`: the fields that differ.
fn back_to(before: &Task, after: &Task, zone: TimeZone) -> String {
    let mut parts: Vec<String> = Vec::new();
    if before.title != after.title {
        parts.push(format!("the title “{}”", before.title));
    }
    if before.description != after.description {
        parts.push(match before.description.is_empty() {
            true => "no description".into(),
            false => "the old description".into(),
        });
    }
    if before.due() != after.due() {
        parts.push(match before.due() {
            Some(_) => format!("due {}", due_words(before, zone)),
            None => "no due date".into(),
        });
    }
    if before.priority != after.priority {
        parts.push(format!("{} priority", before.priority.as_str()));
    }
    if before.tags != after.tags {
        parts.push(match before.tags.is_empty() {
            true => "no tags".into(),
            false => format!(
                "tags {}",
                before
                    .tags
                    .iter()
                    .map(|t| format!("#{t}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        });
    }
    if before.recurrence != after.recurrence {
        parts.push(match &before.recurrence {
            Some(r) => format!("repeating {}", r.text()),
            None => "not repeating".into(),
        });
    }
    if before.reminders != after.reminders {
        parts.push("the old reminders".into());
    }
    if before.completed != after.completed {
        parts.push(match before.completed {
            true => "done".into(),
            false => "not done".into(),
        });
    }
    match parts.is_empty() {
        true => "back as it was".into(),
        false => format!("back to {}", parts.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(json: Value) -> Task {
        let mut base = json!({
            "id": 12, "user_id": "u1", "title": "call mom", "description": "",
            "completed": false, "priority": "medium", "tags": [], "due_date": null,
            "due_at": null, "recurrence": null, "reminders": [], "completed_at": null,
            "created_at": "2026-12-07T10:00:00Z", "updated_at": "2026-12-07T10:00:00Z",
        });
        for (k, v) in json.as_object().unwrap() {
            base[k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn a_record_keeps_the_count_of_done_occurrences() {
        let weekly = task(json!({"due_date": "2026-12-07", "recurrence":
            {"rrule": "FREQ=WEEKLY", "anchor": "due", "start": "2026-12-07T00:00:00", "done": 3}}));
        let change = Change::Deleted { task: weekly };
        let read: Change = serde_json::from_value(serde_json::to_value(&change).unwrap()).unwrap();
        let Change::Deleted { task } = read else {
            panic!("{read:?}")
        };
        assert_eq!(task.recurrence.map(|r| r.done), Some(3));
    }

    #[test]
    fn a_change_in_words_says_what_was_put_back() {
        let added = Change::Created {
            task: task(json!({})),
        };
        assert_eq!(
            words(&added, TimeZone::UTC),
            "added #12 “call mom” (deleted it)"
        );
        let moved = Change::Changed {
            kind: Kind::Updated,
            before: task(json!({"due_date": "2026-12-08"})),
            after: task(json!({"title": "call dad", "due_date": "2026-12-10"})),
        };
        assert_eq!(
            words(&moved, TimeZone::UTC),
            "changed #12 “call dad” (back to the title “call mom”, due 2026-12-08)"
        );
    }

    #[test]
    fn a_fired_reminder_is_no_change_but_a_new_title_is() {
        let reminded = |fired: Value| {
            task(json!({"reminders": [{"at": "2026-12-07T17:00:00Z",
                "before_due_minutes": null, "fired_at": fired}]}))
        };
        let (fresh, fired) = (
            reminded(Value::Null),
            reminded(json!("2026-12-07T17:00:01Z")),
        );
        assert!(same(Some(&fresh), Some(&fired)));
        assert!(!same(Some(&fresh), Some(&task(json!({"title": "x"})))));
        assert!(!same(Some(&fresh), None));
        assert!(same(None, None));
    }
}
