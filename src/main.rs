use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    portcullis::cli::run().await
}
