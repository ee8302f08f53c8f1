//! `flagwatch apply FILE`: applies a config file to the database `DATABASE_URL` names (the
//! server need not run; migrations are applied as at start-up), prints what changed and exits.
//!
//! Exit status: 0 when applied (changed or not); 2 when the file cannot be read, is invalid
//! or does not fit the stored state, with nothing written; 1 when the database cannot be
//! reached or a change was refused part way (what was applied before it is printed).

use std::path::Path;
use std::process::ExitCode;

use crate::declare::{Declaration, DeclareError, apply};

const INVALID_FILE: u8 = 2;
const FAILED: u8 = 1;

/// Runs the command; what it prints goes to stdout, errors to stderr.
#[allow(clippy::print_stdout)] // the summary is the command's output
pub async fn run(database_url: &str, file: &Path, dry_run: bool) -> ExitCode {
    let declaration = match Declaration::load(file) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let service = match crate::app::open_service(database_url).await {
        Ok(service) => service,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(FAILED);
        }
    };
    let outcome = apply(&service, &declaration, dry_run).await;
    service.store().close().await;
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let DeclareError::Apply { report, .. } = &e {
                println!("{report}");
            }
            fail(&e)
        }
    }
}

fn fail(e: &DeclareError) -> ExitCode {
    let mut message = format!("error: {e}");
    let mut source = std::error::Error::source(e);
    // The apply error already says its cause in words; others may have a chain.
    if !matches!(e, DeclareError::Apply { .. }) {
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
    }
    eprintln!("{message}");
    ExitCode::from(if e.is_invalid_file() {
        INVALID_FILE
    } else {
        FAILED
    })
}
