use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;
use crate::snapshot::Snapshot;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-file-added",
    group: super::GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a PyPI release the monitor saw before gained a file",
    doc: r#"A release that already existed at the last poll has a file it did not have (a new
wheel for another platform, or a late sdist).

**Why it matters.** A PyPI release is not immutable: anyone who can upload to the project can
add a wheel to an old, trusted version, and installers pick the most specific wheel, so machines
of that platform install the new file under a version everybody has reviewed. Maintainers do add
wheels for new Python versions late: check who uploaded it and when. A lockfile with hashes
(`uv.lock`, `pip-compile --generate-hashes`) refuses the new file."#,
};

pub(crate) fn check(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    let mut out = Vec::new();
    for (version, files) in &new.files {
        let Some(before) = old.files.get(version) else {
            continue; // a new release: monitor-new-version
        };
        let added: Vec<&str> = files.difference(before).map(String::as_str).collect();
        if added.is_empty() {
            continue;
        }
        out.push(Event::new(
            &RULE,
            &new.name,
            Some(version),
            format!(
                "{} {version} gained {}: {}",
                new.name,
                if added.len() == 1 { "a file" } else { "files" },
                super::list(&added)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::compare;
    use crate::event::tests::{codes, snap, watch};

    #[test]
    fn fires_when_an_old_release_gains_a_file_not_for_a_new_release() {
        let mut old = snap(&[("1.0", None, false)]);
        old.files
            .insert("1.0".into(), ["a-1.0.tar.gz".to_string()].into());
        let mut new = old.clone();
        new.files
            .get_mut("1.0")
            .unwrap()
            .insert("a-1.0-py3-none-any.whl".into());
        let e = compare(&old, &new, &watch());
        assert_eq!(codes(&e), ["monitor-file-added"]);
        assert!(e[0].message.contains("a-1.0-py3-none-any.whl"));

        let mut release = old.clone();
        release
            .versions
            .insert("1.1".into(), crate::Release::default());
        release
            .files
            .insert("1.1".into(), ["a-1.1.tar.gz".to_string()].into());
        assert!(!codes(&compare(&old, &release, &watch())).contains(&"monitor-file-added"));
    }
}
