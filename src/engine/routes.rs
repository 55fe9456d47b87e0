//! Credentials and clients: the routing table (project → account), one Frame.io client per
//! credential (Frame.io limits each user on its own, so each has its own rate limiter), and the
//! credentials Frame.io refuses. Replaced whole or in part while the daemon runs (`connect-group`,
//! `disconnect-group`, a sync's group tree), read by every lane.

use super::{connection_auth, frameio_client};
use crate::config::Settings;
use crate::core::model::{Credential, RateClass, Target, WorkfrontGroup};
use crate::core::routing::Routing;
use crate::frameio::{FrameioAuth, FrameioClient};
use crate::ids::WorkfrontGroupId;
use crate::store::{ConnectionRecord, Store, StoreError};
use reqwest::Url;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::Duration;

pub(super) struct FrameioRoutes {
    base: Url,
    timeout: Duration,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    routing: Routing,
    clients: HashMap<Credential, FrameioClient>,
    /// Credentials Frame.io refused (401/403): their work is parked without sending anything.
    refused: HashSet<Credential>,
}

impl FrameioRoutes {
    /// From the settings (the default account) and the stored connections. A connection whose
    /// token file cannot be read is logged and left without a client: its projects are parked
    /// until `connect-group` stores a token again.
    pub fn new(settings: &Settings, store: &Store) -> Result<Self, StoreError> {
        let routes = Self {
            base: settings.frameio.base_url.clone(),
            timeout: settings.frameio.request_timeout,
            inner: RwLock::default(),
        };
        {
            let mut inner = routes.write();
            if let Some(default) = &settings.frameio.default {
                inner.clients.insert(
                    Credential::Default,
                    routes.client_with(FrameioAuth::from(&default.credential)),
                );
                inner.routing.default = Some(Target {
                    account: default.account_id.clone(),
                    workspace: default.workspace_id.clone(),
                    via: None,
                });
            }
            for connection in store.connections()? {
                inner
                    .routing
                    .connections
                    .insert(connection.group.clone(), connection_target(&connection));
                let unusable = |error: &dyn std::fmt::Display| tracing::error!(group = %connection.group, %error, "connection without a usable credential; run connect-group for it again");
                match store.connection_token(&connection.group) {
                    Err(err) => unusable(&err),
                    Ok(secret) => match connection_auth(&connection, secret) {
                        Err(err) => unusable(&err),
                        Ok(auth) => {
                            inner
                                .clients
                                .insert(Credential::Group(connection.group.clone()), routes.client_with(auth));
                        }
                    },
                }
                if connection.broken.is_some() {
                    inner.refused.insert(Credential::Group(connection.group.clone()));
                }
            }
        }
        Ok(routes)
    }

    fn client_with(&self, auth: FrameioAuth) -> FrameioClient {
        frameio_client(&self.base, self.timeout, auth)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().expect("routes lock")
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().expect("routes lock")
    }

    pub fn routing(&self) -> Routing {
        self.read().routing.clone()
    }

    pub fn set_groups(&self, groups: &[WorkfrontGroup]) {
        self.write().routing.set_groups(groups);
    }

    pub fn client(&self, credential: &Credential) -> Option<FrameioClient> {
        self.read().clients.get(credential).cloned()
    }

    /// Every credential's client.
    pub fn clients(&self) -> Vec<(Credential, FrameioClient)> {
        self.read()
            .clients
            .iter()
            .map(|(c, f)| (c.clone(), f.clone()))
            .collect()
    }

    /// How long `credential` must wait before a request of `class` (zero: it may go now).
    pub fn ready_in(&self, credential: &Credential, class: RateClass) -> Option<Duration> {
        Some(self.read().clients.get(credential)?.ready_in(class))
    }

    pub fn is_refused(&self, credential: &Credential) -> bool {
        self.read().refused.contains(credential)
    }

    pub fn refuse(&self, credential: &Credential) {
        self.write().refused.insert(credential.clone());
    }

    /// Routes `record`'s group to its account, with a client on `auth`, no longer refused.
    pub fn connect(&self, record: &ConnectionRecord, auth: FrameioAuth) {
        let credential = Credential::Group(record.group.clone());
        let client = self.client_with(auth);
        let mut inner = self.write();
        inner
            .routing
            .connections
            .insert(record.group.clone(), connection_target(record));
        inner.clients.insert(credential.clone(), client);
        inner.refused.remove(&credential);
    }

    /// Forgets `group`'s connection.
    pub fn disconnect(&self, group: &WorkfrontGroupId) {
        let credential = Credential::Group(group.clone());
        let mut inner = self.write();
        inner.routing.connections.remove(group);
        inner.clients.remove(&credential);
        inner.refused.remove(&credential);
    }
}

fn connection_target(record: &ConnectionRecord) -> Target {
    Target {
        account: record.account.clone(),
        workspace: record.workspace.clone(),
        via: Some(record.group.clone()),
    }
}
