//! The command line (SPEC §3). Each command is a function from parsed arguments to an exit code;
//! `main` prints the error chain of any failure.

use crate::config::FrameioCredential;
use crate::config::{self, Settings, DEFAULT_CONFIG_PATH};
use crate::connect::{self, ConnectArgs};
use crate::control::{self, Reply, Request, WireToken};
use crate::core::access::may_submit_asset;
use crate::ids::{FrameioAccountId, FrameioWorkspaceId, WorkfrontGroupId, WorkfrontProjectId, WorkfrontUserId};
use crate::ims::ImsCredentials;
use crate::secret::Secret;
use crate::store::Store;
use crate::telemetry::{self, LogFormat};
use crate::workfront::access::{self, AccessFetcher};
use crate::workfront::WorkfrontClient;
use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "frameio-sync",
    version,
    about = "Mirrors Adobe Workfront projects into Frame.io",
    long_about = "Mirrors every Adobe Workfront project into Frame.io (in the account its group is connected to), \
adds flagged Workfront users as collaborators, sends Frame.io assets to Workfront for review through \
Workfront's access rules and brings the decisions back, and pushes Workfront's documents into a one-way \
folder. Every side effect goes through a durable outbox in the state dir.\n\n\
Runs as the systemd service frameio-sync.service (`systemctl reload` = full resync; `systemctl stop` = \
graceful stop). The configuration is TOML, /etc/frameio-sync/config.toml unless --config or \
FRAMEIO_SYNC_CONFIG says otherwise; secrets live in files it names. At 3 a.m., start with \
`frameio-sync status`. The whole guide: /usr/share/doc/frameio-sync/README.md."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "FRAMEIO_SYNC_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: a full sync at start, then polls; SIGHUP resyncs, SIGTERM stops.
    Run,
    /// Run against a built-in sandbox Workfront and Frame.io (no credentials needed).
    Demo,
    /// Mirrors, outbox counts, parked work and the last sync.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print what a full resync would do now (create mirror X in account Y, add alice to P,
    /// remove bob from Q), doing none of it.
    Plan {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Inspect and act on outbox entries.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Connect a Workfront group to a Frame.io account (F2), with a developer token or an Adobe
    /// OAuth server-to-server credential.
    ConnectGroup {
        /// The Workfront group's ID.
        #[arg(long)]
        group: String,
        /// A file holding a Frame.io legacy developer token.
        #[arg(long, conflicts_with = "client_id", required_unless_present = "client_id")]
        token_file: Option<PathBuf>,
        /// The OAuth server-to-server credential's client ID (Adobe Developer Console).
        #[arg(long, requires_all = ["client_secret_file", "scopes"])]
        client_id: Option<String>,
        /// A file holding that credential's client secret.
        #[arg(long, requires = "client_id")]
        client_secret_file: Option<PathBuf>,
        /// The credential's scopes, comma-separated, as the Developer Console lists them.
        #[arg(long, requires = "client_id")]
        scopes: Option<String>,
        /// The IMS token endpoint.
        #[arg(long, requires = "client_id", default_value = crate::ims::DEFAULT_TOKEN_URL)]
        ims_token_url: String,
        /// The account, when the credential reaches several.
        #[arg(long)]
        account: Option<String>,
        /// The workspace; by default one named after the group is reused or created.
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Remove a group's connection. Its mirrors stay where they are.
    DisconnectGroup {
        #[arg(long)]
        group: String,
    },
    /// List group connections: group, account, workspace, token fingerprint (never the token).
    Connections {
        #[arg(long)]
        json: bool,
    },
    /// Carry out the collaborator removals the mass-removal guard held (see `status`).
    ConfirmRemovals,
    /// Write a consistent export of the state (mirrors, collaborator records, connections without
    /// their tokens, the outbox) to a file (mode 0600), while the daemon runs or not.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Load a backup into an empty state dir, with the daemon stopped. Tokens are not in a backup:
    /// run `connect-group` again for each connection afterwards.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Create the Workfront event subscriptions (PROJ and USER; with unified approvals, approval
    /// updates; with the one-way folder, DOCU) that deliver to this daemon; matching ones are kept.
    Subscribe {
        /// The daemon's public base URL (`/workfront/events` is appended).
        #[arg(long)]
        url: String,
    },
    /// Delete this daemon's event subscriptions (PROJ, USER, approval, DOCU) that deliver to this URL.
    Unsubscribe {
        #[arg(long)]
        url: String,
    },
    /// List the tenant's event subscriptions.
    Subscriptions {
        #[arg(long)]
        json: bool,
    },
    /// Create the Frame.io custom action "Send to Workfront for review" (F6) in the default
    /// workspace and every connected workspace; existing ones are kept.
    RegisterAction {
        /// The daemon's public base URL (`/frameio/actions` is appended).
        #[arg(long)]
        url: String,
    },
    /// Create the Frame.io webhook that tells the daemon of new comments (`comment.created`, for
    /// `review.comments_to_workfront`) in the default workspace and every connected workspace;
    /// existing ones are kept.
    RegisterWebhooks {
        /// The daemon's public base URL (`/frameio/webhooks` is appended).
        #[arg(long)]
        url: String,
    },
    /// May this user send a Frame.io asset to this project for review (F6)? Exit 0 allowed,
    /// 1 denied, 2 error.
    CheckAccess {
        /// The Workfront user's ID.
        #[arg(long)]
        user: String,
        /// The Workfront project's ID.
        #[arg(long)]
        project: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the manual page (roff), generated from these commands: `frameio-sync man | man -l -`;
    /// with `--dir`, write it and one page per command (`frameio-sync-status.1`, …) there.
    Man {
        /// A folder to write every page into, instead of printing the main one.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print a completion script for a shell: `frameio-sync completions bash >
    /// /usr/share/bash-completion/completions/frameio-sync`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Every entry with its state and reason.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a parked or dead entry pending again, due now.
    Retry { id: u64 },
    /// Remove an entry for good.
    Drop { id: u64 },
}

/// Writes `bytes` to stdout; a reader that went away (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(err).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

/// Runs a command. The daemon logs its work at `info`, in the format its configuration asks for
/// (so the configuration is read first); one-shot commands log only warnings, to stderr, so their
/// output stays readable.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let quiet = || telemetry::init("warn", LogFormat::Text);
    match cli.command {
        Command::Run => {
            // Signals first: a reload (SIGHUP, whose default action ends the process) or a stop
            // that arrives while the configuration is read or the state dir is awaited is kept for
            // the daemon, not met by the default action.
            let shutdown = CancellationToken::new();
            let (resync_tx, resync_rx) = mpsc::channel(1);
            spawn_signal_handlers(shutdown.clone(), resync_tx).context("cannot install signal handlers")?;
            let settings = load(&cli.config)?;
            telemetry::init("info", settings.log_format);
            run_daemon(settings, shutdown, resync_rx).await
        }
        Command::Demo => {
            quiet();
            crate::demo::run().await
        }
        Command::Man { dir } => {
            // Needs no configuration: packaging runs it on the build machine.
            match dir {
                Some(dir) => {
                    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                    clap_mangen::generate_to(Cli::command(), &dir)
                        .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
                }
                None => {
                    let mut page = Vec::new();
                    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
                    print_all(&page)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "frameio-sync", &mut script);
            print_all(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            quiet();
            status(&load(&cli.config)?, json).await
        }
        Command::Plan { json } => {
            quiet();
            let reply = control::ask(&load(&cli.config)?, Request::Plan).await?;
            if json {
                println!("{}", reply.to_json());
            } else {
                print!("{}", reply.into_plan()?.render_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox(command) => {
            quiet();
            outbox(&load(&cli.config)?, command).await
        }
        Command::ConnectGroup {
            group,
            token_file,
            client_id,
            client_secret_file,
            scopes,
            ims_token_url,
            account,
            workspace,
        } => {
            quiet();
            let credential = match (token_file, client_id) {
                (Some(file), _) => FrameioCredential::DeveloperToken(
                    Secret::read_file(&file).with_context(|| format!("--token-file {}", file.display()))?,
                ),
                (None, Some(client_id)) => {
                    let file = client_secret_file.context("--client-secret-file is required with --client-id")?;
                    FrameioCredential::ServerToServer(ImsCredentials {
                        client_id,
                        client_secret: Secret::read_file(&file)
                            .with_context(|| format!("--client-secret-file {}", file.display()))?,
                        scopes: scopes.context("--scopes is required with --client-id")?,
                        token_url: ims_token_url.parse().context("--ims-token-url")?,
                    })
                }
                (None, None) => {
                    anyhow::bail!("give --token-file, or --client-id with --client-secret-file and --scopes")
                }
            };
            connect_group(&load(&cli.config)?, &group, credential, account, workspace).await
        }
        Command::DisconnectGroup { group } => {
            quiet();
            let group = WorkfrontGroupId::new(group).context("--group")?;
            let c = control::ask(&load(&cli.config)?, Request::Disconnect { group })
                .await?
                .into_disconnected()?;
            println!(
                "disconnected group {} ({}) from account {}; its mirrors stay, and its projects route to the nearest connected ancestor or the default from the next sync",
                c.group, c.group_name, c.account
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Connections { json } => {
            quiet();
            let reply = control::ask(&load(&cli.config)?, Request::Connections).await?;
            if json {
                println!("{}", reply.to_json());
            } else {
                let list = reply.into_connections()?;
                if list.is_empty() {
                    println!("no group connections");
                }
                for c in list {
                    println!(
                        "{} ({}) → account {} ({}), workspace {} ({}), token {}{}",
                        c.group,
                        c.group_name,
                        c.account,
                        c.account_name,
                        c.workspace,
                        c.workspace_name,
                        c.token_fingerprint,
                        c.broken.map(|b| format!(", BROKEN: {b}")).unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { to } => {
            quiet();
            let backup = control::ask(&load(&cli.config)?, Request::Backup)
                .await?
                .into_backup()?;
            write_backup(&to, &backup).with_context(|| format!("cannot write the backup to {}", to.display()))?;
            let c = backup.counts();
            println!(
                "backed up {} mirrors, {} collaborator records, {} connections (without tokens) and {} outbox entries to {}",
                c.mirrors,
                c.collaborators,
                c.connections,
                c.outbox,
                to.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from } => {
            quiet();
            restore(&load(&cli.config)?, &from)
        }
        Command::ConfirmRemovals => {
            quiet();
            let (released, running) = match control::ask(&load(&cli.config)?, Request::ConfirmRemovals).await? {
                Reply::Released {
                    released,
                    daemon_running,
                } => (released, daemon_running),
                other => return Err(other.unexpected("Released")),
            };
            match (released, running) {
                (0, _) => println!("no removals are held"),
                (n, true) => println!("released {n} held removals; the daemon is carrying them out"),
                (n, false) => println!("released {n} held removals; the daemon carries them out when it runs"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Subscribe { url } => {
            quiet();
            let wanted = crate::subscribe::subscribe(&load(&cli.config)?, &url).await?;
            for w in &wanted {
                let what = if w.created { "created" } else { "kept" };
                println!("{:<4} {:<6} {what:<7} {}", w.obj_code, w.event_type, w.id);
            }
            let created = wanted.iter().filter(|w| w.created).count();
            println!(
                "{created} created, {} already there, delivering to {}",
                wanted.len() - created,
                crate::subscribe::delivery_url(&url)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Unsubscribe { url } => {
            quiet();
            let deleted = crate::subscribe::unsubscribe(&load(&cli.config)?, &url).await?;
            for s in &deleted {
                println!("deleted {} {} {}", s.obj_code, s.event_type, s.id);
            }
            println!("{} subscriptions deleted", deleted.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::RegisterAction { url } => {
            quiet();
            let done = crate::register_action::register(&load(&cli.config)?, &url).await?;
            for r in &done {
                println!(
                    "{:<8} action {} in account {} workspace {} ({})",
                    r.outcome, r.id, r.account, r.workspace, r.via
                );
            }
            println!(
                "\"{}\" delivers to {}",
                crate::register_action::ACTION_NAME,
                crate::register_action::action_url(&url)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::RegisterWebhooks { url } => {
            quiet();
            let done = crate::register_webhooks::register(&load(&cli.config)?, &url).await?;
            for r in &done {
                println!(
                    "{:<8} webhook {} in account {} workspace {} ({})",
                    r.outcome, r.id, r.account, r.workspace, r.via
                );
            }
            println!(
                "\"{}\" ({}) delivers to {}",
                crate::register_webhooks::WEBHOOK_NAME,
                crate::register_webhooks::WEBHOOK_EVENTS.join(", "),
                crate::register_webhooks::webhook_url(&url)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Subscriptions { json } => {
            quiet();
            let list = crate::subscribe::list(&load(&cli.config)?).await?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                if list.is_empty() {
                    println!("no event subscriptions");
                }
                for s in list {
                    println!("{:<4} {:<6} {} → {}", s.obj_code, s.event_type, s.id, s.url);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckAccess { user, project, json } => {
            quiet();
            check_access(&load(&cli.config)?, &user, &project, json).await
        }
    }
}

/// Validates and stores a group connection; a running daemon applies it at once.
async fn connect_group(
    settings: &Settings,
    group: &str,
    credential: FrameioCredential,
    account: Option<String>,
    workspace: Option<String>,
) -> anyhow::Result<ExitCode> {
    let args = ConnectArgs {
        group: WorkfrontGroupId::new(group).context("--group")?,
        credential,
        account: account.map(FrameioAccountId::new).transpose().context("--account")?,
        workspace: workspace
            .map(FrameioWorkspaceId::new)
            .transpose()
            .context("--workspace")?,
    };
    let prepared = connect::prepare(settings, args).await?;
    let created = prepared.workspace_created;
    let request = Request::Connect {
        record: Box::new(prepared.record),
        token: WireToken::new(&prepared.token),
    };
    let (c, resumed, daemon_running) = match control::ask(settings, request).await? {
        Reply::Connected {
            connection,
            resumed,
            daemon_running,
        } => (connection, resumed, daemon_running),
        other => return Err(other.unexpected("Connected")),
    };
    println!(
        "connected group {} ({}) to Frame.io account {} ({}), workspace {} ({}, {}); token {}",
        c.group,
        c.group_name,
        c.account,
        c.account_name,
        c.workspace,
        c.workspace_name,
        if created { "created" } else { "reused" },
        c.token_fingerprint
    );
    if resumed > 0 {
        println!("{resumed} parked entries resumed");
    }
    if !daemon_running {
        println!("the daemon is not running: the connection applies when it starts");
    }
    Ok(ExitCode::SUCCESS)
}

/// Fetches what the gate needs from Workfront (no store: it works the same while the daemon runs)
/// and prints the verdict with the rule that decided it.
async fn check_access(settings: &Settings, user: &str, project: &str, json: bool) -> anyhow::Result<ExitCode> {
    let user = WorkfrontUserId::new(user).context("--user")?;
    let project = WorkfrontProjectId::new(project).context("--project")?;
    let fetcher = AccessFetcher::new(WorkfrontClient::new(&settings.workfront), access::DEFAULT_TTL);
    let (subject, object) = tokio::try_join!(
        fetcher.subject(&user, &settings.workfront.frameio_user_field),
        fetcher.project(&project)
    )?;
    let decision = may_submit_asset(&subject, &object);
    if json {
        let out = serde_json::json!({
            "allowed": decision.allowed,
            "rule": decision.rule,
            "explanation": decision.explanation,
            "user": { "id": subject.user_id, "name": subject.name, "access_level": subject.level.name },
            "project": { "id": object.id, "name": object.name },
        });
        println!("{out}");
    } else {
        let verdict = if decision.allowed { "ALLOWED" } else { "DENIED" };
        println!(
            "{verdict}: {} ({}) sending an asset to {} for review",
            subject.name,
            subject.user_id,
            object.describe()
        );
        println!("{}", decision.explanation);
    }
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn status(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let mut report = control::ask(settings, Request::Status).await?.into_status()?;
    report.link_workfront(&settings.workfront.base_url);
    if json {
        println!("{}", Reply::Status(report).to_json());
    } else {
        print!("{}", report.render_text());
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox(settings: &Settings, command: OutboxCommand) -> anyhow::Result<ExitCode> {
    let (request, json) = match command {
        OutboxCommand::List { json } => (Request::OutboxList, json),
        OutboxCommand::Retry { id } => (Request::OutboxRetry { id }, false),
        OutboxCommand::Drop { id } => (Request::OutboxDrop { id }, false),
    };
    let is_list = request == Request::OutboxList;
    let reply = control::ask(settings, request).await?;
    if is_list {
        let mut entries = reply.into_entries()?;
        for e in &mut entries {
            e.link_workfront(&settings.workfront.base_url);
        }
        if json {
            println!("{}", Reply::Entries(entries).to_json());
            return Ok(ExitCode::SUCCESS);
        }
        if entries.is_empty() {
            println!("the outbox is empty");
        }
        for e in entries {
            print!("{}", e.render_text());
        }
    } else if json {
        println!("{}", reply.to_json());
    } else {
        let e = reply.into_entry()?;
        println!("#{} is now {}: {}", e.id, e.state, e.effect);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `backup` to `path` (0600: it names the organisation's projects and users) through a
/// temporary file, so a cut leaves the old file or the new one, never half of one.
fn write_backup(path: &std::path::Path, backup: &crate::store::backup::Backup) -> anyhow::Result<()> {
    use std::io::Write;
    crate::durable::write_private(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut out, backup)?;
        out.flush()
    })?;
    Ok(())
}

/// Loads a backup into the (empty) state dir; the daemon must be stopped.
fn restore(settings: &Settings, from: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read(from).with_context(|| format!("cannot read the backup {}", from.display()))?;
    let backup: crate::store::backup::Backup =
        serde_json::from_slice(&text).with_context(|| format!("{} is not a readable backup", from.display()))?;
    let store = Store::open(&settings.state.dir).map_err(|err| match err {
        crate::store::StoreError::Locked { .. } => anyhow::anyhow!(
            "the state dir {} is in use: stop the daemon (systemctl stop frameio-sync) before restoring",
            settings.state.dir.display()
        ),
        err => err.into(),
    })?;
    let c = store.import(&backup).with_context(|| {
        format!(
            "cannot restore {} into {}",
            from.display(),
            settings.state.dir.display()
        )
    })?;
    println!(
        "restored {} mirrors, {} collaborator records, {} connections and {} outbox entries into {}",
        c.mirrors,
        c.collaborators,
        c.connections,
        c.outbox,
        settings.state.dir.display()
    );
    if c.connections > 0 {
        println!("tokens are not in a backup: run `frameio-sync connect-group` again for each connection (see `frameio-sync connections`)");
    }
    Ok(ExitCode::SUCCESS)
}

fn load(path: &std::path::Path) -> anyhow::Result<Settings> {
    Ok(config::load(path)?)
}

async fn run_daemon(
    settings: Settings,
    shutdown: CancellationToken,
    resync_rx: mpsc::Receiver<()>,
) -> anyhow::Result<ExitCode> {
    for warning in &settings.warnings {
        tracing::warn!(config = %settings.source.display(), "{warning}");
    }
    let store = Store::open_patiently(&settings.state.dir, crate::store::LOCK_PATIENCE).await?;
    let http = match &settings.http {
        Some(http) => Some(
            tokio::net::TcpListener::bind(http.listen)
                .await
                .with_context(|| format!("cannot listen on {} (http.listen)", http.listen))?,
        ),
        None => None,
    };
    crate::daemon::run(settings, store, http, resync_rx, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (systemd's stop) and SIGINT stop the daemon; SIGHUP (systemd's reload) asks for a full
/// resync. A resync asked for while one is queued is merged into it.
fn spawn_signal_handlers(shutdown: CancellationToken, resync: mpsc::Sender<()>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => {
                    let _ = resync.try_send(());
                }
            }
        }
        shutdown.cancel();
    });
    Ok(())
}
