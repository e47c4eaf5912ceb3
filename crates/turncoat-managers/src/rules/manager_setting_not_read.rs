use turncoat_finding::{Level, RuleDoc, Severity};

pub const RULE: RuleDoc = RuleDoc {
    code: "manager-setting-not-read",
    group: super::GROUP,
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "a setting was written where the tool reads it only when told to",
    doc: r#"pip reads no configuration file from the project on its own: the `pip.conf` that
`turncoat policy compile` writes (`[install] uploaded-prior-to`) is read only when
`PIP_CONFIG_FILE=pip.conf` is exported in CI and in developers' shells.

**How to fix.** Export `PIP_CONFIG_FILE` where pip runs, or move to uv, which reads
`exclude-newer` from `uv.toml` / `pyproject.toml` itself."#,
};

#[cfg(test)]
mod tests {
    use crate::{Project, Wanted, compile};

    #[test]
    fn fires_for_pip_and_not_for_uv() {
        let w = Wanted {
            cooldown_secs: 86_400,
            excludes: vec![],
            scripts: vec![],
        };
        let codes = |file: &str| {
            let mut p = Project::default();
            p.files.insert(file.into(), "x\n".into());
            compile(&w, &p)
                .unwrap()
                .notes
                .into_iter()
                .map(|n| n.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("requirements.txt"), ["manager-setting-not-read"]);
        assert!(codes("uv.lock").is_empty());
    }
}
