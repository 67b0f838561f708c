//! Listing tasks: filters, sort orders and keyset pagination.
//!
//! Pages are cut by keyset (`(sort key, number) > (last key, last number)`), not by
//! OFFSET, so page N costs the same as page 1 and a task added meanwhile never
//! shifts a page. The cursor carries the last row's key as PostgreSQL printed
//! it, so it casts back exactly (timestamps to the microsecond, `lower()` of
//! titles as PostgreSQL computes it).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, Postgres, QueryBuilder};

use super::input::parse_timestamp;
use super::{Task, columns};
use crate::domain::task::search_text;
use crate::domain::{Priority, TaskTags, TimeZone, UserId, due, schema};
use crate::error::{Error, Result};
use crate::paging;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Raw query parameters, as strings so every problem gets our own message.
/// An empty (or blank) parameter is the same as a missing one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Which tasks: all (default), pending or completed.
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// Words in the title or description (case-insensitive), at most 200 characters.
    #[param(schema_with = search_schema)]
    pub q: Option<String>,
    /// Only tasks with this tag.
    #[param(schema_with = tag_schema)]
    pub tag: Option<String>,
    /// Only tasks of this priority.
    #[param(schema_with = priority_schema)]
    pub priority: Option<String>,
    /// Only tasks of this priority or a more important one (urgent, high,
    /// medium, low from most to least).
    #[param(schema_with = priority_schema)]
    pub priority_at_least: Option<String>,
    /// Only tasks due on this day of the user's or later (`YYYY-MM-DD`).
    #[param(schema_with = schema::date_or_blank)]
    pub due_from: Option<String>,
    /// Only tasks due on this day of the user's or earlier (`YYYY-MM-DD`).
    #[param(schema_with = schema::date_or_blank)]
    pub due_to: Option<String>,
    /// true: only recurring tasks; false: only those that do not repeat.
    #[param(schema_with = recurring_schema)]
    pub recurring: Option<String>,
    /// Only tasks due before this instant (RFC 3339); all-day tasks count
    /// from the start of their day in the user's time zone.
    #[param(schema_with = schema::timestamp_or_blank)]
    pub due_before: Option<String>,
    /// By due day, in the user's time zone: overdue (pending and past due),
    /// today, tomorrow, week (today and the six days after), none (not
    /// due) or any (due).
    #[param(schema_with = due_schema)]
    pub due: Option<String>,
    /// Order: created (default), due, priority or title.
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Direction; by default newest, most important, soonest due and A to Z first.
    #[param(schema_with = order_schema)]
    pub order: Option<String>,
    /// Page size (default 50).
    #[param(schema_with = limit_schema)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page, with the same `sort` and `order`.
    #[param(value_type = String, required = false)]
    pub cursor: Option<String>,
}

fn status_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["all", "pending", "completed"])
}

fn priority_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["urgent", "high", "medium", "low"])
}

fn recurring_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["true", "false"])
}

fn due_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["overdue", "today", "tomorrow", "week", "none", "any"])
}

fn sort_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["created", "due", "priority", "title"])
}

fn order_schema() -> utoipa::openapi::Schema {
    schema::enum_or_blank(&["asc", "desc"])
}

fn limit_schema() -> utoipa::openapi::Schema {
    schema::integer_or_blank(1, i64::from(MAX_LIMIT), i64::from(DEFAULT_LIMIT))
}

fn search_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(schema::text_pattern(0, 200, false)))
        .build()
}

fn tag_schema() -> utoipa::openapi::Schema {
    schema::or_blank(
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(schema::tag_pattern())),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    All,
    Pending,
    Completed,
}

/// Tasks by their due day, in the user's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueFilter {
    Overdue,
    Today,
    Tomorrow,
    Week,
    None,
    Any,
}

impl DueFilter {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "overdue" => Ok(Self::Overdue),
            "today" => Ok(Self::Today),
            "tomorrow" => Ok(Self::Tomorrow),
            "week" => Ok(Self::Week),
            "none" => Ok(Self::None),
            "any" => Ok(Self::Any),
            _ => Err(Error::invalid(
                "due",
                "must be overdue, today, tomorrow, week, none or any",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    Created,
    Due,
    Priority,
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Order {
    Asc,
    Desc,
}

/// A validated listing request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub status: StatusFilter,
    pub text: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<Priority>,
    pub priority_at_least: Option<Priority>,
    pub due_before: Option<DateTime<Utc>>,
    pub due: Option<DueFilter>,
    /// Due days, inclusive, in the user's zone.
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub recurring: Option<bool>,
    pub sort: Sort,
    order: Order,
    pub limit: u32,
    after: Option<Cursor>,
}

/// Where the previous page ended; opaque to clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    s: Sort,
    o: Order,
    /// The last row's sort key as PostgreSQL's text.
    k: String,
    /// The last row's number, the task's `id` (tie breaker).
    i: i64,
}

/// One page of tasks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// Pass back as `cursor` (with the same `sort` and `order`) for the
    /// next page; null on the last one.
    pub next_cursor: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            text: None,
            tag: None,
            priority: None,
            priority_at_least: None,
            due_before: None,
            due: None,
            due_from: None,
            due_to: None,
            recurring: None,
            sort: Sort::Created,
            order: Order::Desc,
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl ListParams {
    pub fn parse(self) -> Result<ListQuery> {
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") | Some("all") => StatusFilter::All,
            Some("pending") => StatusFilter::Pending,
            Some("completed") => StatusFilter::Completed,
            Some(_) => {
                return Err(Error::invalid(
                    "status",
                    "must be all, pending or completed",
                ));
            }
        };
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") | Some("created") => Sort::Created,
            Some("due") => Sort::Due,
            Some("priority") => Sort::Priority,
            Some("title") => Sort::Title,
            Some(_) => {
                return Err(Error::invalid(
                    "sort",
                    "must be created, due, priority or title",
                ));
            }
        };
        let order = match self.order.as_deref().map(str::trim) {
            None | Some("") => match sort {
                // Newest first, most important first; soonest due and A-Z first.
                Sort::Created | Sort::Priority => Order::Desc,
                Sort::Due | Sort::Title => Order::Asc,
            },
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some(_) => return Err(Error::invalid("order", "must be asc or desc")),
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let after = match self.cursor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let cursor = decode_cursor(raw)?;
                if cursor.s != sort || cursor.o != order {
                    return Err(Error::invalid(
                        "cursor",
                        "belongs to a listing with another sort or order",
                    ));
                }
                Some(cursor)
            }
        };
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let day = |field: &str, v: Option<String>| {
            nonempty(v)
                .map(|d| due::parse_date(&d).map_err(|e| rename(e, field)))
                .transpose()
        };
        let due_from = day("due_from", self.due_from)?;
        let due_to = day("due_to", self.due_to)?;
        if let (Some(from), Some(to)) = (due_from, due_to)
            && from > to
        {
            return Err(Error::invalid("due_to", "must not be before due_from"));
        }
        let recurring = match nonempty(self.recurring).as_deref().map(str::trim) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(Error::invalid("recurring", "must be true or false")),
        };
        Ok(ListQuery {
            status,
            text: nonempty(self.q).map(|q| search_text("q", &q)).transpose()?,
            tag: nonempty(self.tag)
                .map(|t| TaskTags::parse_one(&t).map_err(|e| rename(e, "tag")))
                .transpose()?,
            priority: nonempty(self.priority)
                .map(|p| Priority::parse(&p))
                .transpose()?,
            priority_at_least: nonempty(self.priority_at_least)
                .map(|p| Priority::parse(&p).map_err(|e| rename(e, "priority_at_least")))
                .transpose()?,
            due_from,
            due_to,
            recurring,
            due_before: nonempty(self.due_before)
                .map(|d| parse_timestamp("due_before", &d))
                .transpose()?,
            due: nonempty(self.due)
                .map(|d| DueFilter::parse(&d))
                .transpose()?,
            sort,
            order,
            limit,
            after,
        })
    }
}

fn rename(err: Error, field: &str) -> Error {
    match err {
        Error::Invalid { message, .. } => Error::invalid(field, message),
        other => other,
    }
}

fn decode_cursor(raw: &str) -> Result<Cursor> {
    let cursor: Cursor = paging::decode(raw)?;
    // The key goes back to PostgreSQL as a bound parameter; still, refuse
    // what PostgreSQL could not store rather than answer with a 500.
    if cursor.k.contains('\0') || cursor.k.len() > 1024 {
        return Err(paging::invalid());
    }
    Ok(cursor)
}

impl Sort {
    /// The SQL expression rows are ordered by, and its type for the cast back.
    fn key(self, order: Order) -> (&'static str, &'static str) {
        match (self, order) {
            (Sort::Created, _) => ("t.created_at", "timestamptz"),
            // By day, and within a day all-day first, then by time: the
            // day, then the instant (in a day, instants and wall times run
            // in the same order). Tasks without a due date come last in
            // both directions.
            (Sort::Due, Order::Asc) => (DUE_ASC, "text"),
            (Sort::Due, Order::Desc) => (DUE_DESC, "text"),
            (Sort::Priority, _) => ("t.priority", "task_priority"),
            (Sort::Title, _) => ("lower(t.title)", "text"),
        }
    }
}

macro_rules! due_key {
    ($none:literal) => {
        concat!(
            "(COALESCE(t.due_date::text || COALESCE(' ' || to_char(t.due_at AT TIME ZONE 'UTC', ",
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), ''), '",
            $none,
            "') COLLATE \"C\")"
        )
    };
}
const DUE_ASC: &str = due_key!("~");
const DUE_DESC: &str = due_key!("");

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    task: Task,
    sort_key: String,
}

impl ListQuery {
    /// Whether the listing needs the user's today (a `due` filter, or
    /// `due_before`, which all-day tasks meet from the start of their day).
    pub fn needs_zone(&self) -> bool {
        self.due.is_some() || self.due_before.is_some()
    }
}

/// `today` and `zone` are the user's, needed only when [`ListQuery::needs_zone`].
pub(super) async fn run<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    q: &ListQuery,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Result<TaskPage> {
    // Not a query_as! macro: the filters and the sort key make the SQL.
    let (key, key_type) = q.sort.key(q.order);
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {cols}, ({key})::text AS sort_key FROM tasks t WHERE t.user_id = ",
        cols = columns!()
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    sql.push_bind(user);
    push_filters(&mut sql, q, zone, now);
    let (cmp, dir) = match q.order {
        Order::Asc => (">", "ASC"),
        Order::Desc => ("<", "DESC"),
    };
    if let Some(after) = &q.after {
        sql.push(format!(" AND ({key}, t.number) {cmp} (CAST("))
            .push_bind(after.k.clone())
            .push(format!(" AS {key_type}), "))
            .push_bind(after.i)
            .push(")");
    }
    sql.push(format!(" ORDER BY {key} {dir}, t.number {dir} LIMIT "))
        .push_bind(i64::from(q.limit) + 1);

    let mut rows: Vec<Row> = sql.build_query_as().fetch_all(db).await.map_err(|e| {
        // A forged cursor key that does not cast (e.g. "yesterday") is the
        // client's mistake; PostgreSQL reports it as invalid_datetime_format
        // or invalid_text_representation.
        if let sqlx::Error::Database(db) = &e
            && matches!(db.code().as_deref(), Some("22007" | "22P02" | "22008"))
        {
            return paging::invalid();
        }
        Error::from(e)
    })?;

    let next_cursor = if rows.len() > q.limit as usize {
        rows.truncate(q.limit as usize);
        rows.last().map(|last| {
            paging::encode(&Cursor {
                s: q.sort,
                o: q.order,
                k: last.sort_key.clone(),
                i: last.task.id.get(),
            })
        })
    } else {
        None
    };
    Ok(TaskPage {
        tasks: rows.into_iter().map(|r| r.task).collect(),
        next_cursor,
    })
}

/// The query's filters, each as ` AND <condition>`.
fn push_filters(
    sql: &mut QueryBuilder<Postgres>,
    q: &ListQuery,
    zone: TimeZone,
    now: DateTime<Utc>,
) {
    let today = zone.local(now).date_naive();
    match q.status {
        StatusFilter::All => {}
        StatusFilter::Pending => {
            sql.push(" AND NOT t.completed");
        }
        StatusFilter::Completed => {
            sql.push(" AND t.completed");
        }
    }
    if let Some(text) = &q.text {
        let pattern = format!("%{}%", escape_like(text));
        sql.push(" AND (t.title ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR t.description ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    if let Some(tag) = &q.tag {
        sql.push(" AND t.tags @> ARRAY[")
            .push_bind(tag.clone())
            .push("]::text[]");
    }
    if let Some(priority) = q.priority {
        sql.push(" AND t.priority = ").push_bind(priority);
    }
    if let Some(before) = q.due_before {
        // An all-day task is due from the start of its day: its day counts
        // when that day has begun by `before`.
        let day = zone.local(before).date_naive();
        let cmp = if zone.instant(day.and_time(NaiveTime::MIN)) < before {
            "<="
        } else {
            "<"
        };
        sql.push(" AND (t.due_at < ")
            .push_bind(before)
            .push(format!(" OR (t.due_at IS NULL AND t.due_date {cmp} "))
            .push_bind(day)
            .push("))");
    }
    match q.due {
        None => {}
        Some(DueFilter::Overdue) => {
            sql.push(" AND NOT t.completed AND (t.due_at < ")
                .push_bind(now)
                .push(" OR (t.due_at IS NULL AND t.due_date < ")
                .push_bind(today)
                .push("))");
        }
        Some(DueFilter::Today) => {
            sql.push(" AND t.due_date = ").push_bind(today);
        }
        Some(DueFilter::Tomorrow) => {
            sql.push(" AND t.due_date = ")
                .push_bind(today + Days::new(1));
        }
        Some(DueFilter::Week) => {
            sql.push(" AND t.due_date BETWEEN ")
                .push_bind(today)
                .push(" AND ")
                .push_bind(today + Days::new(6));
        }
        Some(DueFilter::None) => {
            sql.push(" AND t.due_date IS NULL");
        }
        Some(DueFilter::Any) => {
            sql.push(" AND t.due_date IS NOT NULL");
        }
    }
    if let Some(at_least) = q.priority_at_least {
        // The enum's order runs from low to urgent.
        sql.push(" AND t.priority >= ").push_bind(at_least);
    }
    if let Some(from) = q.due_from {
        sql.push(" AND t.due_date >= ").push_bind(from);
    }
    if let Some(to) = q.due_to {
        sql.push(" AND t.due_date <= ").push_bind(to);
    }
    match q.recurring {
        None => {}
        Some(true) => {
            sql.push(" AND t.recurrence IS NOT NULL");
        }
        Some(false) => {
            sql.push(" AND t.recurrence IS NULL");
        }
    }
}

/// How many of the user's tasks the query matches (all pages), and the
/// counts a summary names: open, overdue and due today (all open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub matching: i64,
    pub open: i64,
    pub overdue: i64,
    pub due_today: i64,
}

#[derive(sqlx::FromRow)]
struct TallyRow {
    matching: i64,
    open: i64,
    overdue: i64,
    due_today: i64,
}

/// The [`Tally`] of `q` (its cursor and page size aside), in one statement.
pub(super) async fn tally<'c>(
    db: impl PgExecutor<'c>,
    user: &UserId,
    q: &ListQuery,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Result<Tally> {
    let today = zone.local(now).date_naive();
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("SELECT count(*) FILTER (WHERE TRUE");
    push_filters(&mut sql, q, zone, now);
    sql.push(") AS matching, count(*) FILTER (WHERE NOT t.completed) AS open, ")
        .push("count(*) FILTER (WHERE NOT t.completed AND (t.due_at < ")
        .push_bind(now)
        .push(" OR (t.due_at IS NULL AND t.due_date < ")
        .push_bind(today)
        .push("))) AS overdue, count(*) FILTER (WHERE NOT t.completed AND t.due_date = ")
        .push_bind(today)
        .push(") AS due_today FROM tasks t WHERE t.user_id = ")
        .push_bind(user);
    let row: TallyRow = sql.build_query_as().fetch_one(db).await?;
    Ok(Tally {
        matching: row.matching,
        open: row.open,
        overdue: row.overdue,
        due_today: row.due_today,
    })
}

/// Makes `%`, `_` and `\` match themselves in an ILIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    #[test]
    fn defaults_are_newest_first_fifty() {
        let q = params(&[]).parse().unwrap();
        assert_eq!(q.limit, 50);
        assert_eq!(q.sort, Sort::Created);
        assert_eq!(q.order, Order::Desc);
    }

    #[test]
    fn limits_are_bounded() {
        assert!(params(&[("limit", "0")]).parse().is_err());
        assert!(params(&[("limit", "201")]).parse().is_err());
        assert!(params(&[("limit", "ten")]).parse().is_err());
        assert_eq!(params(&[("limit", "200")]).parse().unwrap().limit, 200);
    }

    #[test]
    fn cursors_round_trip_and_must_match_the_sort() {
        let c = paging::encode(&Cursor {
            s: Sort::Title,
            o: Order::Asc,
            k: "milk".into(),
            i: 7,
        });
        assert!(params(&[("sort", "title"), ("cursor", &c)]).parse().is_ok());
        assert!(params(&[("sort", "due"), ("cursor", &c)]).parse().is_err());
        assert!(params(&[("cursor", "not-a-cursor")]).parse().is_err());
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
