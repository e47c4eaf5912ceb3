//! `turncoat explain <code>`: print a rule's documentation.
#![allow(clippy::print_stdout)]

use clap::Args;

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The finding code, e.g. new-install-script.
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its default level and summary.
    #[arg(long)]
    pub list: bool,
}

pub fn run(args: ExplainArgs, _ctx: &Context) -> anyhow::Result<Outcome> {
    let rules = turncoat_gate::all_rules();
    if args.list {
        let width = rules.iter().map(|r| r.code.len()).max().unwrap_or(0);
        let mut out = String::new();
        for r in &rules {
            out.push_str(&format!(
                "{:width$}  {:5}  {:8}  {}\n",
                r.code,
                r.default_level.as_str(),
                r.severity.as_str(),
                r.summary
            ));
        }
        crate::output::emit(&out, None)?;
        return Ok(Outcome::Pass);
    }
    let code = args.code.unwrap_or_default();
    let Some(rule) = rules.iter().find(|r| r.code == code) else {
        let close: Vec<&str> = rules
            .iter()
            .map(|r| r.code)
            .filter(|c| {
                c.contains(code.as_str()) || code.split('-').any(|w| w.len() > 3 && c.contains(w))
            })
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            "run `turncoat explain --list` for every code".to_string()
        } else {
            format!("did you mean: {}?", close.join(", "))
        };
        anyhow::bail!("unknown finding code {code:?}; {hint}");
    };
    let text = format!(
        "# {}\n\n{}\n\nGroup: {}. Severity: {}. Default level: {}.\n\n{}\n",
        rule.code,
        rule.summary,
        rule.group,
        rule.severity,
        rule.default_level,
        rule.doc.trim_end()
    );
    crate::output::emit(&text, None)?;
    Ok(Outcome::Pass)
}
