//! What the engine last read of Workfront and keeps in memory: every user (also in the store, for
//! restarts) and every project's team (not stored: the first sync of a process reads them).
//! Plans share these maps (`Arc`): a change makes a new copy only while a plan holds the old one.

use super::Teams;
use crate::core::model::WorkfrontUser;
use crate::ids::{WorkfrontProjectId, WorkfrontUserId};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

pub(super) type Users = HashMap<WorkfrontUserId, WorkfrontUser>;

#[derive(Default)]
pub(super) struct LastRead {
    users: RwLock<Arc<Users>>,
    /// `None` until the first sync read them: no plan may take "not read yet" for "nobody on the
    /// team" (events wait for it, see `events.rs`).
    teams: RwLock<Option<Arc<Teams>>>,
}

impl LastRead {
    /// The users the store kept; the teams are not read yet.
    pub fn new(users: Users) -> Self {
        Self {
            users: RwLock::new(Arc::new(users)),
            teams: RwLock::default(),
        }
    }

    /// Every user (shared, not copied).
    pub fn users(&self) -> Arc<Users> {
        Arc::clone(&self.users.read().expect("users lock"))
    }

    pub fn user(&self, id: &WorkfrontUserId) -> Option<WorkfrontUser> {
        self.users.read().expect("users lock").get(id).cloned()
    }

    /// Changes the held users under the lock: `change` gets the map and decides what to write
    /// (the caller stores what differs first, see `Engine::remember_users`).
    pub fn update_users<T>(&self, change: impl FnOnce(&mut Arc<Users>) -> T) -> T {
        change(&mut self.users.write().expect("users lock"))
    }

    /// Whether the first sync has read the teams.
    pub fn teams_loaded(&self) -> bool {
        self.teams.read().expect("teams lock").is_some()
    }

    /// `project`'s team, once the teams are read.
    pub fn team(&self, project: &WorkfrontProjectId) -> Option<Vec<WorkfrontUserId>> {
        self.teams
            .read()
            .expect("teams lock")
            .as_ref()
            .and_then(|teams| teams.get(project).cloned())
    }

    /// A sync's teams replace the held ones. Whether these are the first this process read.
    pub fn replace_teams(&self, teams: Arc<Teams>) -> bool {
        self.teams.write().expect("teams lock").replace(teams).is_none()
    }

    /// Events' changed teams go into the held ones (which must be loaded); all of them after.
    pub fn extend_teams(&self, changed: BTreeMap<WorkfrontProjectId, Vec<WorkfrontUserId>>) -> Arc<Teams> {
        let mut guard = self.teams.write().expect("teams lock");
        let teams = guard
            .as_mut()
            .expect("the caller checked that the teams were loaded, and they are never unloaded");
        Arc::make_mut(teams).extend(changed);
        Arc::clone(teams)
    }
}
