//! The `clef` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    clef_server::init_tracing();
    let cli = clef_server::cli::Cli::parse();
    match clef_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
