//! Indexing a plain folder: hostile content is skipped with a reason, never followed out of
//! the folder, and never aborts the rest.

use turncoat_incident::index::{AddOptions, add};
use turncoat_store::{Location, Query, Store};

const LOCK: &str = r#"{"name": "app", "lockfileVersion": 3, "packages": {
  "": {"name": "app", "dependencies": {"evil": "^1.0.0"}},
  "node_modules/evil": {"version": "1.0.0", "integrity": "sha512-ZXZpbA==", "hasInstallScript": true}
}}"#;

#[test]
fn folders_skip_symlinks_node_modules_and_broken_lockfiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("proj");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    std::fs::write(root.join("a/package-lock.json"), LOCK).unwrap();
    std::fs::write(root.join("b/yarn.lock"), "not a lockfile at all\n").unwrap();
    std::fs::write(root.join("node_modules/x/package-lock.json"), LOCK).unwrap();
    // A symlink out of the folder, to a lockfile that would otherwise be indexed.
    std::fs::write(dir.path().join("outside/package-lock.json"), LOCK).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), root.join("link")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("outside/package-lock.json"),
        root.join("package-lock.json"),
    )
    .unwrap();

    let mut store = Store::open(&Location::Sqlite(dir.path().join("s.sqlite")), 1).unwrap();
    let opts = AddOptions {
        refs: &[],
        now: 1,
        progress: &|_| {},
    };
    let r = add(&mut store, &root, &opts).unwrap();
    assert_eq!(r.lockfiles_written, 1, "{r:?}");
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    assert!(r.skipped[0].starts_with("b/yarn.lock"), "{r:?}");
    let hits = store
        .who_has(&Query::Versions {
            name: "evil".into(),
            versions: vec!["1.0.0".into()],
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].lockfile, "a/package-lock.json");
    assert_eq!(hits[0].dep_path, "app > evil");
    assert_eq!(hits[0].install_script, Some(true));
    // Unchanged: nothing rewritten.
    let again = add(&mut store, &root, &opts).unwrap();
    assert_eq!((again.refs_indexed, again.refs_unchanged), (0, 1));
}
