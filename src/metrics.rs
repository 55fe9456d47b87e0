//! What `GET /metrics` exports, on `prometheus-client` (the Prometheus project's Rust client:
//! typed families, histograms, label values escaped by the encoder). Counters and histograms are
//! updated where things happen; gauges are set from the store and the engine when scraped
//! (`http/metrics.rs`), from one [`Scrape`]. Request latencies are counted by both clients into
//! process-wide families ([`record_request`]), which every [`Metrics`] registers.
//!
//! Labels are bounded: effect kinds, outcomes, lanes (credentials as `default` or `group:<id>`,
//! never a secret), endpoint classes (a method and an object or bucket, never an id), statuses.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// What became of an event delivery, as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventOutcome {
    Accepted,
    Duplicate,
    Unauthorized,
    TooLarge,
    Malformed,
    /// Not recorded (store failure, stopping, no token configured): Workfront delivers again.
    Unavailable,
}

impl EventOutcome {
    pub const ALL: [EventOutcome; 6] = [
        EventOutcome::Accepted,
        EventOutcome::Duplicate,
        EventOutcome::Unauthorized,
        EventOutcome::TooLarge,
        EventOutcome::Malformed,
        EventOutcome::Unavailable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EventOutcome::Accepted => "accepted",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Unauthorized => "rejected_unauthorized",
            EventOutcome::TooLarge => "rejected_too_large",
            EventOutcome::Malformed => "rejected_malformed",
            EventOutcome::Unavailable => "unavailable",
        }
    }
}

/// Which outside system a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Workfront,
    Frameio,
}

impl System {
    fn label(self) -> &'static str {
        match self {
            System::Workfront => "workfront",
            System::Frameio => "frameio",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabels {
    system: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    system: &'static str,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    system: &'static str,
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EffectLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CredentialLabels {
    credential: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LaneStateLabels {
    lane: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: &'static str,
}

/// Seconds, from a millisecond to about nine minutes (doubling): requests, syncs, settles.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// Requests to both services, by system, endpoint class and status (process-wide: the clients
/// are made in many places, and all of them count).
static REQUESTS: LazyLock<Family<RequestLabels, Histogram>> = LazyLock::new(|| Family::new_with_constructor(latency));
static CALLS: LazyLock<Family<SystemLabels, Counter>> = LazyLock::new(Family::default);
static ERRORS: LazyLock<Family<ErrorLabels, Counter>> = LazyLock::new(Family::default);

/// Counts a request to `system`: its endpoint class (`GET proj`, `POST files.local_upload`: never
/// an id), its status (`None`: no answer) and how long it took. A failed one (no answer, or not
/// 2xx) counts as an error too.
pub fn record_request(system: System, endpoint: &str, status: Option<u16>, took: Duration) {
    let status_label = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
    REQUESTS
        .get_or_create(&RequestLabels {
            system: system.label(),
            endpoint: endpoint.to_owned(),
            status: status_label.clone(),
        })
        .observe(took.as_secs_f64());
    CALLS.get_or_create(&SystemLabels { system: system.label() }).inc();
    if !status.is_some_and(|s| (200..300).contains(&s)) {
        ERRORS
            .get_or_create(&ErrorLabels {
                system: system.label(),
                status: status_label,
            })
            .inc();
    }
}

/// What the scrape reads from the store and the engine, for the gauges.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub inbox: usize,
    pub mirrors: usize,
    pub pending: usize,
    pub parked: usize,
    pub dead: usize,
    /// Pending entries by lane (`default`, `group:<id>`, `workfront`, `unrouted`).
    pub pending_by_lane: BTreeMap<String, usize>,
    /// Parked entries by cause.
    pub parked_by_cause: BTreeMap<&'static str, usize>,
    /// Removals the mass-removal guard holds.
    pub held_removals: usize,
}

/// The daemon's metrics: one registry, its families, and the lock a scrape sets the gauges under.
pub struct Metrics {
    registry: Registry,
    /// Every series name the registry can write (a counter's `_total`, a histogram's `_bucket`,
    /// `_sum`, `_count`): what a dashboard or an alert may use.
    declared: Vec<String>,
    scrape: Mutex<()>,
    events: Family<OutcomeLabels, Counter>,
    sync_duration: Histogram,
    sync_failures: Counter,
    last_sync_duration: Gauge<f64, AtomicU64>,
    effects: Family<EffectLabels, Counter>,
    effect_latency: Family<KindLabels, Histogram>,
    rate_limited: Family<CredentialLabels, Counter>,
    acknowledged: Family<EndpointLabels, Histogram>,
    inbox: Gauge,
    mirrors: Gauge,
    outbox: Family<StateLabels, Gauge>,
    outbox_lanes: Family<LaneStateLabels, Gauge>,
    parked: Family<CauseLabels, Gauge>,
    dead_letters: Gauge,
    held_removals: Gauge,
    last_full_sync: Gauge<f64, AtomicU64>,
    last_sync_ok: Gauge<f64, AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("frameio_sync");
        let metrics = Self {
            registry: Registry::default(),
            declared: Vec::new(),
            scrape: Mutex::new(()),
            events: Family::default(),
            sync_duration: latency(),
            sync_failures: Counter::default(),
            last_sync_duration: Gauge::default(),
            effects: Family::default(),
            effect_latency: Family::new_with_constructor(latency),
            rate_limited: Family::default(),
            acknowledged: Family::new_with_constructor(latency),
            inbox: Gauge::default(),
            mirrors: Gauge::default(),
            outbox: Family::default(),
            outbox_lanes: Family::default(),
            parked: Family::default(),
            dead_letters: Gauge::default(),
            held_removals: Gauge::default(),
            last_full_sync: Gauge::default(),
            last_sync_ok: Gauge::default(),
        };
        // Every delivery outcome from the start, at 0: a rate over an absent series is no rate.
        for outcome in EventOutcome::ALL {
            metrics.event_series(outcome);
        }
        let mut declared = Vec::new();
        let mut r = Declare {
            registry: &mut registry,
            declared: &mut declared,
        };
        r.add(
            "events_received",
            "Workfront event deliveries, by outcome",
            metrics.events.clone(),
        );
        r.add(
            "sync_duration_seconds",
            "Workfront syncs (full and polls), by duration",
            metrics.sync_duration.clone(),
        );
        r.add("sync_failures", "Syncs that failed", metrics.sync_failures.clone());
        r.add(
            "last_sync_duration_seconds",
            "The last sync's duration",
            metrics.last_sync_duration.clone(),
        );
        r.add(
            "last_full_sync_timestamp_seconds",
            "When the last full sync that succeeded started (Unix time)",
            metrics.last_full_sync.clone(),
        );
        r.add(
            "last_successful_sync_timestamp_seconds",
            "When the last sync (full or poll) that succeeded started (Unix time)",
            metrics.last_sync_ok.clone(),
        );
        r.add(
            "effects",
            "Outbox entries carried out, by kind and outcome (done, retry, parked, dead)",
            metrics.effects.clone(),
        );
        r.add(
            "effect_latency_seconds",
            "From an entry's enqueueing to its settling (done or dead), by kind",
            metrics.effect_latency.clone(),
        );
        r.add(
            "rate_limited",
            "Frame.io 429 answers to outbox work, by credential (default or group:<id>)",
            metrics.rate_limited.clone(),
        );
        r.add(
            "acknowledgement_seconds",
            "From a webhook's arrival to its answer, by endpoint",
            metrics.acknowledged.clone(),
        );
        r.add(
            "request_duration_seconds",
            "Requests to Workfront and Frame.io, by system, endpoint class and status",
            REQUESTS.clone(),
        );
        r.add("api_calls", "HTTP requests sent, by system", CALLS.clone());
        r.add(
            "api_errors",
            "Failed HTTP requests, by system and status (none: no answer)",
            ERRORS.clone(),
        );
        r.add(
            "inbox_depth",
            "Events recorded and not yet applied",
            metrics.inbox.clone(),
        );
        r.add("mirrors", "Workfront projects with a mirror", metrics.mirrors.clone());
        r.add("outbox_entries", "Outbox entries, by state", metrics.outbox.clone());
        r.add(
            "outbox_lane_entries",
            "Pending outbox entries, by lane (a credential, workfront or unrouted)",
            metrics.outbox_lanes.clone(),
        );
        r.add(
            "parked_entries",
            "Parked outbox entries, by cause",
            metrics.parked.clone(),
        );
        r.add(
            "dead_letters",
            "Outbox entries refused for good, waiting for an admin",
            metrics.dead_letters.clone(),
        );
        r.add(
            "removal_guard_held",
            "Collaborator removals the mass-removal guard holds (confirm-removals)",
            metrics.held_removals.clone(),
        );
        Self {
            registry,
            declared,
            ..metrics
        }
    }

    /// Every series name a scrape can hold (whether or not it has samples yet).
    pub fn declared(&self) -> &[String] {
        &self.declared
    }

    pub fn event(&self, outcome: EventOutcome) {
        self.event_series(outcome).inc();
    }

    fn event_series(&self, outcome: EventOutcome) -> Counter {
        self.events
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .clone()
    }

    /// A sync that started at `started` (Unix milliseconds) succeeded; `full`: a full one.
    pub fn sync_ok(&self, started: i64, full: bool) {
        let at = started as f64 / 1000.0;
        self.last_sync_ok.set(at);
        if full {
            self.last_full_sync.set(at);
        }
    }

    pub fn sync_done(&self, micros: u64, failed: bool) {
        let seconds = micros as f64 / 1e6;
        self.sync_duration.observe(seconds);
        self.last_sync_duration.set(seconds);
        if failed {
            self.sync_failures.inc();
        }
    }

    /// An outbox entry of `kind` came to `outcome`; `since_enqueued` for one that left the outbox.
    pub fn effect(&self, kind: &'static str, outcome: &'static str, since_enqueued: Option<Duration>) {
        self.effects.get_or_create(&EffectLabels { kind, outcome }).inc();
        if let Some(latency) = since_enqueued {
            self.effect_latency
                .get_or_create(&KindLabels { kind })
                .observe(latency.as_secs_f64());
        }
    }

    /// Frame.io answered 429 to work of `credential` (`default` or `group:<id>`).
    pub fn rate_limited(&self, credential: String) {
        self.rate_limited.get_or_create(&CredentialLabels { credential }).inc();
    }

    /// A webhook on `endpoint` was answered `took` after it arrived.
    pub fn acknowledged(&self, endpoint: &'static str, took: Duration) {
        self.acknowledged
            .get_or_create(&EndpointLabels { endpoint })
            .observe(took.as_secs_f64());
    }

    /// The metrics in the text exposition format, the gauges set from `scrape`.
    pub fn render(&self, scrape: &Scrape) -> String {
        let _one_at_a_time = self.scrape.lock().expect("scrape lock");
        self.inbox.set(gauge(scrape.inbox));
        self.mirrors.set(gauge(scrape.mirrors));
        for (state, n) in [
            ("pending", scrape.pending),
            ("parked", scrape.parked),
            ("dead", scrape.dead),
        ] {
            self.outbox.get_or_create(&StateLabels { state }).set(gauge(n));
        }
        self.outbox_lanes.clear();
        for (lane, n) in &scrape.pending_by_lane {
            self.outbox_lanes
                .get_or_create(&LaneStateLabels {
                    lane: lane.clone(),
                    state: "pending",
                })
                .set(gauge(*n));
        }
        self.parked.clear();
        for (cause, n) in &scrape.parked_by_cause {
            self.parked.get_or_create(&CauseLabels { cause }).set(gauge(*n));
        }
        self.dead_letters.set(gauge(scrape.dead));
        self.held_removals.set(gauge(scrape.held_removals));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Registers metrics under the `frameio_sync` prefix and notes the series each writes.
struct Declare<'a> {
    registry: &'a mut Registry,
    declared: &'a mut Vec<String>,
}

impl Declare<'_> {
    fn add<M>(&mut self, name: &str, help: &str, metric: M)
    where
        M: prometheus_client::registry::Metric + prometheus_client::metrics::TypedMetric,
    {
        use prometheus_client::metrics::MetricType;
        let full = format!("frameio_sync_{name}");
        match M::TYPE {
            MetricType::Counter => self.declared.push(format!("{full}_total")),
            MetricType::Histogram => {
                for suffix in ["_bucket", "_sum", "_count"] {
                    self.declared.push(format!("{full}{suffix}"));
                }
            }
            _ => self.declared.push(full),
        }
        self.registry.register(name, help, metric);
    }
}

fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
