//! What a caller may send to create or change a task, and its parse into
//! validated values. REST bodies and chat/MCP tool arguments use these same
//! types, so a rule is written once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use utoipa::PartialSchema;
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::{RefOr, Schema};

use crate::domain::{
    DueSpec, Priority, RecurrenceInput, RecurrenceSpec, ReminderInput, ReminderSpec,
    TaskDescription, TaskTags, TaskTitle, schema,
};
use crate::error::{Error, Result};

/// Raw fields of a new task.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTask)]
pub struct NewTaskInput {
    #[schema(schema_with = schema::title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::description_nullable)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::due_date_nullable)]
    pub due_date: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::due_at_nullable)]
    pub due_at: Option<String>,
    /// Medium when left out.
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::tags_nullable)]
    pub tags: Option<Vec<String>>,
    /// How it repeats (null: it does not). A recurring task is always due:
    /// without a due date it is due on the rule's first day from today.
    #[serde(default)]
    pub recurrence: Option<RecurrenceInput>,
    /// At most 10: `{"at": timestamp}` or `{"before_due_minutes": N}`.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub reminders: Option<Vec<ReminderInput>>,
}

/// Raw fields of a change. `Some(None)` means the client sent `null` (clear
/// the field), `None` that it left the field out (keep it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_at: Option<Option<String>>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub recurrence: Option<Option<RecurrenceInput>>,
    #[serde(default, deserialize_with = "nullable")]
    pub reminders: Option<Option<Vec<ReminderInput>>>,
    #[serde(default)]
    pub completed: Option<bool>,
}

/// The document's view of a change: every field optional, and at least one
/// that changes something (`null` clears description, due date and tags,
/// and means "keep" for the others), as `TaskPatchInput::parse` requires.
impl utoipa::PartialSchema for TaskPatchInput {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Type};
        let nullable = |ty: Type| schema::maybe_null(ty, true);
        let fields = ObjectBuilder::new()
            .property(
                "title",
                ObjectBuilder::new()
                    .schema_type(nullable(Type::String))
                    .pattern(Some(schema::text_pattern(1, TaskTitle::MAX, false)))
                    .description(Some("The new title (see NewTask); `null` keeps it.")),
            )
            .property("description", schema::description_nullable())
            .property("due_date", schema::due_date_nullable())
            .property("due_at", schema::due_at_nullable())
            .property(
                "priority",
                AnyOfBuilder::new()
                    .item(Priority::schema())
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .description(Some("`null` keeps it.")),
            )
            .property("tags", schema::tags_nullable())
            .property(
                "recurrence",
                AnyOfBuilder::new()
                    .item(utoipa::openapi::Ref::from_schema_name("RecurrenceInput"))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .description(Some(
                        "How it repeats from now on; `null` stops it repeating.",
                    )),
            )
            .property(
                "reminders",
                AnyOfBuilder::new()
                    .item(
                        utoipa::openapi::schema::ArrayBuilder::new()
                            .items(utoipa::openapi::Ref::from_schema_name("ReminderInput"))
                            .max_items(Some(crate::domain::reminder::MAX_REMINDERS)),
                    )
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .description(Some(
                        "The task's reminders, all of them; `null` or `[]` removes them.",
                    )),
            )
            .property(
                "completed",
                ObjectBuilder::new()
                    .schema_type(nullable(Type::Boolean))
                    .description(Some("`null` keeps it.")),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let present = |name: &str, ty: Option<Type>| {
            let mut one = ObjectBuilder::new().required(name);
            if let Some(ty) = ty {
                one = one.property(name, ObjectBuilder::new().schema_type(ty));
            }
            one
        };
        let something = AnyOfBuilder::new()
            .item(present("title", Some(Type::String)))
            .item(present("description", None))
            .item(present("due_date", None))
            .item(present("due_at", None))
            .item(present("priority", Some(Type::String)))
            .item(present("tags", None))
            .item(present("recurrence", None))
            .item(present("reminders", None))
            .item(present("completed", Some(Type::Boolean)));
        AllOfBuilder::new()
            .item(fields)
            .item(something)
            .description(Some(
                "The fields to change; at least one must change something.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for TaskPatchInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "TaskChange".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            <Priority as utoipa::ToSchema>::name().into(),
            Priority::schema(),
        ));
        schemas.push((
            <RecurrenceInput as utoipa::ToSchema>::name().into(),
            RecurrenceInput::schema(),
        ));
        <RecurrenceInput as utoipa::ToSchema>::schemas(schemas);
        schemas.push((
            <ReminderInput as utoipa::ToSchema>::name().into(),
            ReminderInput::schema(),
        ));
    }
}

fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A validated new task.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: TaskTitle,
    pub description: TaskDescription,
    pub due: Option<DueSpec>,
    pub priority: Priority,
    pub tags: TaskTags,
    pub recurrence: Option<RecurrenceSpec>,
    pub reminders: Vec<ReminderSpec>,
}

impl NewTask {
    /// What a retry under the same idempotency key must repeat: SHA-256 of
    /// the parsed fields, so two bodies that mean the same task (spacing,
    /// tag case) are the same request.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let fields = (
            self.title.as_str(),
            self.description.as_str(),
            self.due.map(|d| d.canonical()),
            self.priority.as_str(),
            self.tags.as_slice(),
            self.recurrence
                .as_ref()
                .map(|r| (r.rule.to_string(), r.anchor)),
            self.reminders
                .iter()
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>(),
        );
        let bytes = serde_json::to_vec(&fields).expect("strings and a timestamp serialize");
        Sha256::digest(bytes).into()
    }
}

/// A validated change; `None` fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<TaskTitle>,
    pub description: Option<TaskDescription>,
    /// `Some(None)` clears the due date.
    pub due: Option<Option<DueSpec>>,
    pub priority: Option<Priority>,
    pub tags: Option<TaskTags>,
    /// `Some(None)` stops it repeating.
    pub recurrence: Option<Option<RecurrenceSpec>>,
    /// The new list (empty removes them all).
    pub reminders: Option<Vec<ReminderSpec>>,
    pub completed: Option<bool>,
}

/// RFC 3339 timestamps only: a filter's bound must say which instant it means.
pub fn parse_timestamp(field: &str, raw: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::invalid(
                field,
                "must be an RFC 3339 timestamp such as 2026-12-01T17:00:00Z",
            )
        })
}

impl NewTaskInput {
    pub fn parse(self) -> Result<NewTask> {
        Ok(NewTask {
            title: TaskTitle::parse(&self.title)?,
            description: match self.description {
                Some(d) => TaskDescription::parse(&d)?,
                None => TaskDescription::default(),
            },
            due: DueSpec::parse(self.due_date.as_deref(), self.due_at.as_deref())?,
            priority: self
                .priority
                .map(|p| Priority::parse(&p))
                .transpose()?
                .unwrap_or_default(),
            tags: match self.tags {
                Some(t) => TaskTags::parse(&t)?,
                None => TaskTags::default(),
            },
            recurrence: self.recurrence.map(RecurrenceInput::parse).transpose()?,
            reminders: ReminderInput::parse_all(self.reminders.unwrap_or_default())?,
        })
    }
}

impl TaskPatchInput {
    pub fn parse(self) -> Result<TaskPatch> {
        let patch = TaskPatch {
            title: self.title.map(|t| TaskTitle::parse(&t)).transpose()?,
            description: self
                .description
                .map(|d| TaskDescription::parse(d.as_deref().unwrap_or("")))
                .transpose()?,
            // Either field present changes the due date; both null clear it.
            due: if self.due_date.is_none() && self.due_at.is_none() {
                None
            } else {
                Some(DueSpec::parse(
                    self.due_date.flatten().as_deref(),
                    self.due_at.flatten().as_deref(),
                )?)
            },
            priority: self.priority.map(|p| Priority::parse(&p)).transpose()?,
            tags: self
                .tags
                .map(|t| TaskTags::parse(&t.unwrap_or_default()))
                .transpose()?,
            recurrence: self
                .recurrence
                .map(|r| r.map(RecurrenceInput::parse).transpose())
                .transpose()?,
            reminders: self
                .reminders
                .map(|r| ReminderInput::parse_all(r.unwrap_or_default()))
                .transpose()?,
            completed: self.completed,
        };
        if patch.is_empty() {
            return Err(Error::invalid(
                "body",
                "nothing to update: send at least one of title, description, due_date, due_at, priority, tags, recurrence, reminders, completed",
            ));
        }
        Ok(patch)
    }
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.due.is_none()
            && self.priority.is_none()
            && self.tags.is_none()
            && self.recurrence.is_none()
            && self.reminders.is_none()
            && self.completed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_distinguishes_null_from_absent() {
        let p: TaskPatchInput = serde_json::from_str(r#"{"due_at": null}"#).unwrap();
        assert_eq!(p.parse().unwrap().due, Some(None));
        let p: TaskPatchInput = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
        assert_eq!(p.parse().unwrap().due, None);
        // A day and no time: all day on that day.
        let p: TaskPatchInput =
            serde_json::from_str(r#"{"due_date": "2026-12-24", "due_at": null}"#).unwrap();
        assert!(matches!(
            p.parse().unwrap().due,
            Some(Some(DueSpec::Day(_)))
        ));
    }

    #[test]
    fn empty_patch_is_rejected() {
        let p: TaskPatchInput = serde_json::from_str("{}").unwrap();
        assert!(p.parse().is_err());
    }

    #[test]
    fn the_same_task_has_the_same_fingerprint() {
        let parse = |json: &str| {
            serde_json::from_str::<NewTaskInput>(json)
                .unwrap()
                .parse()
                .unwrap()
                .fingerprint()
        };
        let first = parse(r#"{"title": "milk", "tags": ["Shop"]}"#);
        assert_eq!(
            first,
            parse(r#"{"title": " milk ", "tags": ["shop"], "priority": "medium"}"#)
        );
        assert_ne!(
            first,
            parse(r#"{"title": "milk", "tags": ["shop", "home"]}"#)
        );
        assert_ne!(first, parse(r#"{"title": "eggs", "tags": ["shop"]}"#));
    }

    #[test]
    fn filter_instants_need_an_offset() {
        assert!(parse_timestamp("due_before", "2026-12-01T17:00:00+01:00").is_ok());
        assert!(parse_timestamp("due_before", "2026-12-01T17:00").is_err());
        assert!(parse_timestamp("due_before", "tomorrow").is_err());
    }
}
