//! The binary: parse the command line, run the command (which sets up logging), report any error on one
//! line with its whole cause chain. Exit codes: 0 success, 2 error (and clap's 2 for usage).

use clap::Parser;
use frameio_sync::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// glibc gives threads that allocate at once arenas of their own (up to eight per core). A sync
/// allocates in a burst on whichever runtime thread runs it, so with several arenas each keeps a
/// burst's freed pages, and the process's peak is several bursts, not one: at 10,000 projects,
/// 152 MiB with glibc's default against 76 MiB with one arena (`cargo bench --bench scale`).
/// The daemon makes few allocations a second, so one arena costs it nothing measurable. An admin's
/// `MALLOC_ARENA_MAX` wins. Called before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes a malloc tunable; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
