//! frameio-sync: mirrors Adobe Workfront projects into Frame.io through a durable outbox.
//!
//! # Layout
//! The data walks left to right: Workfront facts come in at one edge, the pure core decides, the
//! store makes the decision durable, the worker acts on Frame.io at the other edge.
//!
//! - [`workfront`]: the only code that knows Workfront's URLs and JSON.
//! - [`frameio`]: the only code that knows Frame.io's URLs and JSON, and its rate limits.
//! - [`core`]: pure decisions — the mirror plan, routing, adoption. No I/O.
//! - [`store`]: sled — mirrors, outbox, cursor — with transactions and flush discipline.
//! - [`engine`]: the two repeatable steps (sync, work) over the above.
//! - [`effects`]: one module per effect kind: its payload, what it is, and how it is carried out.
//! - [`daemon`]: the loops around the steps, the control socket, shutdown.
//! - [`http`]: the HTTP listener — Workfront events (recorded durably before they are
//!   acknowledged), `/healthz`, `/metrics` ([`metrics`]).
//! - [`cli`], [`config`], [`status`], [`control`], [`connect`], [`subscribe`]: the operator's
//!   interface.
//! - [`demo`]: `demo`, on the sandbox (the `frameio-sync-sandbox` crate: a local Workfront and
//!   Frame.io, also what the end-to-end tests run against).
//! - [`fuzz_checks`]: the properties the fuzz targets and the corpus replay test check.
//! - [`failpoint`]: named crash windows for the crash-loop test (the `failpoints` feature).
//! - [`durable`]: directory fsyncs, so what the daemon creates survives a power cut.
//! - [`exchange`]: a refused request and its answer, kept with a dead letter.
//! - [`retry`]: the one retry policy (the only user of the `backoff` crate).
//! - [`systemd`], [`telemetry`]: sd_notify and the watchdog; logs to the journal, JSON or text.

pub mod accept;
pub mod answer_body;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connect;
pub mod control;
pub mod core;
pub mod daemon;
pub mod demo;
pub mod durable;
pub mod effects;
pub mod engine;
pub mod exchange;
pub mod failpoint;
pub mod frameio;
pub mod fuzz_checks;
pub mod http;
pub mod ids;
pub mod ims;
pub mod metrics;
pub mod register_action;
pub mod register_webhooks;
pub mod retry;
pub mod secret;
pub mod status;
pub mod store;
pub mod subscribe;
pub mod systemd;
pub mod telemetry;
pub mod timestamp;
pub mod transfer;
pub mod url_segments;
pub mod workfront;
