//! Settings shared by every command: colours, cache, progress, the current time.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::{ColorChoice, GlobalArgs};

pub struct Context {
    pub color_stdout: bool,
    pub color_stderr: bool,
    pub cache_dir: Option<PathBuf>,
    /// Progress bars only when stderr is a terminal and not `--quiet`.
    pub progress: bool,
    /// `--quiet`: no progress notes on stderr either.
    pub quiet: bool,
}

impl Context {
    pub fn new(g: &GlobalArgs) -> Context {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let pick = |tty: bool| match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Context {
            color_stdout: pick(std::io::stdout().is_terminal()),
            color_stderr: pick(std::io::stderr().is_terminal()),
            cache_dir: g.cache_dir.clone(),
            progress: !g.quiet && std::io::stderr().is_terminal(),
            quiet: g.quiet,
        }
    }

    /// Seconds since the Unix epoch; `TURNCOAT_NOW` (Unix seconds or RFC 3339 date) pins it for
    /// reproducible runs and snapshot tests.
    pub fn now_unix(&self) -> i64 {
        if let Ok(v) = std::env::var("TURNCOAT_NOW") {
            if let Ok(n) = v.parse::<i64>() {
                return n;
            }
            if let Some(t) = turncoat_analyze::metadata::parse_rfc3339(&v) {
                return t;
            }
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}
