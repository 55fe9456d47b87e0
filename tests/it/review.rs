//! The review loop end to end on the sandbox: a file sent for review asks for the configured
//! approval (Unified Approvals, legacy document approvals, or none), and the decision comes back
//! to the Frame.io file: the "Workfront review" select field and a comment, each once.

use crate::helpers::wait_until;
use crate::submissions::{body_for, deliver, drained, post, register, setup_with, submit, Setup, WAIT};
use frameio_sync::config::{ApprovalSystem, Approver, WorkfrontAuth};
use frameio_sync::ids::WorkfrontUserId;
use frameio_sync::ims::ImsCredentials;
use frameio_sync::secret::Secret;
use frameio_sync::store::SubmissionRecord;
use serde_json::Value;

/// The daemon on the sandbox with `approvals`, Workfront reached with an IMS credential (the
/// sandbox's own token endpoint), the project owned by olga.
async fn review_setup(approvals: ApprovalSystem, approvers: Vec<Approver>) -> Setup {
    review_setup_with(approvals, approvers, |_| {}).await
}

/// [`review_setup`], with `more` changed too.
async fn review_setup_with(
    approvals: ApprovalSystem,
    approvers: Vec<Approver>,
    more: impl FnOnce(&mut frameio_sync::config::Settings),
) -> Setup {
    setup_with(move |settings| {
        use_sandbox_approvals(settings);
        settings.review.approvals = approvals;
        settings.review.approvers = approvers;
        more(settings);
    })
    .await
}

/// Workfront reached with an IMS credential (the sandbox's own token endpoint), and the
/// sandbox's Unified Approvals API.
fn use_sandbox_approvals(settings: &mut frameio_sync::config::Settings) {
    let token_url = settings.workfront.base_url.join("ims/token/v3").unwrap();
    settings.workfront.auth = WorkfrontAuth::ServerToServer {
        credentials: ImsCredentials {
            client_id: "wf-client".into(),
            client_secret: Secret::new("wf-client-secret"),
            scopes: "openid,AdobeID".into(),
            token_url,
        },
        org_id: "ORG@AdobeOrg".into(),
    };
    settings.review.approvals_url = settings.workfront.base_url.join("workfront-approvals/").unwrap();
}

/// Sends `file` as alice (a click, then the form with the project and `message`).
async fn send(s: &Setup, interaction: &str, file: &str, message: &str) {
    let action = s.app.sandbox.frameio_actions()[0].clone();
    let click = body_for(s, &action.id, interaction, "fio-alice", file, "file");
    let (_, form) = post(s, &click, &action.secret, 0).await;
    assert!(form.get("fields").is_some(), "{form}");
    let (status, answer) = submit(s, &click, &action.secret, &format!("PROJ:{}", s.wf_project), message).await;
    assert_eq!(
        (status, answer["title"].as_str()),
        (200, Some("Sent to Workfront")),
        "{answer}"
    );
}

fn submission_of(s: &Setup, file: &str) -> Option<SubmissionRecord> {
    s.app
        .store()
        .submissions()
        .unwrap()
        .into_iter()
        .find(|r| r.file.as_str() == file)
}

async fn wait_for_submission(s: &Setup, file: &str) -> SubmissionRecord {
    let store = s.app.store().clone();
    let file = file.to_owned();
    wait_until("the submission record", WAIT, || {
        store.submissions().unwrap().iter().any(|r| r.file.as_str() == file)
    })
    .await;
    submission_of(s, &file).unwrap()
}

/// Polls (a resync) until the file's field shows `state`, then waits for the outbox to drain.
async fn shows(s: &Setup, file: &str, state: &str) {
    for _ in 0..20 {
        s.app.resync_and_wait().await;
        drained(&s.app).await;
        if field(s, file) == Some(vec![state.to_owned()]) {
            return;
        }
    }
    panic!("{file} never showed {state:?}; it shows {:?}", field(s, file));
}

fn field(s: &Setup, file: &str) -> Option<Vec<String>> {
    s.app.sandbox.frameio_field_value(&s.account, file, "Workfront review")
}

fn comments(s: &Setup, file: &str) -> Vec<String> {
    s.app
        .sandbox
        .frameio_comments(file)
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unified_approval_is_asked_for_and_each_decision_reaches_the_frameio_file_once() {
    let bob = WorkfrontUserId::new("bob").unwrap();
    let s = review_setup(ApprovalSystem::Unified, vec![Approver::Owner, Approver::User(bob)]).await;
    s.app.sandbox.set_workfront_project_owner(&s.wf_project, "olga");
    register(&s.app).await;
    let probe = s.app.store().approvals_probe().unwrap().unwrap();
    assert_eq!(probe.system, ApprovalSystem::Unified);

    send(&s, "interaction-1", "file-1", "Please approve the grade").await;
    let record = wait_for_submission(&s, "file-1").await;
    drained(&s.app).await;
    let sandbox = &s.app.sandbox;
    let approval = sandbox
        .workfront_unified_approval(record.version.as_str())
        .expect("an approval");
    let stage = &approval["stages"][0];
    assert_eq!(stage["customMessage"], "Please approve the grade");
    let participants: Vec<(&str, &str, &str)> = stage["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["participantId"].as_str().unwrap(),
                p["participantType"].as_str().unwrap(),
                p["participantRole"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        participants,
        [("olga", "USER", "approver"), ("bob", "USER", "approver")]
    );
    // Made on the sender's behalf, with the tenant's headers.
    let headers = sandbox.unified_approval_headers();
    let create = headers
        .iter()
        .find(|h| h["wf-userid"] == "alice")
        .expect("a request acting as alice");
    assert_eq!(
        (
            create["x-api-key"].as_str(),
            create["wf-customerid"].as_str(),
            create["wf-lane"].as_str()
        ),
        ("wf-client", frameio_sync_sandbox::CUSTOMER_ID, "prod")
    );
    assert_eq!(approval["creatorId"], "alice");

    // Open: the file shows "In review"; the field was made once, with every option.
    shows(&s, "file-1", "In review").await;
    let fields = sandbox.frameio_fields(&s.account);
    assert_eq!(fields.len(), 1);
    let options: Vec<&str> = fields[0]["field_configuration"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        [
            "Sent",
            "In review",
            "Approved",
            "Approved with changes",
            "Needs work",
            "Withdrawn"
        ]
    );
    assert!(comments(&s, "file-1").is_empty(), "no comment before a decision");
    // `status` says which approval system was found, and lists the file in flight.
    let config = s.app.config_path.clone();
    let out = tokio::task::spawn_blocking(move || crate::cli::cli(&config, &["status"]))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("approvals:  unified (Unified Approvals API answers at"),
        "{text}"
    );
    assert!(text.contains("sent for review: 1 files (1 In review)"), "{text}");
    assert!(text.contains("\"Hero cut v3.mov\" to Workfront project"), "{text}");

    // Olga approves: the field says so, and one comment says who and links the document.
    sandbox.decide_unified(record.version.as_str(), "olga", "Olga Owner", "approved");
    shows(&s, "file-1", "Approved").await;
    let said = comments(&s, "file-1");
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("Workfront review: Approved by Olga Owner on "),
        "{said:?}"
    );
    assert!(said[0].contains(&format!("/document/{}", record.document)), "{said:?}");
    let comment = &sandbox.frameio_comments("file-1")[0];
    let link = &comment["links"][0];
    assert!(
        link["url"].as_str().unwrap().ends_with(record.document.as_str()),
        "{comment}"
    );
    // Polls after the decision change nothing: no second comment, no second value write.
    let writes = sandbox.frameio_value_writes();
    s.app.resync_and_wait().await;
    s.app.resync_and_wait().await;
    drained(&s.app).await;
    assert_eq!(
        (comments(&s, "file-1").len(), sandbox.frameio_value_writes()),
        (1, writes)
    );

    // A second file: bob asks for changes, which outranks an approval.
    send(&s, "interaction-2", "file-2", "").await;
    let second = wait_for_submission(&s, "file-2").await;
    drained(&s.app).await;
    assert!(
        sandbox.workfront_unified_approval(second.version.as_str()).unwrap()["stages"][0]
            .get("customMessage")
            .is_none_or(Value::is_null)
    );
    sandbox.decide_unified(second.version.as_str(), "olga", "Olga Owner", "approved");
    sandbox.decide_unified(second.version.as_str(), "bob", "Bob Editor", "needs work");
    shows(&s, "file-2", "Needs work").await;
    let said = comments(&s, "file-2");
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("Needs work by Bob Editor"), "{said:?}");
    let record = submission_of(&s, "file-2").unwrap();
    assert_eq!(record.decision.unwrap().by, "Bob Editor");
    // The first file still shows its own decision.
    assert_eq!(field(&s, "file-1"), Some(vec!["Approved".to_owned()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_document_approvals_are_asked_for_and_a_rejection_comes_back_with_its_note() {
    let bob = WorkfrontUserId::new("bob").unwrap();
    let s = review_setup(ApprovalSystem::Legacy, vec![Approver::User(bob)]).await;
    register(&s.app).await;
    send(&s, "interaction-1", "file-1", "").await;
    let record = wait_for_submission(&s, "file-1").await;
    drained(&s.app).await;
    let sandbox = &s.app.sandbox;
    let approvals = sandbox.workfront_legacy_approvals();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0]["documentID"], record.document.as_str());
    assert_eq!(
        (approvals[0]["approverID"].as_str(), approvals[0]["notified"].as_bool()),
        (Some("bob"), Some(true))
    );
    shows(&s, "file-1", "In review").await;
    sandbox.decide_legacy(approvals[0]["ID"].as_str().unwrap(), "REJ", "The colour is off");
    shows(&s, "file-1", "Needs work").await;
    let said = comments(&s, "file-1");
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("Needs work") && said[0].contains("\"The colour is off\""),
        "{said:?}"
    );
    // Sent again (another click): nothing new is asked.
    send(&s, "interaction-2", "file-1", "").await;
    drained(&s.app).await;
    assert_eq!(sandbox.workfront_legacy_approvals().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_approvals_the_file_shows_sent_and_a_field_of_that_name_that_is_no_select_parks_saying_so() {
    let s = setup_with(|_| {}).await;
    register(&s.app).await;
    let action = s.app.sandbox.frameio_actions()[0].clone();
    for (interaction, file) in [("interaction-1", "file-1"), ("interaction-2", "file-2")] {
        let click = body_for(&s, &action.id, interaction, "fio-alice", file, "file");
        assert_eq!(
            deliver(&s, &click, &action.secret, 0).await.1["title"],
            "Sent to Workfront"
        );
        wait_for_submission(&s, file).await;
    }
    // A file deleted in Frame.io before its state is shown does not hold up the other, and is
    // not tried again.
    s.app.sandbox.remove_frameio_file("file-2");
    shows(&s, "file-1", "Sent").await;
    let writes = s.app.sandbox.frameio_value_writes();
    s.app.resync_and_wait().await;
    drained(&s.app).await;
    assert_eq!(s.app.sandbox.frameio_value_writes(), writes);
    let counts = s.app.store().outbox_counts().unwrap();
    assert_eq!((counts.parked, counts.dead), (0, 0));
    assert!(s.app.sandbox.workfront_legacy_approvals().is_empty());
    assert_eq!(
        s.app.store().approvals_probe().unwrap().unwrap().system,
        ApprovalSystem::None
    );

    // In another account whose admin made a text field of that name: parked, naming the field.
    let other = setup_with(|_| {}).await;
    other
        .app
        .sandbox
        .add_frameio_field(&other.account, "Workfront review", "text", &[]);
    register(&other.app).await;
    let action = other.app.sandbox.frameio_actions()[0].clone();
    let click = body_for(&other, &action.id, "interaction-1", "fio-alice", "file-1", "file");
    deliver(&other, &click, &action.secret, 0).await;
    wait_for_submission(&other, "file-1").await;
    other.app.resync_and_wait().await;
    let store = other.app.store().clone();
    wait_until("the show parked", WAIT, || store.outbox_counts().unwrap().parked == 1).await;
    let reason = store
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find_map(|e| match e.state {
            frameio_sync::store::EntryState::Parked { reason, .. } => Some(reason),
            _ => None,
        })
        .unwrap();
    assert!(
        reason.contains("\"Workfront review\"") && reason.contains("not a select"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_system_the_tenant_lacks_stops_the_start_with_the_key_named() {
    for (approvals, unified, legacy) in [
        (ApprovalSystem::Unified, false, true),
        (ApprovalSystem::Legacy, true, false),
    ] {
        let mut app = crate::helpers::TestApp::prepare(
            frameio_sync_sandbox::World::generated(1),
            frameio_sync_sandbox::Limits::unlimited(),
        )
        .await;
        use_sandbox_approvals(&mut app.settings);
        app.settings.review.approvals = approvals;
        app.sandbox.set_approval_systems(unified, legacy);
        app.start();
        let err = format!("{:#}", app.exited().await.unwrap_err());
        let key = format!("review.approvals = \"{}\"", approvals.as_str());
        assert!(err.contains(&key) && err.contains("start-up check"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_made_in_frameio_on_a_file_under_review_are_copied_to_its_document_once() {
    let s = setup_with(|settings| settings.review.comments_to_workfront = true).await;
    register(&s.app).await;
    // The webhook that tells of new comments: created once, then kept.
    let config = s.app.config_path.clone();
    let run = |config: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            crate::cli::cli(&config, &["register-webhooks", "--url", "https://sync.example.test"])
        })
    };
    let first = run(config.clone()).await.unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("created"));
    let again = String::from_utf8_lossy(&run(config).await.unwrap().stdout).into_owned();
    assert!(again.contains("kept") && again.contains("comment.created"), "{again}");
    let hooks = s.app.sandbox.frameio_webhooks();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["url"], "https://sync.example.test/frameio/webhooks");

    send(&s, "interaction-1", "file-1", "").await;
    let record = wait_for_submission(&s, "file-1").await;
    let sandbox = &s.app.sandbox;
    sandbox.add_frameio_comment("file-1", "Ann Client", "Make the logo bigger", Some("00:00:02:12"));
    sandbox.add_frameio_comment("file-1", "Bo Producer", "Love the music", None);
    // Our own decision comments are never copied back.
    sandbox.add_frameio_comment(
        "file-1",
        "frameio-sync",
        "Workfront review: Approved [workfront-review:x:approved]",
        None,
    );

    // Frame.io's webhook: a bad signature is refused; a good one wakes the copy.
    let delivery = serde_json::json!({
        "type": "comment.created", "account": { "id": s.account }, "workspace": { "id": s.workspace },
        "project": { "id": s.mirror }, "resource": { "id": "comment-file-1-1", "type": "comment" },
        "user": { "id": "someone" }
    })
    .to_string();
    let post_hook = |secret: String| {
        let body = delivery.clone();
        let url = format!("{}/frameio/webhooks", s.app.http_url());
        async move {
            let ts = (frameio_sync::timestamp::Timestamp::now().millis() / 1000).to_string();
            let signature = frameio_sync::frameio::actions::sign(&Secret::new(secret), &ts, body.as_bytes());
            reqwest::Client::new()
                .post(url)
                .header("x-frameio-request-timestamp", ts)
                .header("x-frameio-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post_hook("not-the-secret".into()).await, 401);
    assert_eq!(post_hook(hooks[0]["secret"].as_str().unwrap().to_owned()).await, 200);
    let notes_on_document = || {
        sandbox
            .workfront_notes()
            .into_iter()
            .filter(|n| n["noteObjCode"] == "DOCU" && n["objID"] == record.document.as_str())
            .map(|n| n["noteText"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    wait_until("the comments on the document", WAIT, || notes_on_document().len() == 2).await;
    let notes = notes_on_document();
    assert!(
        notes.iter().any(|n| n.starts_with("Frame.io comment by Ann Client at 00:00:02:12 on \"Hero cut v3.mov\": Make the logo bigger [frameio-comment:")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("Frame.io comment by Bo Producer on")),
        "{notes:#?}"
    );
    // Polls and redeliveries copy nothing twice; a later comment is copied by the poll alone.
    s.app.resync_and_wait().await;
    assert_eq!(post_hook(hooks[0]["secret"].as_str().unwrap().to_owned()).await, 200);
    sandbox.add_frameio_comment("file-1", "Ann Client", "And the end card", None);
    s.app.resync_and_wait().await;
    drained(&s.app).await;
    s.app.resync_and_wait().await;
    drained(&s.app).await;
    assert_eq!(notes_on_document().len(), 3, "{:#?}", notes_on_document());
    assert_eq!(submission_of(&s, "file-1").unwrap().copied_comments.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workfront_approval_event_brings_the_decision_without_waiting_for_a_poll() {
    // Polls an hour apart: only the event can bring the decision back soon.
    let s = review_setup_with(ApprovalSystem::Unified, vec![Approver::Owner], |settings| {
        settings.workfront.poll_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    assert!(frameio_sync::subscribe::wanted(&s.app.settings).contains(&("approval", "UPDATE")));
    s.app.sandbox.set_workfront_project_owner(&s.wf_project, "olga");
    register(&s.app).await;
    send(&s, "interaction-1", "file-1", "").await;
    let record = wait_for_submission(&s, "file-1").await;
    let sandbox = &s.app.sandbox;
    wait_until("the approval", WAIT, || {
        sandbox.workfront_unified_approval(record.version.as_str()).is_some()
    })
    .await;
    sandbox.decide_unified(record.version.as_str(), "olga", "Olga Owner", "approved");
    let event = serde_json::json!({
        "eventType": "UPDATE", "subscriptionId": "sub-approval", "eventTime": { "epochSecond": 1_800_000_000 },
        "newState": { "objCode": "approval", "ID": "approval-1", "objID": record.version.as_str(), "status": "approved" },
        "oldState": { "objCode": "approval", "ID": "approval-1", "status": "pending review" }
    });
    let port = s.app.http_url().rsplit(':').next().unwrap().parse().unwrap();
    let status = crate::helpers::deliver_event(port, "unused-webhook-token", event.to_string()).await;
    assert_eq!(status, Some(200));
    wait_until("the decision in Frame.io", WAIT, || {
        field(&s, "file-1") == Some(vec!["Approved".to_owned()]) && comments(&s, "file-1").len() == 1
    })
    .await;
    // The hint is not an event to record: the inbox stays empty.
    assert_eq!(s.app.store().inbox_len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_approver_on_a_project_without_owner_parks_the_request_saying_so() {
    let s = review_setup(ApprovalSystem::Unified, vec![Approver::Owner]).await;
    register(&s.app).await;
    send(&s, "interaction-1", "file-1", "").await;
    let store = s.app.store().clone();
    wait_until("the request parked", WAIT, || {
        store.outbox_counts().unwrap().parked == 1
    })
    .await;
    let reason = store
        .outbox_entries()
        .unwrap()
        .into_iter()
        .find_map(|e| match e.state {
            frameio_sync::store::EntryState::Parked { reason, .. } => Some(reason),
            _ => None,
        })
        .unwrap();
    assert!(
        reason.contains("has no owner") && reason.contains(&s.wf_project),
        "{reason}"
    );
    let version = wait_for_submission(&s, "file-1").await.version;
    assert!(s.app.sandbox.workfront_unified_approval(version.as_str()).is_none());
}
