//! Each Frame.io workspace's projects, listed once per process, before our first create there:
//! what a Workfront project may already have as a mirror when the state dir was lost, or on a
//! first install in an organisation that made its Frame.io projects by hand (`core::adoption`).
//! Listed once, not before every create: a backfill of thousands of creates in one workspace
//! costs one listing, and projects we create are recorded, so they never need it.
//!
//! Which Frame.io projects are mirrors already (never adopted twice) is read from the store once,
//! then kept up to date as mirrors are recorded (`claim`): a recovery adopting thousands of
//! mirrors reading every mirror for each would be quadratic.

use crate::core::model::{FrameioProject, Target};
use crate::frameio::{FrameioClient, FrameioError};
use crate::ids::{FrameioAccountId, FrameioProjectId, FrameioWorkspaceId};
use crate::store::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

type Workspace = (FrameioAccountId, FrameioWorkspaceId);

#[derive(Default)]
pub(crate) struct Listings {
    listed: Mutex<HashMap<Workspace, Arc<Vec<FrameioProject>>>>,
    /// The Frame.io projects recorded as mirrors, once read.
    claimed: Mutex<Option<HashSet<FrameioProjectId>>>,
}

impl Listings {
    /// `target`'s workspace as first listed in this process (listed now if it never was).
    pub async fn of(&self, client: &FrameioClient, target: &Target) -> Result<Arc<Vec<FrameioProject>>, FrameioError> {
        let key = (target.account.clone(), target.workspace.clone());
        if let Some(listed) = self.listed.lock().expect("listings lock").get(&key) {
            return Ok(listed.clone());
        }
        // Not held across the request: lanes list different workspaces at once. Two lanes that
        // list the same one both keep the first answer.
        let listed = Arc::new(client.projects(&target.account, &target.workspace).await?);
        tracing::info!(
            account = %target.account, workspace = %target.workspace, projects = listed.len(),
            "listed the workspace before the first create in it"
        );
        Ok(self
            .listed
            .lock()
            .expect("listings lock")
            .entry(key)
            .or_insert(listed)
            .clone())
    }

    /// Those of `ids` that are some Workfront project's mirror already.
    pub fn claimed_among<'a>(
        &self,
        store: &Store,
        ids: impl IntoIterator<Item = &'a FrameioProjectId>,
    ) -> Result<HashSet<FrameioProjectId>, StoreError> {
        let mut claimed = self.claimed.lock().expect("claimed lock");
        if claimed.is_none() {
            *claimed = Some(store.mirrored_frameio_ids()?);
        }
        let claimed = claimed.as_ref().expect("just read");
        Ok(ids.into_iter().filter(|id| claimed.contains(*id)).cloned().collect())
    }

    /// `id` is now recorded as a mirror (a create or an adoption settled).
    pub fn claim(&self, id: &FrameioProjectId) {
        if let Some(claimed) = self.claimed.lock().expect("claimed lock").as_mut() {
            claimed.insert(id.clone());
        }
    }
}
