use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("wf-key"), "wf-secret-value\n").unwrap();
        std::fs::write(dir.path().join("fio-token"), "fio-u-secret-value\n").unwrap();
        Self { dir }
    }

    fn parse(&self, text: &str) -> Result<Settings, ConfigError> {
        parse(&self.dir.path().join("config.toml"), text)
    }
}

const GOOD: &str = r#"
[workfront]
base_url = "https://acme.my.workfront.com"
api_key_file = "wf-key"
poll_interval = "30s"

[frameio.default]
token_file = "fio-token"
account_id = "acc-1"
workspace_id = "ws-1"

[state]
dir = "state"
"#;

#[test]
fn a_complete_file_is_read_with_defaults_filled_in() {
    let fx = Fixture::new();
    let s = fx.parse(GOOD).unwrap();
    assert_eq!(s.workfront.api_version, "v21.0");
    assert_eq!(s.workfront.poll_interval, Duration::from_secs(30));
    assert_eq!(s.workfront.frameio_user_field, "DE:Add to projects in Frame.io");
    assert!(matches!(&s.workfront.auth, WorkfrontAuth::ApiKey(k) if k.expose() == "wf-secret-value"));
    let default = s.frameio.default.unwrap();
    assert!(matches!(&default.credential, FrameioCredential::DeveloperToken(t) if t.expose() == "fio-u-secret-value"));
    assert_eq!(default.account_id.as_str(), "acc-1");
    assert_eq!(s.frameio.base_url.as_str(), "https://api.frame.io/");
    assert_eq!(s.state.dir, fx.dir.path().join("state"));
    assert!(s.http.is_none());
}

#[test]
fn debug_output_holds_no_secret() {
    let fx = Fixture::new();
    let s = fx.parse(GOOD).unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains("secret-value"), "{debug}");
}

#[track_caller]
fn check_error(text: &str, key: &str, message_part: &str) {
    let fx = Fixture::new();
    let err = fx.parse(text).unwrap_err();
    assert_eq!(err.key, key, "{err}");
    assert!(err.message.contains(message_part), "{err}");
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(!line.contains("secret-value"), "{line}");
}

#[test]
fn unknown_keys_are_named_with_their_section() {
    check_error(
        &GOOD.replace("poll_interval", "pol_interval"),
        "[workfront] line 5",
        "unknown field `pol_interval`",
    );
    check_error(
        &format!("{GOOD}\n[extra]\nx = 1\n"),
        "[extra] line 15",
        "unknown field `extra`",
    );
}

#[test]
fn bad_values_name_their_key() {
    check_error(
        &GOOD.replace("\"30s\"", "\"30\""),
        "workfront.poll_interval",
        "not a duration",
    );
    check_error(&GOOD.replace("https://acme", "acme"), "workfront.base_url", "not a URL");
    check_error(
        &GOOD
            .replace("[state]", "[workfront.x]\n[state]")
            .replace("poll_interval = \"30s\"", ""),
        "[workfront.x] line 12",
        "unknown field `x`",
    );
    check_error(
        &GOOD.replace("\"acc-1\"", "\"a/b\""),
        "frameio.default.account_id",
        "Frame.io account id",
    );
    check_error(
        &GOOD.replace("[workfront]", "[workfront]\napi_version = \"21\""),
        "workfront.api_version",
        "v21.0",
    );
    check_error(
        &GOOD.replace("[workfront]", "[workfront]\npage_size = 5000"),
        "workfront.page_size",
        "2000",
    );
}

#[test]
fn missing_secret_files_name_key_and_path() {
    check_error(
        &GOOD.replace("\"wf-key\"", "\"nope\""),
        "workfront.api_key_file",
        "nope: cannot read",
    );
    check_error(
        &GOOD.replace("token_file = \"fio-token\"", ""),
        "frameio.default.token_file",
        "is required",
    );
}

#[test]
fn secret_files_that_are_not_one_plain_value_stop_the_start_naming_key_and_path() {
    let fx = Fixture::new();
    std::fs::write(fx.dir.path().join("wf-key"), "wf-secret\0value\n").unwrap();
    let err = fx.parse(GOOD).unwrap_err();
    assert_eq!(err.key, "workfront.api_key_file");
    assert!(
        err.message.contains("wf-key: ") && err.message.contains("control character"),
        "{err}"
    );
    assert!(!err.to_string().contains("wf-secret"), "the value stays out: {err}");

    let fx = Fixture::new();
    std::fs::remove_file(fx.dir.path().join("fio-token")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", fx.dir.path().join("fio-token")).unwrap();
    let err = fx.parse(GOOD).unwrap_err();
    assert_eq!(err.key, "frameio.default.token_file");
    assert!(err.message.contains("not a regular file"), "{err}");
}

#[test]
fn server_to_server_credentials_are_read_for_workfront_and_frameio() {
    let fx = Fixture::new();
    let text = GOOD
        .replace(
            "api_key_file = \"wf-key\"",
            "auth = \"adobe_server_to_server\"\nclient_id = \"wf-client\"\nclient_secret_file = \"wf-key\"\nscopes = \"openid,AdobeID\"\nims_org_id = \"ABC@AdobeOrg\"",
        )
        .replace(
            "token_file = \"fio-token\"",
            "auth = \"adobe_server_to_server\"\nclient_id = \"fio-client\"\nclient_secret_file = \"fio-token\"\nscopes = \"openid,AdobeID\"\nims_token_url = \"http://127.0.0.1:9/ims/token/v3\"",
        );
    let s = fx.parse(&text).unwrap();
    match &s.workfront.auth {
        WorkfrontAuth::ServerToServer { credentials, org_id } => {
            assert_eq!(
                (credentials.client_id.as_str(), org_id.as_str()),
                ("wf-client", "ABC@AdobeOrg")
            );
            assert_eq!(credentials.token_url.as_str(), crate::ims::DEFAULT_TOKEN_URL);
            assert_eq!(credentials.client_secret.expose(), "wf-secret-value");
        }
        other => panic!("{other:?}"),
    }
    match &s.frameio.default.as_ref().unwrap().credential {
        FrameioCredential::ServerToServer(ims) => {
            assert_eq!(ims.token_url.as_str(), "http://127.0.0.1:9/ims/token/v3");
            assert_eq!(ims.scopes, "openid,AdobeID");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{s:?}").contains("secret-value"));
    check_error(
        &text.replace("ims_org_id = \"ABC@AdobeOrg\"", ""),
        "workfront.ims_org_id",
        "is required",
    );
    check_error(
        &text.replace("scopes = \"openid,AdobeID\"\nims_token_url", "ims_token_url"),
        "frameio.default.scopes",
        "is required",
    );
    check_error(
        &text.replace("client_secret_file = \"fio-token\"", "client_secret_file = \"nope\""),
        "frameio.default.client_secret_file",
        "nope: cannot read",
    );
}

#[test]
fn log_format_is_text_json_or_an_error() {
    let fx = Fixture::new();
    assert_eq!(fx.parse(GOOD).unwrap().log_format, LogFormat::Text);
    assert_eq!(
        fx.parse(&format!("log_format = \"json\"\n{GOOD}")).unwrap().log_format,
        LogFormat::Json
    );
    check_error(
        &format!("log_format = \"xml\"\n{GOOD}"),
        "log_format",
        "\"text\", \"json\"",
    );
}

#[test]
fn http_section_is_validated() {
    let fx = Fixture::new();
    let s = fx
        .parse(&format!(
            "{GOOD}\n[http]\nlisten = \"127.0.0.1:0\"\nworkfront_webhook_token_file = \"wf-key\"\n"
        ))
        .unwrap();
    assert!(s.http.unwrap().workfront_webhook_token.is_some());
    check_error(
        &format!("{GOOD}\n[http]\nlisten = \"localhost\"\n"),
        "http.listen",
        "not an address",
    );
}

#[test]
fn the_listener_limits_have_defaults_and_name_bad_values() {
    let fx = Fixture::new();
    let s = fx
        .parse(&format!("{GOOD}\n[http]\nlisten = \"127.0.0.1:0\"\n"))
        .unwrap();
    let http = s.http.unwrap();
    let limits = http.limits;
    assert_eq!((limits.max_connections, limits.max_requests), (1024, 64));
    assert_eq!(
        (limits.header_timeout, limits.body_timeout),
        (Duration::from_secs(10), Duration::from_secs(30))
    );
    assert_eq!((http.metrics_listen, http.metrics_token.is_none()), (None, true));

    let text = format!(
        "{GOOD}\n[http]\nlisten = \"127.0.0.1:8787\"\nmax_connections = 20\nmax_requests_in_flight = 5\nheader_timeout = \"2s\"\nbody_timeout = \"5s\"\nmetrics_listen = \"127.0.0.1:9100\"\nmetrics_token_file = \"wf-key\"\n"
    );
    let http = fx.parse(&text).unwrap().http.unwrap();
    assert_eq!(http.limits.max_connections, 20);
    assert_eq!(http.limits.max_requests, 5);
    assert_eq!(http.limits.header_timeout, Duration::from_secs(2));
    assert_eq!(http.limits.body_timeout, Duration::from_secs(5));
    assert_eq!(http.metrics_listen, Some("127.0.0.1:9100".parse().unwrap()));
    assert!(http.metrics_token.is_some());

    let section = |line: &str| format!("{GOOD}\n[http]\nlisten = \"127.0.0.1:8787\"\n{line}\n");
    check_error(&section("max_connections = 0"), "http.max_connections", "out of range");
    check_error(
        &section("max_requests_in_flight = 100000"),
        "http.max_requests_in_flight",
        "out of range",
    );
    check_error(
        &section("header_timeout = \"1h\""),
        "http.header_timeout",
        "out of range",
    );
    check_error(&section("body_timeout = \"soon\""), "http.body_timeout", "");
    check_error(
        &section("metrics_listen = \"9100\""),
        "http.metrics_listen",
        "not an address",
    );
    check_error(
        &section("metrics_listen = \"127.0.0.1:8787\""),
        "http.metrics_listen",
        "same address",
    );
    check_error(
        &section("metrics_token_file = \"missing\""),
        "http.metrics_token_file",
        "",
    );
}

#[test]
fn the_collaborators_section_has_defaults_and_names_bad_values() {
    let fx = Fixture::new();
    let s = fx.parse(GOOD).unwrap();
    assert_eq!(s.collaborators.policy, Policy::default());
    assert_eq!(s.collaborators.directory_refresh, Duration::from_secs(600));
    assert_eq!(s.collaborators.missing_user_recheck, Duration::from_secs(60));

    let text = format!(
        "{GOOD}\n[collaborators]\nrole = \"from_access\"\non_deactivate = \"keep\"\nmax_removals = 5\nmax_removal_percent = 50\ndirectory_refresh = \"1m\"\nmissing_user_recheck = \"30s\"\n"
    );
    let s = fx.parse(&text).unwrap();
    assert_eq!(s.collaborators.missing_user_recheck, Duration::from_secs(30));
    let err = fx
        .parse(&format!("{GOOD}\n[collaborators]\nmissing_user_recheck = \"500ms\"\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("collaborators.missing_user_recheck") && err.contains("at least"),
        "{err}"
    );
    assert_eq!(
        s.collaborators.policy,
        Policy {
            role: RoleChoice::FromAccess,
            remove_on_deactivate: false,
            max_removals: 5,
            max_removal_percent: 50,
        }
    );
    let commenter = fx
        .parse(&format!("{GOOD}\n[collaborators]\nrole = \"commenter\"\n"))
        .unwrap();
    assert_eq!(
        commenter.collaborators.policy.role,
        RoleChoice::Fixed(CollaboratorRole::Commenter)
    );

    check_error(
        &format!("{GOOD}\n[collaborators]\nrole = \"owner\"\n"),
        "collaborators.role",
        "\"owner\" is not one of",
    );
    check_error(
        &format!("{GOOD}\n[collaborators]\non_deactivate = \"delete\"\n"),
        "collaborators.on_deactivate",
        "\"delete\"",
    );
    check_error(
        &format!("{GOOD}\n[collaborators]\nmax_removal_percent = 101\n"),
        "collaborators.max_removal_percent",
        "between 0 and 100",
    );
    check_error(
        &format!("{GOOD}\n[collaborators]\nremove = true\n"),
        "[collaborators] line 16",
        "unknown field `remove`",
    );
}

#[test]
fn secret_files_others_may_read_are_named_in_a_warning_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let key = fx.dir.path().join("wf-key");
    let token = fx.dir.path().join("fio-token");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = fx.parse(GOOD).unwrap();
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let warning = &s.warnings[0];
    assert!(
        warning.starts_with("workfront.api_key_file: ")
            && warning.contains("mode 0644")
            && warning.contains(&format!("chmod 600 {}", key.display())),
        "{warning}"
    );
    assert!(!warning.contains("wf-secret-value"));

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(fx.parse(GOOD).unwrap().warnings.is_empty());
}

#[test]
fn the_link_field_is_a_custom_field_name_or_an_error_naming_it() {
    let fx = Fixture::new();
    assert_eq!(fx.parse(GOOD).unwrap().workfront.link_field, None);
    let with = |value: &str| GOOD.replacen("poll_interval", &format!("link_field = {value:?}\npoll_interval"), 1);
    let s = fx.parse(&with("DE:Frame.io project")).unwrap();
    assert_eq!(s.workfront.link_field.as_deref(), Some("DE:Frame.io project"));
    let long = format!("DE:{}", "x".repeat(300));
    for bad in ["Frame.io project", "DE:", "DE:  ", &long] {
        check_error(&with(bad), "workfront.link_field", "DE:");
    }
}

#[test]
fn the_review_section_reads_sizes_and_names_bad_ones() {
    let fx = Fixture::new();
    assert_eq!(fx.parse(GOOD).unwrap().review.max_upload_size, 2 << 30);
    let with = |value: &str| format!("{GOOD}\n[review]\nmax_upload_size = {value:?}\n");
    assert_eq!(fx.parse(&with("500 MiB")).unwrap().review.max_upload_size, 500 << 20);
    assert_eq!(fx.parse(&with("1GB")).unwrap().review.max_upload_size, 1_000_000_000);
    assert_eq!(fx.parse(&with("4GiB")).unwrap().review.max_upload_size, 4 << 30);
    for bad in ["lots", "", "2 parsecs", "0", "2TiB"] {
        check_error(&with(bad), "review.max_upload_size", "");
    }
    check_error(
        &format!("{GOOD}\n[review]\nmax_upload = \"1GiB\"\n"),
        "[review] line 16",
        "max_upload_size",
    );
}

#[test]
fn the_review_section_reads_approvals_and_names_every_bad_value() {
    use super::{ApprovalSystem, Approver, ApproverRole};
    let fx = Fixture::new();
    let defaults = fx.parse(GOOD).unwrap().review;
    assert_eq!(defaults.approvals, ApprovalSystem::None);
    assert_eq!(defaults.approvers, [Approver::Owner]);
    assert_eq!(defaults.approver_role, ApproverRole::Approver);
    assert_eq!(
        defaults.approvals_url.as_str(),
        "https://workfront.adobe.io/workfront-approvals/"
    );
    assert_eq!(
        (defaults.lane.as_str(), defaults.status_field.as_str()),
        ("prod", "Workfront review")
    );
    assert!(!defaults.comments_to_workfront);

    let s2s = GOOD.replace(
        "api_key_file = \"wf-key\"",
        "auth = \"adobe_server_to_server\"\nclient_id = \"wf-client\"\nclient_secret_file = \"wf-key\"\nscopes = \"openid,AdobeID\"\nims_org_id = \"ABC@AdobeOrg\"",
    );
    let review = |base: &str, lines: &str| format!("{base}\n[review]\n{lines}\n");
    let unified = fx
        .parse(&review(
            &s2s,
            "approvals = \"unified\"\napprovers = [\"owner\", \"user:u-1\", \"team:t-1\"]\napprover_role = \"reviewer\"\napprovals_url = \"https://approvals.example.test/base\"\nlane = \"preview\"\nstatus_field = \"Review state\"\ncomments_to_workfront = true",
        ))
        .unwrap()
        .review;
    assert_eq!(unified.approvals, ApprovalSystem::Unified);
    assert_eq!(unified.approvers.len(), 3);
    assert!(matches!(&unified.approvers[2], Approver::Team(t) if t.as_str() == "t-1"));
    assert_eq!(unified.approver_role, ApproverRole::Reviewer);
    assert_eq!(unified.approvals_url.as_str(), "https://approvals.example.test/base/");
    assert_eq!(
        (unified.lane.as_str(), unified.status_field.as_str()),
        ("preview", "Review state")
    );
    assert!(unified.comments_to_workfront);
    let legacy = fx
        .parse(&review(GOOD, "approvals = \"legacy\"\napprovers = [\"user:u-1\"]"))
        .unwrap();
    assert_eq!(legacy.review.approvals, ApprovalSystem::Legacy);

    let cases = [
        (
            GOOD,
            "approvals = \"unified\"",
            "review.approvals",
            "adobe_server_to_server",
        ),
        (GOOD, "approvals = \"sometimes\"", "review.approvals", "\"sometimes\""),
        (GOOD, "approvers = []", "review.approvers", "nobody"),
        (GOOD, "approvers = [\"boss\"]", "review.approvers", "\"boss\""),
        (GOOD, "approvers = [\"user:a/b\"]", "review.approvers", "user:a/b"),
        (
            GOOD,
            "approvals = \"legacy\"\napprovers = [\"team:t-1\"]",
            "review.approvers",
            "users only",
        ),
        (
            GOOD,
            "approvals = \"legacy\"\napprover_role = \"reviewer\"",
            "review.approver_role",
            "unified",
        ),
        (GOOD, "approver_role = \"boss\"", "review.approver_role", "\"boss\""),
        (GOOD, "approvals_url = \"ftp://x\"", "review.approvals_url", "http(s)"),
        (GOOD, "lane = \"prd\"", "review.lane", "\"prd\""),
        (GOOD, "status_field = \"  \"", "review.status_field", "1 to 100"),
    ];
    for (base, lines, key, part) in cases {
        check_error(&review(base, lines), key, part);
    }
}

#[test]
fn the_one_way_folder_is_off_by_default_and_its_values_are_checked() {
    let fx = Fixture::new();
    assert_eq!(fx.parse(GOOD).unwrap().folder, FolderSettings::default());
    let on = fx
        .parse(&format!(
            "{GOOD}\n[folder]\nenabled = true\nname = \"Briefs\"\nstatuses = [\"cur\", \"ONH\"]\ninclude_tasks = true\nmax_file_size = \"1GiB\"\n"
        ))
        .unwrap()
        .folder;
    assert_eq!(
        on,
        FolderSettings {
            enabled: true,
            name: "Briefs".into(),
            statuses: vec!["CUR".into(), "ONH".into()],
            include_tasks: true,
            max_file_size: 1 << 30,
        }
    );
    check_error(
        &format!("{GOOD}\n[folder]\nname = \"a/b\"\n"),
        "folder.name",
        "path separator",
    );
    check_error(&format!("{GOOD}\n[folder]\nname = \" \"\n"), "folder.name", "is empty");
    check_error(
        &format!("{GOOD}\n[folder]\nstatuses = []\n"),
        "folder.statuses",
        "names no status",
    );
    check_error(
        &format!("{GOOD}\n[folder]\nstatuses = [\"Current!\"]\n"),
        "folder.statuses",
        "not a Workfront status code",
    );
    check_error(
        &format!("{GOOD}\n[folder]\nmax_file_size = \"big\"\n"),
        "folder.max_file_size",
        "",
    );
    check_error(
        &format!("{GOOD}\n[folder]\nenable = true\n"),
        "[folder] line 16",
        "unknown field `enable`",
    );
}

#[test]
fn durations_are_read_by_humantime_and_a_bad_one_names_its_key() {
    let fx = Fixture::new();
    let s = fx.parse(&GOOD.replace("\"30s\"", "\"2h 30min\"")).unwrap();
    assert_eq!(s.workfront.poll_interval, Duration::from_secs(9000));
    let http = |line: &str| format!("{GOOD}\n[http]\nlisten = \"127.0.0.1:8787\"\n{line}\n");
    check_error(&http("body_timeout = \"soon\""), "http.body_timeout", "not a duration");
    check_error(
        &http("body_timeout = \"1h\""),
        "http.body_timeout",
        "\"1h\" is out of range",
    );
    check_error(
        &GOOD.replace("poll_interval = \"30s\"", "poll_interval = 30"),
        "workfront.poll_interval",
        "invalid type",
    );
}
