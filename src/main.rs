//! The `polycap` binary: a thin layer from flags to library types to output formats.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if cli::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let code = cli::exit_code(&err);
            // One line: anyhow's `{:#}` joins the context chain with ": ".
            let msg = format!("{err:#}").replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
