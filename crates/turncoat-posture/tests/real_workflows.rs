//! Real public workflows (tests/fixtures/real, sources in its README.md): every file parses,
//! and the findings with their lines and chains are pinned by an insta snapshot per repository
//! (review changes with `cargo insta review` or `INSTA_UPDATE=always` and a diff).

use std::path::Path;

use turncoat_finding::Level;
use turncoat_posture::report::{Report, human};
use turncoat_posture::yaml::Limits;

fn default_level(code: &str) -> Level {
    turncoat_posture::rules()
        .iter()
        .find(|r| r.code == code)
        .map(|r| r.default_level)
        .unwrap_or(Level::Deny)
}

#[test]
fn real_workflows_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "{} repositories", dirs.len());
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (repo, skipped) = turncoat_posture::load_repo(&dir, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(skipped.is_empty(), "{name}");
        assert!(!repo.workflows.is_empty(), "{name}");
        // Every fixture is listed with its source.
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} not in README.md"
        );
        let findings = turncoat_posture::audit(&repo);
        let report = Report::new(&name, &repo, Vec::new(), findings, default_level);
        insta::assert_snapshot!(name.clone(), human(&report, true));
    }
}
