//! The `clef` binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = clef_server::cli::Cli::parse_checked();
    clef_server::init_tracing(cli.default_log());
    match clef_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
