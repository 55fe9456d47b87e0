#![no_main]
// The property lives in the library (frameio_sync::fuzz_checks), shared with the corpus replay test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| frameio_sync::fuzz_checks::config_text(data));
