//! The task operations for a door that owns no transaction (REST, MCP):
//! each is a unit of work of its own (`crate::work`), so the change commits
//! with its `task.*` event and then wakes the user's live streams. The chat
//! door runs tools inside its turn's unit of work instead.

use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;

use super::{Created, DeleteScope, Deleted, ListQuery, NewTask, Task, TaskPage, TaskPatch};
use crate::domain::{IdempotencyKey, TaskId, TimeZone, UserId};
use crate::error::Result;
use crate::queue::Broker;
use crate::work::{Work, read_zone};

#[derive(Clone)]
pub struct Tasks {
    pool: PgPool,
    live: Arc<Broker>,
}

impl Tasks {
    pub fn new(pool: PgPool, live: Arc<Broker>) -> Self {
        Self { pool, live }
    }

    /// A unit of work of this door's own.
    pub async fn begin(&self) -> Result<Work> {
        Work::begin(&self.pool, &self.live).await
    }

    /// See [`super::create`]: with a key, a retry gets the first task back.
    pub async fn create(
        &self,
        user: &UserId,
        new: NewTask,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created> {
        let mut work = self.begin().await?;
        let created = super::create(&mut work, user, new, key).await?;
        work.commit().await?;
        Ok(created)
    }

    /// `user`'s time zone, as stored: whose wall clock "tomorrow at 5pm" is read on.
    pub async fn time_zone(&self, user: &UserId) -> Result<TimeZone> {
        read_zone(&self.pool, user).await
    }

    pub async fn get(&self, user: &UserId, id: TaskId) -> Result<Task> {
        super::get(&self.pool, user, id).await
    }

    pub async fn list(&self, user: &UserId, query: &ListQuery) -> Result<TaskPage> {
        let zone = if query.needs_zone() {
            read_zone(&self.pool, user).await?
        } else {
            TimeZone::UTC
        };
        super::list::run(&self.pool, user, query, zone, Utc::now()).await
    }

    pub async fn update(&self, user: &UserId, id: TaskId, patch: TaskPatch) -> Result<Task> {
        let mut work = self.begin().await?;
        let task = super::update(&mut work, user, id, patch).await?;
        work.commit().await?;
        Ok(task)
    }

    pub async fn set_completed(&self, user: &UserId, id: TaskId, completed: bool) -> Result<Task> {
        let mut work = self.begin().await?;
        let task = super::set_completed(&mut work, user, id, completed).await?;
        work.commit().await?;
        Ok(task)
    }

    /// See [`super::set_time_zone`]; false when the account is gone.
    pub async fn set_time_zone(&self, user: &UserId, zone: TimeZone) -> Result<bool> {
        let mut work = self.begin().await?;
        let found = super::set_time_zone(&mut work, user, zone).await?;
        work.commit().await?;
        Ok(found)
    }

    /// See [`super::delete`]: a recurring task needs a scope.
    pub async fn delete(
        &self,
        user: &UserId,
        id: TaskId,
        scope: Option<DeleteScope>,
    ) -> Result<Deleted> {
        let mut work = self.begin().await?;
        let deleted = super::delete(&mut work, user, id, scope).await?;
        work.commit().await?;
        Ok(deleted)
    }

    /// See [`super::skip`].
    pub async fn skip(&self, user: &UserId, id: TaskId) -> Result<Task> {
        let mut work = self.begin().await?;
        let task = super::skip(&mut work, user, id).await?;
        work.commit().await?;
        Ok(task)
    }
}
