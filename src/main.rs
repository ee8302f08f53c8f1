use std::process::ExitCode;

use clap::Parser;
use flagwatch::app::{App, shutdown_signal};
use flagwatch::config::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let Cli { command, config } = Cli::parse();
    flagwatch::telemetry::init(&config.log_level, config.log_format);
    match command {
        Some(Command::Apply(args)) => {
            Ok(
                flagwatch::declare::command::run(&config.database_url, &args.file, args.dry_run)
                    .await,
            )
        }
        None => {
            let app = App::build(config).await?;
            app.run(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
