//! What the user asked for: the commands the offline assistant acts on.
//! Reading them from a sentence is `parse`.

mod parse;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};
pub(super) use todo_common::tasks::DeleteScope;

use super::dates::ymd;

pub(super) use parse::{help_text, parse_command, quick_add, says_add, which_task};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    fn from_level(word: &str) -> Option<Self> {
        match word {
            "high" | "highest" | "top" => Some(Self::High),
            "medium" | "normal" | "mid" => Some(Self::Medium),
            "low" | "lowest" => Some(Self::Low),
            "urgent" => Some(Self::Urgent),
            _ => None,
        }
    }
}

/// The `scope` argument of delete_task.
pub(super) fn scope_arg(scope: DeleteScope) -> &'static str {
    match scope {
        DeleteScope::Occurrence => "occurrence",
        DeleteScope::Series => "series",
    }
}

/// "delete 4", "delete 4 and 9, whole series": a delete the user could
/// type, as the offline assistant reads it.
pub(super) fn delete_example(ids: &str, scope: Option<DeleteScope>) -> String {
    match scope {
        None => format!("delete {ids}"),
        Some(DeleteScope::Occurrence) => format!("delete {ids}, just this one"),
        Some(DeleteScope::Series) => format!("delete {ids}, whole series"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    All,
    Pending,
    Completed,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// Which task(s) a command is about: numbers, a title still to look up, or
/// "it" (the task the assistant's last answer named, found by `respond_at`
/// before anything acts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Ids(Vec<i64>),
    Title(String),
    Previous,
    /// Every overdue task ("reschedule everything overdue to tomorrow").
    Overdue,
}

/// Due date and time, priority, tags, recurrence and reminder picked out
/// of a sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Mods {
    due: Option<NaiveDate>,
    /// A time of day ("at 5pm", "tonight"), placed by [`Mods::finish`].
    time: Option<NaiveTime>,
    /// The due date with its time, once placed.
    at: Option<NaiveDateTime>,
    priority: Option<Priority>,
    tags: Vec<String>,
    /// "every monday": the rule, and whether it counts from completion (`every!`).
    repeat: Option<(String, bool)>,
    /// "30 minutes before": remind that long before the due time.
    remind_before: Option<i64>,
    /// "add a note to 3: ...": the new description.
    description: Option<String>,
    /// "no date for 3": the due date goes.
    clear_due: bool,
    /// "push 3 by 2 days": minutes to move the current due date by.
    shift: Option<i64>,
}

impl Mods {
    fn is_empty(&self) -> bool {
        self.due.is_none()
            && self.time.is_none()
            && self.priority.is_none()
            && self.tags.is_empty()
            && self.repeat.is_none()
            && self.remind_before.is_none()
            && self.description.is_none()
            && !self.clear_due
            && self.shift.is_none()
    }

    /// Takes from `other` what this one does not say.
    pub(super) fn merge(&mut self, other: &Mods) {
        self.due = self.due.or(other.due);
        self.time = self.time.or(other.time);
        self.priority = self.priority.or(other.priority);
        for tag in &other.tags {
            if !self.tags.contains(tag) {
                self.tags.push(tag.clone());
            }
        }
        if self.repeat.is_none() {
            self.repeat.clone_from(&other.repeat);
        }
        self.remind_before = self.remind_before.or(other.remind_before);
    }

    /// Whether the change depends on the task as it is: a new day keeps
    /// its time of day, a shift counts from its due date, tags are added to
    /// its own.
    pub(super) fn needs_current(&self) -> bool {
        (self.due.is_some() != self.time.is_some() && self.repeat.is_none())
            || self.shift.is_some()
            || !self.tags.is_empty()
    }

    /// The change for a task as it is now: `due` its due date (`YYYY-MM-DD`
    /// or `YYYY-MM-DDTHH:MM`), `tags` its tags.
    pub(super) fn on_current(&self, due: Option<&str>, tags: &[String], today: NaiveDate) -> Self {
        let mut mods = self.clone();
        // "2026-12-10T15:30", or with seconds and an offset: its wall time.
        let current_at = due
            .and_then(|d| d.get(..16))
            .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M").ok());
        let current_day = due
            .and_then(|d| d.get(..10))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if let Some(minutes) = self.shift {
            match current_at
                .and_then(|at| at.checked_add_signed(chrono::TimeDelta::try_minutes(minutes)?))
            {
                Some(moved) => {
                    mods.due = Some(moved.date());
                    mods.time = Some(moved.time());
                    mods.at = Some(moved);
                }
                None => {
                    let base = current_day.unwrap_or(today);
                    mods.due = crate::dates::shift_days(base, minutes.div_euclid(24 * 60));
                }
            }
            mods.shift = None;
        }
        if mods.time.is_none()
            && let (Some(day), Some(at)) = (mods.due, current_at)
        {
            mods.at = Some(day.and_time(at.time()));
        }
        // "change 8 to 4pm": the task's day at that time.
        if let (None, Some(time), Some(day)) = (self.due, self.time, current_day) {
            mods.due = Some(day);
            mods.at = Some(day.and_time(time));
        }
        if !self.tags.is_empty() {
            let mut all: Vec<String> = tags.to_vec();
            for tag in &self.tags {
                if !all.contains(tag) {
                    all.push(tag.clone());
                }
            }
            mods.tags = all;
        }
        mods
    }

    /// Places a time of day on the due date, or on the next such time from
    /// `now`; "remind me to ..." with a time reminds at that time.
    pub(super) fn finish(&mut self, now: NaiveDateTime, remind: bool) {
        if let Some(time) = self.time {
            let day = self.due.unwrap_or_else(|| {
                if time > now.time() {
                    now.date()
                } else {
                    now.date().succ_opt().unwrap_or(now.date())
                }
            });
            self.at = Some(day.and_time(time));
        }
        let timed_rule = self
            .repeat
            .as_ref()
            .is_some_and(|(rule, _)| rule.contains("BYHOUR"));
        if remind && self.remind_before.is_none() && (self.at.is_some() || timed_rule) {
            self.remind_before = Some(0);
        }
    }

    pub(super) fn write_to(&self, args: &mut Map<String, Value>) {
        if self.clear_due {
            args.insert("due_date".into(), Value::Null);
        }
        if let Some(at) = self.at {
            args.insert(
                "due_at".into(),
                at.format("%Y-%m-%dT%H:%M").to_string().into(),
            );
        } else if let Some(due) = self.due {
            args.insert("due_date".into(), ymd(due).into());
        }
        if let Some((rrule, from_completion)) = &self.repeat {
            let anchor = if *from_completion {
                "completion"
            } else {
                "due"
            };
            args.insert(
                "recurrence".into(),
                serde_json::json!({"rrule": rrule, "anchor": anchor}),
            );
        }
        if let Some(minutes) = self.remind_before {
            args.insert(
                "reminders".into(),
                serde_json::json!([{"before_due_minutes": minutes}]),
            );
        }
        if let Some(priority) = self.priority {
            args.insert("priority".into(), priority.as_str().into());
        }
        if !self.tags.is_empty() {
            args.insert("tags".into(), self.tags.clone().into());
        }
        if let Some(description) = &self.description {
            args.insert("description".into(), description.as_str().into());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    Add {
        title: String,
        mods: Mods,
    },
    /// Several tasks in one message ("add milk, eggs and bread").
    AddMany(Vec<(String, Mods)>),
    /// Delete every completed task: they are looked up first.
    ClearCompleted,
    /// Delete every open task: they are looked up, and the user is asked.
    DeleteAll,
    List {
        status: Status,
        query: Option<String>,
        filters: Map<String, Value>,
    },
    /// `done: false` reopens.
    Complete {
        target: Target,
        done: bool,
    },
    Update {
        target: Target,
        title: Option<String>,
        mods: Mods,
    },
    /// `scope`: of a repeating task, this occurrence or the whole series
    /// (without one the tool asks which).
    Delete {
        target: Target,
        scope: Option<DeleteScope>,
    },
    /// A recurring task to its next occurrence, this one not done.
    Skip {
        target: Target,
    },
    /// Put back the conversation's last change (the tool finds it).
    Undo,
    /// Nothing to do with tools: answer with this text.
    Say(String),
}

impl Command {
    pub(super) fn target(&self) -> Option<&Target> {
        match self {
            Self::Complete { target, .. }
            | Self::Update { target, .. }
            | Self::Delete { target, .. }
            | Self::Skip { target } => Some(target),
            _ => None,
        }
    }

    pub(super) fn with_ids(&self, ids: Vec<i64>) -> Self {
        let mut command = self.clone();
        if let Self::Complete { target, .. }
        | Self::Update { target, .. }
        | Self::Delete { target, .. }
        | Self::Skip { target } = &mut command
        {
            *target = Target::Ids(ids);
        }
        command
    }

    /// Which tasks a lookup searches: only those the action can apply to.
    pub(super) fn lookup_status(&self) -> Status {
        match self {
            Self::Complete { done: false, .. } | Self::ClearCompleted => Status::Completed,
            _ => Status::Pending,
        }
    }

    /// Whether the change depends on the task as it is (see [`Mods::needs_current`]).
    pub(super) fn needs_current(&self) -> bool {
        matches!(self, Self::Update { mods, .. } if mods.needs_current())
    }

    /// The command for a task as it is now (see [`Mods::on_current`]).
    pub(super) fn on_current(&self, due: Option<&str>, tags: &[String], today: NaiveDate) -> Self {
        match self {
            Self::Update {
                target,
                title,
                mods,
            } => Self::Update {
                target: target.clone(),
                title: title.clone(),
                mods: mods.on_current(due, tags, today),
            },
            other => other.clone(),
        }
    }

    /// A command the user could type to pick task `id`, for "which one?".
    pub(super) fn example(&self, id: i64) -> String {
        match self {
            Self::Complete { done: true, .. } => format!("complete {id}"),
            Self::Complete { done: false, .. } => format!("reopen {id}"),
            Self::Delete { scope, .. } => delete_example(&id.to_string(), *scope),
            Self::Skip { .. } => format!("skip {id}"),
            Self::Update { title, mods, .. } => {
                if let Some(title) = title {
                    format!("rename {id} to {title}")
                } else if let Some(due) = mods.due {
                    format!("move {id} to {}", ymd(due))
                } else if let Some(priority) = mods.priority {
                    format!("set {id} priority {}", priority.as_str())
                } else if mods.clear_due {
                    format!("no date for {id}")
                } else if let Some(description) = &mods.description {
                    format!("add a note to {id}: {description}")
                } else if !mods.tags.is_empty() {
                    let tags: Vec<String> = mods.tags.iter().map(|t| format!("#{t}")).collect();
                    format!("tag {id} with {}", tags.join(" "))
                } else {
                    format!("task {id}")
                }
            }
            _ => format!("task {id}"),
        }
    }
}
