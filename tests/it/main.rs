//! The one integration-test binary: each module is a capability, tested from the outside.

mod check_access;
mod cli;
mod collaborators;
mod connections;
mod crash;
mod faults;
mod frameio_client;
mod frameio_project_users;
mod helpers;
mod ims;
mod mirror_e2e;
mod plan;
mod submission_clients;
mod submissions;
mod subscriptions;
mod systemd;
mod webhooks;
mod workfront_client;
