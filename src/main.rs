use clap::Parser;
use flagwatch::app::{App, shutdown_signal};
use flagwatch::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    flagwatch::telemetry::init(&config.log_level, config.log_format);
    let app = App::build(config).await?;
    app.run(shutdown_signal()).await
}
