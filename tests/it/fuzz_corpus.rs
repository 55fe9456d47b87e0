//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the same property checks the fuzz
//! targets run (`frameio_sync::fuzz_checks`), on stable Rust and in every test run: an input the
//! fuzzer once found interesting can never start to panic unnoticed.

use frameio_sync::fuzz_checks;
use std::path::Path;

/// A fuzz target's property.
type Check = fn(&[u8]);

fn replay(target: &str, check: Check) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{target}: {} fails its property", path.display());
        }
        n += 1;
    }
    n
}

#[test]
fn every_corpus_input_keeps_its_property() {
    let targets: [(&str, Check); 4] = [
        ("workfront_event", fuzz_checks::workfront_event),
        ("frameio_action", fuzz_checks::frameio_action),
        ("workfront_date", fuzz_checks::workfront_date),
        ("config", fuzz_checks::config_text),
    ];
    for (target, check) in targets {
        assert!(replay(target, check) >= 3, "{target}: the corpus holds its seeds");
    }
}
