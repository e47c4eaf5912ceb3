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

    /// Seconds since the Unix epoch: the real clock.
    ///
    /// The clock decides cooldowns and exception expiry, so nothing a run's environment says
    /// may move it in a build users run. Only builds with debug assertions (the test profile
    /// the CLI's integration tests run) honour `TURNCOAT_NOW` (Unix seconds or RFC 3339), so
    /// snapshots stay reproducible; release builds ignore it. The libraries take "now" as an
    /// argument (`GateContext::now_unix`) and never read a clock.
    pub fn now_unix(&self) -> i64 {
        #[cfg(debug_assertions)]
        if let Some(t) = test_clock(std::env::var("TURNCOAT_NOW").ok().as_deref()) {
            return t;
        }
        real_now()
    }
}

fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The test clock: `TURNCOAT_NOW` as Unix seconds or an RFC 3339 time (through `time`).
#[cfg(debug_assertions)]
fn test_clock(v: Option<&str>) -> Option<i64> {
    let v = v?.trim();
    v.parse::<i64>()
        .ok()
        .or_else(|| turncoat_analyze::metadata::parse_rfc3339(v))
}

#[cfg(all(test, debug_assertions))]
mod tests {
    use super::*;

    #[test]
    fn the_test_clock_parses_seconds_and_rfc3339_only() {
        assert_eq!(test_clock(Some("1795737600")), Some(1_795_737_600));
        assert_eq!(
            test_clock(Some("2026-11-27T00:00:00Z")),
            Some(1_795_737_600)
        );
        assert_eq!(test_clock(Some("2027-02-31T00:00:00Z")), None);
        assert_eq!(test_clock(Some("tomorrow")), None);
        assert_eq!(test_clock(None), None);
        assert!(real_now() > 1_795_737_600 - 86_400 * 365);
    }
}
