//! Golden tests: one project using every manager, compiled; each edited file's text is a
//! snapshot (format kept: comments, order, quoting), and compiling the result again changes
//! nothing (the edits are a fixed point).

use turncoat_managers::{Exclude, Manager, Project, Script, Wanted, compile};

fn project() -> Project {
    let mut p = Project::default();
    let files: &[(&str, &str)] = &[
        (
            "package.json",
            "{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"allowScripts\": {\n    \"old-native@1.0.0\": true,\n    \"telemetry\": false\n  },\n  \"dependenciesMeta\": {\n    \"fsevents\": { \"optional\": true }\n  },\n  \"devDependencies\": { \"esbuild\": \"0.25.0\" }\n}\n",
        ),
        ("package-lock.json", "{\"lockfileVersion\": 3}\n"),
        (
            ".npmrc",
            "# registry settings\nregistry=https://registry.npmjs.org/\nmin-release-age=1\n",
        ),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        (
            "pnpm-workspace.yaml",
            "# the monorepo\npackages:\n  - 'apps/*'\n\nminimumReleaseAge: 60 # one hour\nonlyBuiltDependencies:\n  - old-native\n",
        ),
        ("yarn.lock", "__metadata:\n  version: 8\n"),
        (
            ".yarnrc.yml",
            "nodeLinker: node-modules # keep\nenableScripts: true\n",
        ),
        ("bun.lock", "{}\n"),
        ("bunfig.toml", "# bun\n[install]\nexact = true\n"),
        ("uv.lock", "version = 1\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"svc\"\n\n[tool.uv]\ndev-dependencies = []\n",
        ),
        ("requirements.txt", "requests==2.32.3\n"),
        (
            "renovate.json",
            "{\n  // shared preset\n  \"extends\": [\"config:recommended\"],\n  \"packageRules\": [\n    { \"matchPackageNames\": [\"react\"], \"groupName\": \"react\" }\n  ]\n}\n",
        ),
        (
            ".github/dependabot.yml",
            "version: 2\nupdates:\n  - package-ecosystem: npm # app\n    directory: /\n    schedule:\n      interval: daily\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 1\n      semver-major-days: 14\n",
        ),
    ];
    for (k, v) in files {
        p.files.insert((*k).to_string(), (*v).to_string());
    }
    p
}

fn wanted() -> Wanted {
    Wanted {
        cooldown_secs: 3 * 86_400,
        excludes: vec![
            Exclude {
                name: "@acme/*".into(),
                version: None,
            },
            Exclude {
                name: "left-pad".into(),
                version: Some("1.3.1".into()),
            },
            Exclude {
                name: "internal-lib".into(),
                version: None,
            },
        ],
        scripts: vec![
            Script {
                name: "esbuild".into(),
                version: "0.25.0".into(),
            },
            Script {
                name: "sharp".into(),
                version: "0.33.5".into(),
            },
        ],
    }
}

#[test]
fn every_manager_is_written_and_formatting_is_kept() {
    let p = project();
    let plan = compile(&wanted(), &p).unwrap();
    assert_eq!(
        plan.managers,
        [
            Manager::Npm,
            Manager::Pnpm,
            Manager::Yarn,
            Manager::Bun,
            Manager::Uv,
            Manager::Pip,
            Manager::Renovate,
            Manager::Dependabot
        ]
    );
    for edit in &plan.edits {
        insta::assert_snapshot!(edit.path.replace(['/', '.'], "_"), edit.after);
    }
    let changes: Vec<String> = plan
        .drift()
        .map(|(e, c)| {
            format!(
                "{} {} {}: {:?} -> {}",
                e.path,
                c.manager.as_str(),
                c.key,
                c.from,
                c.to
            )
        })
        .collect();
    insta::assert_snapshot!("changes", changes.join("\n"));
    let notes: Vec<String> = plan
        .notes
        .iter()
        .map(|n| {
            format!(
                "[{}] {} {}: {}",
                n.code,
                n.manager.as_str(),
                n.path,
                n.message
            )
        })
        .collect();
    insta::assert_snapshot!("notes", notes.join("\n"));
}

#[test]
fn compiling_the_result_again_changes_nothing() {
    let mut p = project();
    let plan = compile(&wanted(), &p).unwrap();
    for e in plan.edits {
        p.files.insert(e.path, e.after);
    }
    let again = compile(&wanted(), &p).unwrap();
    let left: Vec<_> = again
        .drift()
        .map(|(e, c)| format!("{} {}", e.path, c.key))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_same_values_in_every_manager() {
    let p = project();
    let plan = compile(&wanted(), &p).unwrap();
    let text = |path: &str| {
        plan.edits
            .iter()
            .find(|e| e.path == path)
            .map(|e| e.after.clone())
            .unwrap()
    };
    // Three days, in each manager's unit.
    assert!(text(".npmrc").contains("min-release-age=3\n"));
    assert!(text("pnpm-workspace.yaml").contains("minimumReleaseAge: 4320"));
    assert!(text(".yarnrc.yml").contains("npmMinimalAgeGate: 3d"));
    assert!(text("bunfig.toml").contains("minimumReleaseAge = 259200"));
    assert!(text("pyproject.toml").contains("exclude-newer = \"P3D\""));
    assert!(text("pip.conf").contains("uploaded-prior-to=P3D"));
    assert!(text("renovate.json").contains("\"minimumReleaseAge\": \"3 days\""));
    let dependabot: serde_json::Value =
        serde_json::to_value(yaml_value(&text(".github/dependabot.yml"))).unwrap();
    for u in dependabot["updates"].as_array().unwrap() {
        assert_eq!(u["cooldown"]["default-days"], 3);
    }
    // A longer per-semver cooldown the user chose is kept.
    assert_eq!(
        dependabot["updates"][1]["cooldown"]["semver-major-days"],
        14
    );
    // Approvals: the policy's, pinned; the user's denial kept; the stale approval dropped.
    let pkg: serde_json::Value = serde_json::from_str(&text("package.json")).unwrap();
    assert_eq!(
        pkg["allowScripts"],
        serde_json::json!({"telemetry": false, "esbuild@0.25.0": true, "sharp@0.33.5": true})
    );
    assert_eq!(pkg["dependenciesMeta"]["esbuild@0.25.0"]["built"], true);
    assert_eq!(pkg["dependenciesMeta"]["fsevents"]["optional"], true);
    assert_eq!(
        pkg["trustedDependencies"],
        serde_json::json!(["esbuild", "sharp"])
    );
}

fn yaml_value(text: &str) -> serde_json::Value {
    // The crate's own reader is private; parse through serde_json's view of YAML via yaml_serde.
    yaml_serde::from_str(text).unwrap()
}

#[test]
fn hostile_settings_files_are_errors_not_panics() {
    for (path, text) in [
        ("package.json", "[1]"),
        ("package.json", "{\"a\":"),
        ("pnpm-workspace.yaml", "a: &x 1\nb: *x\n"),
        ("pnpm-workspace.yaml", "- just\n- a list\n"),
        ("bunfig.toml", "install = 1\n"),
        (".github/dependabot.yml", "updates: [\n"),
    ] {
        let mut p = project();
        p.files.insert(path.into(), text.into());
        let r = compile(&wanted(), &p);
        assert!(r.is_err(), "{path}: {text:?} gave {r:?}");
    }
}
