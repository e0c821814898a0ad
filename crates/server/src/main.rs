//! The `clef` binary.

use std::time::Duration;

/// After the command returns, blocking work still under way (a library scan, say) is given
/// this long before the process exits without it.
const BLOCKING_GRACE: Duration = Duration::from_secs(2);

/// A server answers many small requests from many threads: jemalloc keeps their allocations
/// apart instead of contending in the system allocator, and gives memory back as the system one
/// does (`bench/subsonic.sh` and `bench/library.sh` measure both).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = clef_server::cli::Cli::parse_checked();
    clef_server::init_tracing(cli.default_log());
    // Panics are logged like everything else, with the secrets in their messages taken out.
    clef_server::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(clef_server::cli::run(cli));
    runtime.shutdown_timeout(BLOCKING_GRACE);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
