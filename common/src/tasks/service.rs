//! The task operations for a door that owns no transaction (REST, MCP).
//! Each change commits together with its `task.*` event (recorded by the
//! operation itself), then wakes the user's live streams (SSE, MCP resource
//! subscriptions) on every API instance. A door calls one method and cannot
//! forget either. The chat door runs tools inside its turn's transaction;
//! `chat::turns::run_tool` wakes the streams after that commits.

use std::sync::Arc;

use sqlx::PgPool;

use super::{Created, ListQuery, NewTask, Task, TaskPage, TaskPatch};
use crate::domain::{IdempotencyKey, TaskId, UserId};
use crate::error::Result;
use crate::queue::Broker;

#[derive(Clone)]
pub struct Tasks {
    pool: PgPool,
    live: Arc<Broker>,
}

impl Tasks {
    pub fn new(pool: PgPool, live: Arc<Broker>) -> Self {
        Self { pool, live }
    }

    /// See [`super::create`]: with a key, a retry gets the first task back.
    pub async fn create(
        &self,
        user: &UserId,
        new: NewTask,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created> {
        let created = super::create(&self.pool, user, new, key).await?;
        if !created.replayed {
            self.live.notify(user).await;
        }
        Ok(created)
    }

    pub async fn get(&self, user: &UserId, id: TaskId) -> Result<Task> {
        super::get(&self.pool, user, id).await
    }

    pub async fn list(&self, user: &UserId, query: &ListQuery) -> Result<TaskPage> {
        super::list(&self.pool, user, query).await
    }

    pub async fn update(&self, user: &UserId, id: TaskId, patch: TaskPatch) -> Result<Task> {
        let task = super::update(&self.pool, user, id, patch).await?;
        self.live.notify(user).await;
        Ok(task)
    }

    pub async fn set_completed(&self, user: &UserId, id: TaskId, completed: bool) -> Result<Task> {
        let task = super::set_completed(&self.pool, user, id, completed).await?;
        self.live.notify(user).await;
        Ok(task)
    }

    pub async fn delete(&self, user: &UserId, id: TaskId) -> Result<Task> {
        let task = super::delete(&self.pool, user, id).await?;
        self.live.notify(user).await;
        Ok(task)
    }

    /// For a door that runs its own transaction (`tools::call_alone`).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Wakes the user's live streams after a commit of that door's.
    pub(crate) fn live(&self) -> &Broker {
        &self.live
    }
}
