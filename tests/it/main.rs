//! The one integration-test binary: each module is a capability, tested from the outside.

mod check_access;
mod cli;
mod collaborators;
mod connections;
mod crash;
// Needs failpoints in the binary: `cargo test --features failpoints` (the README's test command).
#[cfg(feature = "failpoints")]
mod crash_loop;
mod faults;
mod fidelity;
mod folder;
mod frameio_client;
mod frameio_project_users;
#[cfg(feature = "powerloss")]
mod full_disk;
mod fuzz_corpus;
mod hardening;
mod helpers;
mod ims;
// Needs FUSE (/dev/fuse, and root or fusermount3): `cargo test --features failpoints,powerloss`.
#[cfg(feature = "powerloss")]
mod lazyfs;
mod listener;
mod metrics;
mod mirror_e2e;
mod plan;
#[cfg(feature = "powerloss")]
mod power_loss;
mod review;
mod secrets;
mod submission_clients;
mod submissions;
mod subscriptions;
mod systemd;
mod upgrade;
mod uploads;
mod webhooks;
mod workfront_client;
