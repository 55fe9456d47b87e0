//! The binary, driven as an admin would: config errors, `status`, `outbox`, signals, the lock.

use crate::helpers::{wait_until, TestApp};
use frameio_sync::demo::write_sandbox_config;
use frameio_sync_sandbox::{Limits, Sandbox, World};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_frameio-sync"));
    command.env_remove("FRAMEIO_SYNC_CONFIG").env_remove("RUST_LOG");
    command
}

pub fn cli(config: &Path, args: &[&str]) -> Output {
    binary().arg("--config").arg(config).args(args).output().unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A daemon running as a child process. Dropping it kills the process, so a failing test never
/// leaves one behind (an orphan holding the test's output pipe would hang the test run); when the
/// test is failing, the tail of the daemon's log is printed to help find out why.
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    /// Starts `run` with `RUST_LOG=<level>`, logging to `<config dir>/daemon.log`.
    pub fn start(config: &Path, level: &str, extra_env: &[(&str, &str)]) -> Self {
        let log = config.with_file_name("daemon.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut command = binary();
        command.arg("--config").arg(config).arg("run").env("RUST_LOG", level);
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Self {
            child: Some(child),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    pub fn signal(&self, name: &str) {
        signal(self.child.as_ref().expect("the daemon is running"), name);
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to end by itself (after a signal).
    pub async fn wait(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the daemon is running");
        tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("daemon log, newest first:\n{}", tail.join("\n"));
        }
    }
}

/// Starts `run` as a child process at `info` level.
pub fn spawn_daemon(config: &Path) -> Daemon {
    Daemon::start(config, "info", &[])
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_bad_config_exits_non_zero_with_one_line_naming_key_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(dir.path().join("key"), "super-secret-key").unwrap();
    std::fs::write(
        &config,
        "[workfront]\nbase_url = \"https://x.my.workfront.com\"\napi_key_file = \"key\"\npol_interval = \"1s\"\n",
    )
    .unwrap();
    let out = cli(&config, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("pol_interval") && stderr.contains(config.to_str().unwrap()),
        "{stderr}"
    );

    std::fs::write(
        &config,
        "[workfront]\nbase_url = \"https://x.my.workfront.com\"\napi_key_file = \"missing-key\"\n",
    )
    .unwrap();
    let out = cli(&config, &["run"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("workfront.api_key_file") && stderr.contains("missing-key"),
        "{stderr}"
    );
}

#[test]
fn the_config_path_comes_from_the_environment_when_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .env("FRAMEIO_SYNC_CONFIG", dir.path().join("nope.toml"))
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
}

#[tokio::test]
async fn status_and_outbox_commands_work_on_a_stopped_daemons_store() {
    let mut world = World::generated(3);
    // Frame.io refuses an empty name with 422: a permanent failure, kept as a dead letter.
    world.workfront.projects[0].name = " ".into();
    let mut app = TestApp::spawn(world, Limits::unlimited()).await;
    app.wait_for_mirrors(2).await;
    let store = app.store().clone();
    wait_until("a dead letter", Duration::from_secs(10), || {
        store.outbox_counts().unwrap().dead == 1
    })
    .await;
    drop(store);
    app.stop().await;
    let config = app.config_path.clone();
    drop(app.take_store());

    let status = json_of(&cli(&config, &["status", "--json"]));
    assert_eq!(status["daemon_running"], false);
    assert_eq!(status["mirrors"], 2);
    assert_eq!(status["outbox"]["dead"], 1);
    assert!(
        status["attention"][0]["reason"].as_str().unwrap().contains("422"),
        "{status}"
    );
    assert!(!status.to_string().contains(crate::helpers::FIO_TOKEN));

    let text = String::from_utf8(cli(&config, &["status"]).stdout).unwrap();
    assert!(text.contains("mirrors:    2") && text.contains("1 dead"), "{text}");

    // The dead letter keeps what was sent, what came back, and when.
    let list = json_of(&cli(&config, &["outbox", "list", "--json"]));
    let id = list[0]["id"].as_u64().unwrap();
    assert_eq!(list[0]["state"], "dead");
    assert!(list[0]["dead_at"].is_u64(), "{list}");
    let exchange = &list[0]["exchange"];
    assert_eq!(exchange["status"], 422, "{list}");
    let request = exchange["request"].as_str().unwrap();
    assert!(
        request.starts_with("POST /v4/accounts/") && request.contains(r#""name":" ""#),
        "{request}"
    );
    assert!(exchange["response"].as_str().unwrap().contains("name"), "{list}");
    let listed = String::from_utf8(cli(&config, &["outbox", "list"]).stdout).unwrap();
    assert!(
        listed.contains(&format!("#{id} dead"))
            && listed.contains("request: POST /v4/accounts/")
            && listed.contains("response: HTTP 422"),
        "{listed}"
    );
    assert!(!listed.contains(crate::helpers::FIO_TOKEN));

    let retried = cli(&config, &["outbox", "retry", &id.to_string()]);
    assert!(String::from_utf8_lossy(&retried.stdout).contains("is now pending"));
    let dropped = cli(&config, &["outbox", "drop", &id.to_string()]);
    assert!(dropped.status.success());
    let missing = cli(&config, &["outbox", "drop", &id.to_string()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains(&format!("outbox entry {id} does not exist")));
    assert_eq!(json_of(&cli(&config, &["status", "--json"]))["outbox"]["dead"], 0);
}

#[tokio::test]
async fn a_running_daemon_answers_status_resyncs_on_sighup_stops_on_sigterm_and_holds_its_lock() {
    let sandbox = Sandbox::start(World::generated(5), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let daemon = spawn_daemon(&config);

    let status = || json_of(&cli(&config, &["status", "--json"]));
    wait_until("5 mirrors via the control socket", Duration::from_secs(30), || {
        let s = status();
        s["daemon_running"] == true && s["mirrors"] == 5
    })
    .await;
    let socket = dir.path().join("state").join("control.sock");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);

    let second = cli(&config, &["run"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another process"));

    let seq = status()["last_sync"]["seq"].as_u64().unwrap();
    sandbox.upsert_workfront_project("5d00000000000000000000000000new1", "After SIGHUP");
    daemon.signal("HUP");
    wait_until("the resync", Duration::from_secs(30), || {
        let s = status();
        s["last_sync"]["seq"].as_u64().unwrap() > seq && s["mirrors"] == 6
    })
    .await;

    daemon.signal("TERM");
    let exit = daemon.wait().await;
    assert!(exit.success(), "{exit:?}");
    assert!(!socket.exists(), "the socket is removed on a clean stop");
    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert!(
        log.contains("full resync requested") && log.contains("stopped"),
        "{log}"
    );
    assert!(!log.contains(&sandbox.world().frameio.token) && !log.contains(&sandbox.world().workfront.api_key));
}

/// Whether process `pid` catches signal `number` (its handler is installed): /proc's `SigCgt`.
fn catches(pid: u32, number: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (number - 1)) != 0)
}

/// A reload (SIGHUP, whose default action ends a process) sent while the daemon still waits for
/// its state dir is kept for it: the handlers are installed before anything else.
#[tokio::test]
async fn a_sighup_before_the_daemon_is_up_does_not_kill_it() {
    let sandbox = Sandbox::start(World::generated(1), Limits::unlimited()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    // Hold the state dir: the daemon waits for it (up to store::LOCK_PATIENCE) before it starts.
    let held = frameio_sync::store::Store::open(&dir.path().join("state")).unwrap();
    let daemon = spawn_daemon(&config);
    let pid = daemon.pid();
    wait_until("the SIGHUP handler", Duration::from_secs(3), || catches(pid, 1)).await;
    daemon.signal("HUP");
    drop(held);
    let status = || json_of(&cli(&config, &["status", "--json"]));
    wait_until("the daemon up, with its mirror", Duration::from_secs(30), || {
        let s = status();
        s["daemon_running"] == true && s["mirrors"] == 1
    })
    .await;
    daemon.signal("TERM");
    assert!(daemon.wait().await.success());
}

/// `backup` while the daemon runs, a lost state dir, `restore` into a new one: the next start
/// creates nothing and removes no one. A restore refuses a state dir in use or not empty.
#[tokio::test]
async fn a_backup_restored_into_a_wiped_state_dir_creates_nothing_again() {
    let sandbox = Sandbox::start(World::generated(3), Limits::unlimited()).await.unwrap();
    let account = sandbox.world().default_target().0.to_owned();
    sandbox.upsert_workfront_user("alice", "alice@example.test", true, true);
    sandbox.add_frameio_account_user(&account, "fio-alice", "alice@example.test");
    let project = sandbox.world().workfront.projects[0].id.clone();
    sandbox.set_team(&project, &["alice"]);
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox, "1h").unwrap();
    let status = || json_of(&cli(&config, &["status", "--json"]));
    let daemon = spawn_daemon(&config);
    wait_until("3 mirrors and alice added", Duration::from_secs(30), || {
        let s = status();
        s["mirrors"] == 3 && s["collaborators"] == 1 && s["outbox"]["pending"] == 0
    })
    .await;

    let file = dir.path().join("state.backup");
    let backup = cli(&config, &["backup", "--to", file.to_str().unwrap()]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let in_use = cli(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert_eq!(in_use.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&in_use.stderr).contains("stop the daemon"));

    daemon.signal("TERM");
    assert!(daemon.wait().await.success());
    std::fs::remove_dir_all(dir.path().join("state")).unwrap();
    let restored = cli(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(String::from_utf8_lossy(&restored.stdout).contains("restored 3 mirrors, 1 collaborator records"));
    let again = cli(&config, &["restore", "--from", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty state dir"));

    let before = sandbox.counts();
    let daemon = spawn_daemon(&config);
    wait_until("a full sync over the restored state", Duration::from_secs(30), || {
        let s = status();
        s["daemon_running"] == true && s["last_sync"]["seq"].as_u64().is_some() && s["outbox"]["pending"] == 0
    })
    .await;
    let after = sandbox.counts();
    assert_eq!(after.frameio_creates, before.frameio_creates, "no mirror created again");
    assert_eq!(after.frameio_user_patches, before.frameio_user_patches);
    assert_eq!(after.frameio_user_deletes, 0);
    assert_eq!(status()["mirrors"], 3);
    daemon.signal("TERM");
    assert!(daemon.wait().await.success());
}

/// `demo` runs the whole job on the sandbox, the review loop included: a file sent, its document
/// and approval in Workfront, the decisions on the Frame.io files, a second version; then the
/// one-way folder: a brief and a storyboard arriving, and a new version stacking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_mirrors_and_the_review_loop_end_to_end() {
    let out = tokio::task::spawn_blocking(|| binary().arg("demo").output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for part in [
        "24 mirrors",
        "Sent to Workfront project Spring Campaign 2027",
        "approval asked of demo-approver (approver) on behalf of demo-editor",
        "\"Workfront review\" = Approved; comment: Workfront review: Approved by Olga Owner",
        "\"Workfront review\" = Needs work; comment: Workfront review: Needs work by Olga Owner",
        "now has versions v1 frameio-file:demo-cut-1 (3145728 bytes), v2 frameio-file:demo-cut-2 (3145728 bytes)",
        "\"Brief.pdf\" is in \"From Workfront\" (58 bytes",
        "\"Storyboard.pdf\" is in \"From Workfront\" (2097152 bytes",
        "a version stack in \"From Workfront\", oldest first: Storyboard.pdf, Storyboard v2.pdf",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

/// The manual page and the completion scripts come from the commands themselves: every command is
/// in them, and they need no configuration (packaging runs them on the build machine).
#[test]
fn man_and_completions_cover_every_command_without_a_configuration() {
    use clap::CommandFactory;
    let commands: Vec<String> = frameio_sync::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(
        commands.len() >= 19 && commands.iter().any(|c| c == "register-webhooks"),
        "{commands:?}"
    );
    let man = binary()
        .args(["--config", "/nonexistent.toml", "man"])
        .output()
        .unwrap();
    assert!(man.status.success(), "{}", String::from_utf8_lossy(&man.stderr));
    let page = String::from_utf8_lossy(&man.stdout).into_owned();
    assert!(page.contains(".TH frameio-sync 1"), "{page}");
    for command in &commands {
        assert!(
            page.contains(&format!("frameio\\-sync\\-{}(1)", command.replace('-', "\\-"))),
            "{command} not in the page"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let pages = binary().arg("man").arg("--dir").arg(dir.path()).output().unwrap();
    assert!(pages.status.success(), "{}", String::from_utf8_lossy(&pages.stderr));
    for command in &commands {
        let page = dir.path().join(format!("frameio-sync-{command}.1"));
        assert!(page.is_file(), "no {}", page.display());
    }
    for (shell, registers) in [
        ("bash", "complete -F _frameio__sync"),
        ("zsh", "#compdef frameio-sync"),
        ("fish", "complete -c frameio-sync"),
    ] {
        let out = binary().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(script.contains(registers), "{shell}: {script}");
        assert!(
            script.contains("register-webhooks") && script.contains("check-access"),
            "{shell}"
        );
    }
    let unknown = binary().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("tcsh"));
}
