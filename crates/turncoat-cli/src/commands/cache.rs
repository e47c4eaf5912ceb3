//! `turncoat cache dir|clean`.

use anyhow::Context as _;
use clap::Subcommand;

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache directory.
    Dir,
    /// Remove everything turncoat cached.
    Clean,
}

pub fn run(cmd: CacheCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    let cache = super::cache(ctx)?;
    match cmd {
        CacheCommand::Dir => {
            crate::output::emit(&format!("{}\n", cache.dir().display()), None)?;
            if let Ok(stats) = cache.stats() {
                crate::output::note(
                    ctx,
                    &format!(
                        "{} files, {:.1} MB",
                        stats.total_files(),
                        stats.total_bytes() as f64 / 1e6
                    ),
                );
            }
        }
        CacheCommand::Clean => {
            let removed = cache
                .clean()
                .with_context(|| format!("cannot clean {}", cache.dir().display()))?;
            crate::output::note(
                ctx,
                &format!(
                    "removed {} files ({:.1} MB) from {}",
                    removed.total_files(),
                    removed.total_bytes() as f64 / 1e6,
                    cache.dir().display()
                ),
            );
        }
    }
    Ok(Outcome::Pass)
}
