//! Writing results: stdout or `--output FILE`, and error messages on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::ValueEnum;
use turncoat_report::Report;

use crate::settings::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Sarif,
    Markdown,
}

/// Print `text` to `output` (a file) or stdout.
pub fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a stack of messages.
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e).context("cannot write to stdout");
            }
        }
    }
    Ok(())
}

/// Render a gate report in `format`.
pub fn render_report(
    report: &Report,
    format: ReportFormat,
    ctx: &Context,
    to_file: bool,
    verbose: bool,
) -> String {
    match format {
        ReportFormat::Human => turncoat_report::human::render(
            report,
            &turncoat_report::human::HumanOptions {
                color: ctx.color_stdout && !to_file,
                verbose,
            },
        ),
        ReportFormat::Json => turncoat_report::json::render(report),
        ReportFormat::Sarif => turncoat_report::sarif::render(report, &turncoat_gate::all_rules()),
        ReportFormat::Markdown => turncoat_report::markdown::render(report),
    }
}

/// A short note on stderr (progress-like information, never results).
pub fn note(ctx: &Context, msg: &str) {
    if ctx.color_stderr {
        eprintln!("\x1b[2m{msg}\x1b[0m");
    } else {
        eprintln!("{msg}");
    }
}

/// `error: <message>` with its causes, on stderr.
pub fn error(ctx: &Context, err: &anyhow::Error) {
    let prefix = if ctx.color_stderr {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{prefix}: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
