//! Failpoints: named places where a crash test can stop the daemon in the narrowest windows —
//! after Frame.io carried out a request and before the outbox knows, or after an event is on
//! disk and before its sender is answered. Built only with the `failpoints` feature; without
//! it, [`hit`] is an empty inline function and the release binary has none.
//!
//! With the feature, `FRAMEIO_SYNC_FAILPOINT=<name>@<n>` freezes the process at the `n`th time
//! it reaches `<name>` (the first when `@<n>` is left out): the thread that reached it writes
//! the name to the file `FRAMEIO_SYNC_FAILPOINT_MARK` names, then sleeps, so the test sees the
//! mark and sends SIGKILL with the request done and its result not yet recorded.

/// After a Frame.io project create succeeded, before the mirror is recorded.
pub const AFTER_CREATE: &str = "after_create";
/// After a collaborator PATCH succeeded, before the collaborator is recorded.
pub const AFTER_COLLABORATOR_ADD: &str = "after_collaborator_add";
/// After a mirror rename PATCH succeeded, before the new name is recorded.
pub const AFTER_RENAME: &str = "after_rename";
/// After a link field PUT succeeded, before the link is recorded.
pub const AFTER_LINK: &str = "after_link";
/// After a review file was uploaded to Workfront, before its document is created.
pub const AFTER_UPLOAD: &str = "after_upload";
/// After a review document was created in Workfront, before the entry is settled.
pub const AFTER_DOCUMENT: &str = "after_document";
/// After a new version of a review document was added, before it is checked and settled.
pub const AFTER_DOCUMENT_VERSION: &str = "after_document_version";
/// After an approval was requested in Workfront, before the entry is settled.
pub const AFTER_APPROVAL: &str = "after_approval";
/// After the review state was shown on Frame.io files (field and comments), before it is recorded.
pub const AFTER_SHOW_REVIEW: &str = "after_show_review";
/// After a Frame.io comment was copied to Workfront as a note, before it is recorded.
pub const AFTER_COMMENT_COPY: &str = "after_comment_copy";
/// After a one-way folder file was created for upload (`local_upload`), before its part
/// addresses are recorded.
pub const AFTER_LOCAL_UPLOAD: &str = "after_local_upload";
/// After a one-way folder file's parts were sent, before it is checked and recorded.
pub const AFTER_PARTS: &str = "after_parts";
/// After a one-way folder file was stacked on its document's previous version, before it is
/// recorded.
pub const AFTER_STACK: &str = "after_stack";
/// After an event batch is recorded and flushed, before its senders are answered.
pub const BEFORE_EVENT_ACK: &str = "before_event_ack";

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}

#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);
    let armed = ARMED.get_or_init(|| {
        let spec = std::env::var("FRAMEIO_SYNC_FAILPOINT").ok()?;
        let (point, nth) = match spec.split_once('@') {
            Some((point, nth)) => (point.to_owned(), nth.parse().ok()?),
            None => (spec, 1),
        };
        Some((point, nth))
    });
    let Some((point, nth)) = armed else { return };
    if point != name || HITS.fetch_add(1, Ordering::SeqCst) + 1 != *nth {
        return;
    }
    if let Ok(mark) = std::env::var("FRAMEIO_SYNC_FAILPOINT_MARK") {
        let _ = std::fs::write(mark, name);
    }
    eprintln!("failpoint {name} reached; frozen until killed");
    loop {
        std::thread::park();
    }
}
