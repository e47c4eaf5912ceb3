//! `py-entry-point-shadow`: a new console script named like a common command.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-entry-point-shadow",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The release adds a console or GUI script named like a common command (`pip`, `python`, `git`, `ls`, `ssh`, `sudo` …).",
    doc: r#"Entry points become executables in the environment's `bin/`, which comes first on `PATH` in an activated virtualenv, a container or CI. Fires for a `console_scripts`/`gui_scripts` name (or `[project.scripts]` of an sdist) that the previous release did not declare and that is a common command: package managers and interpreters (`pip`, `pip3`, `python`, `python3`, `uv`, `poetry`, `npm`, `node`), version control and network tools (`git`, `ssh`, `scp`, `curl`, `wget`, `gpg`), shells and core utilities (`sh`, `bash`, `ls`, `cat`, `cp`, `mv`, `rm`, `sudo`, `env`, `ps`, `find`, `grep`), cloud CLIs (`aws`, `gcloud`, `az`, `kubectl`, `docker`, `gh`).

**Why it matters.** A script called `pip` or `git` runs every time a developer or a CI step types the command, with their credentials in reach, and it can pass through to the real one so nothing looks wrong.

**How to silence.** A policy exception on `py-entry-point-shadow` for `name@version`."#,
};

const COMMON: &[&str] = &[
    "pip", "pip3", "python", "python3", "py", "uv", "uvx", "poetry", "pipx", "conda", "npm", "npx",
    "node", "git", "ssh", "scp", "sftp", "curl", "wget", "gpg", "sh", "bash", "zsh", "ls", "cat",
    "cp", "mv", "rm", "sudo", "su", "env", "ps", "find", "grep", "sed", "awk", "tar", "make",
    "gcc", "cc", "ld", "aws", "gcloud", "az", "kubectl", "docker", "gh", "twine", "openssl",
    "which", "chmod", "chown",
];

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for (name, target) in &cx.new.entry_points {
        let bare = name.to_ascii_lowercase();
        let bare = bare.strip_suffix(".exe").unwrap_or(&bare);
        if !COMMON.contains(&bare) || cx.old.entry_points.contains_key(name) {
            continue;
        }
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} adds the script `{name}` (→ {target}), which shadows the common command on PATH; {} had no such script",
                    cx.to(),
                    cx.from()
                ),
            )
            .with_evidence(Evidence::new("entry_points.txt").with_snippet(&format!("{name} = {target}"))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const EP: &str = "demo-1.0.dist-info/entry_points.txt";

    #[test]
    fn fires_for_a_new_pip() {
        let old = wheel(&[(EP, "[console_scripts]\ndemo = demo.cli:main\n")]);
        let new = wheel(&[(
            EP,
            "[console_scripts]\ndemo = demo.cli:main\npip = demo._p:main\n",
        )]);
        let f: Vec<_> = run(&old, &new)
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect();
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("`pip`"));
    }

    #[test]
    fn quiet_for_own_names_and_old_scripts() {
        let old = wheel(&[(EP, "[console_scripts]\ngit = gitwrap:main\n")]);
        let new = wheel(&[(
            EP,
            "[console_scripts]\ngit = gitwrap:main\ndemo-tool = demo:main\n",
        )]);
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
    }
}
