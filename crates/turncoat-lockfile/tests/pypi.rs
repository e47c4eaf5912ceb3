//! Python lockfiles: the real files written by uv, poetry, pip-tools, pip, pipenv and pdm
//! (tests/fixtures/pypi, see its README), and the attacker's view of requirements files.

use std::path::{Path, PathBuf};

use turncoat_lockfile::{
    Ecosystem, LintOptions, Lockfile, SourceKind, lint, parse, pep503_normalize, read,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pypi")
        .join(rel)
}

fn load(rel: &str) -> Lockfile {
    read(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Entries as the tool itself counts them, by a line prefix independent of our parser.
fn count_lines(rel: &str, pred: impl Fn(&str) -> bool) -> usize {
    std::fs::read_to_string(fixture(rel))
        .unwrap()
        .lines()
        .filter(|l| pred(l))
        .count()
}

const ALL: &[(&str, &str)] = &[
    ("uv/uv.lock", "uv-lock-v1"),
    ("uv/requirements.txt", "requirements-txt"),
    ("uv/pylock.toml", "pylock-v1"),
    ("poetry/poetry.lock", "poetry-lock-v2"),
    ("pip-tools/requirements.txt", "requirements-txt"),
    ("pip/pylock.toml", "pylock-v1"),
    ("pipenv/Pipfile.lock", "pipfile-lock-v6"),
    ("pdm/pdm.lock", "pdm-lock-v4"),
];

#[test]
fn every_real_lockfile_parses_with_hashes_and_no_findings() {
    for (rel, id) in ALL {
        let l = load(rel);
        assert_eq!(l.format.id(), *id, "{rel}");
        assert_eq!(l.ecosystem, Ecosystem::Pypi, "{rel}");
        assert!(l.by_name("requests").next().is_some(), "{rel}: requests");
        for p in l.registry_packages().filter(|p| !p.version.is_empty()) {
            assert!(p.line > 0, "{rel}: {} has no line", p.name);
            assert_eq!(p.name, pep503_normalize(&p.name), "{rel}");
            assert!(
                p.hashes.iter().any(|h| h.algorithm == "sha256"),
                "{rel}: {} has no sha256",
                p.name
            );
        }
        let f = lint(&l, &[], &LintOptions::default());
        if *rel == "pipenv/Pipfile.lock" {
            // pipenv locks packages whose marker is false here as `"version": "==>=0.4"`,
            // without hashes: a range, not a pin. That is a true finding on real output.
            let codes: Vec<_> = f
                .iter()
                .map(|f| (f.code.as_str(), f.message.as_str()))
                .collect();
            assert_eq!(
                codes,
                [
                    (
                        "unpinned-requirement",
                        "colorama==>=0.4 is not pinned to one version"
                    ),
                    (
                        "unpinned-requirement",
                        "tomli==>=2 is not pinned to one version"
                    )
                ],
                "{rel}"
            );
        } else {
            assert!(f.is_empty(), "{rel}: {f:#?}");
        }
    }
}

#[test]
fn counts_match_the_tools_own_entries() {
    let cases = [
        (
            "uv/uv.lock",
            count_lines("uv/uv.lock", |l| l == "[[package]]"),
        ),
        (
            "uv/pylock.toml",
            count_lines("uv/pylock.toml", |l| l == "[[packages]]"),
        ),
        (
            "pip/pylock.toml",
            count_lines("pip/pylock.toml", |l| l == "[[packages]]"),
        ),
        (
            "poetry/poetry.lock",
            count_lines("poetry/poetry.lock", |l| l == "[[package]]"),
        ),
        (
            "pdm/pdm.lock",
            count_lines("pdm/pdm.lock", |l| l == "[[package]]"),
        ),
        (
            "uv/requirements.txt",
            count_lines("uv/requirements.txt", |l| {
                l.starts_with(|c: char| c.is_ascii_alphanumeric()) || l.starts_with("-e ")
            }),
        ),
        (
            "pip-tools/requirements.txt",
            count_lines("pip-tools/requirements.txt", |l| {
                l.starts_with(|c: char| c.is_ascii_alphanumeric())
            }),
        ),
    ];
    for (rel, want) in cases {
        assert!(want > 0, "{rel}");
        assert_eq!(load(rel).packages.len(), want, "{rel}");
    }
}

#[test]
fn markers_sources_and_file_names_are_kept() {
    let uv = load("uv/uv.lock");
    let tomli = uv.by_name("tomli").next().expect("tomli");
    assert!(tomli.hashes.iter().all(|h| h.file.is_some()));
    assert_eq!(tomli.index.as_deref(), Some("https://pypi.org/simple"));
    let root = uv.by_name("demo-app").next().expect("project itself");
    assert_eq!(root.source, SourceKind::Workspace);

    let ur = load("uv/requirements.txt");
    let colorama = ur.by_name("colorama").next().expect("colorama");
    assert!(
        colorama
            .markers
            .as_deref()
            .is_some_and(|m| m.contains("win32")),
        "{colorama:?}"
    );
    let pt = load("pip-tools/requirements.txt");
    let pysocks = pt.by_name("pysocks").next().expect("PySocks normalised");
    assert_eq!(pysocks.name, "pysocks");

    let pipenv = load("pipenv/Pipfile.lock");
    assert_eq!(pipenv.indexes.len(), 1);
    assert!(
        pipenv
            .registry_packages()
            .filter(|p| !p.version.is_empty())
            .all(|p| p.index.as_deref() == Some("https://pypi.org/simple"))
    );
}

// ------------------------------------------------------------ the attacker's view

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const H: &str = "sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2";

#[test]
fn an_include_outside_the_project_fails_closed() {
    let outside = project(&[("secret.txt", "evil==1.0\n")]);
    let target = outside.path().join("secret.txt");
    for line in [
        format!("-r {}\n", target.display()),
        "-r ../../../../../../../../etc/hostname\n".to_string(),
        "-c ../outside.txt\n".to_string(),
    ] {
        let dir = project(&[("app/requirements.txt", &line)]);
        let e = read(&dir.path().join("app/requirements.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("outside the project") || e.contains("No such file"),
            "{line}: {e}"
        );
    }
}

#[test]
fn a_symlinked_include_cannot_escape() {
    let outside = project(&[("evil.txt", "evil==1.0\n")]);
    let dir = project(&[("requirements.txt", "-r inner.txt\n")]);
    std::os::unix::fs::symlink(
        outside.path().join("evil.txt"),
        dir.path().join("inner.txt"),
    )
    .unwrap();
    let e = read(&dir.path().join("requirements.txt"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the project"), "{e}");
}

#[test]
fn self_and_mutual_includes_are_loops() {
    let dir = project(&[("requirements.txt", "-r ./requirements.txt\na==1\n")]);
    let e = read(&dir.path().join("requirements.txt"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("include loop"), "{e}");
    let dir = project(&[
        ("requirements.txt", "-r sub/b.txt\n"),
        ("sub/b.txt", "-r ../requirements.txt\n"),
    ]);
    let e = read(&dir.path().join("requirements.txt"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("include loop"), "{e}");
}

#[test]
fn includes_inside_the_project_are_followed_and_cited() {
    let dir = project(&[
        (
            "requirements.txt",
            &format!("-r sub/base.txt\nb==2 --hash={H}\n"),
        ),
        (
            "sub/base.txt",
            &format!("\n\nrequests>=2.31\na==1 --hash={H}\n"),
        ),
    ]);
    let l = read(&dir.path().join("requirements.txt")).unwrap();
    assert_eq!(l.packages.len(), 3);
    let f = lint(&l, &[], &LintOptions::default());
    let unpinned = f
        .iter()
        .find(|f| f.code == "unpinned-requirement")
        .expect("the unpinned line is found through the include");
    let ev = &unpinned.evidence[0];
    assert!(ev.path.ends_with("sub/base.txt"), "{ev:?}");
    assert_eq!(ev.line, Some(3));
}

#[test]
fn django_spellings_are_one_project() {
    let text =
        format!("Django==4.2.11 --hash={H}\ndjango==4.2.1 --hash={H}\ndj_ango==1.0 --hash={H}\n");
    let l = parse("requirements.txt", text.as_bytes()).unwrap();
    let names: Vec<_> = l.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["django", "django", "dj-ango"]);
    let f = lint(&l, &[], &LintOptions::default());
    let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["pep503-name-collision"], "{f:#?}");
    assert!(f[0].message.contains("Django, django"));
}

#[test]
fn a_vcs_url_behind_a_name_is_not_an_index_package() {
    let text = format!(
        "requests==2.32.3 --hash={H}\nurllib3 @ git+https://github.com/attacker/urllib3.git@main\n"
    );
    let l = parse("requirements.txt", text.as_bytes()).unwrap();
    let u = l.by_name("urllib3").next().unwrap();
    assert_eq!(u.source, SourceKind::Git);
    let f = lint(&l, &[], &LintOptions::default());
    assert!(
        f.iter()
            .any(|f| f.code == "non-index-source" && f.message.contains("attacker/urllib3")),
        "{f:#?}"
    );
}

#[test]
fn a_hash_line_cut_off_from_its_requirement_fails_closed() {
    // A comment between continuation lines detaches the second hash: pip would reject the
    // file; a lenient reader would credit the hash to no one, or to the next package.
    let text =
        format!("requests==2.32.3 \\\n    --hash={H}\n# the wheel\n    --hash={H}\nurllib3==2.0\n");
    let e = parse("requirements.txt", text.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("applies to no package"), "{e}");
}

#[test]
fn extra_and_foreign_indexes_are_findings() {
    let text = format!(
        "--index-url https://pypi.org.evil.example/simple\n\
         --extra-index-url https://token:s3cret@corp.example/simple\n\
         corp-utils==1.4.0 --hash={H}\n"
    );
    let l = parse("requirements.txt", text.as_bytes()).unwrap();
    let f = lint(&l, &[], &LintOptions::default());
    let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(
        codes,
        ["unallowed-index", "unallowed-index", "extra-index-url"],
        "{f:#?}"
    );
    assert!(
        !format!("{f:?}").contains("s3cret"),
        "the token is never shown"
    );
    let mut opts = LintOptions::default();
    opts.allowed_index_hosts.push("corp.example".into());
    opts.allowed_index_hosts
        .push("pypi.org.evil.example".into());
    let f = lint(&l, &[], &opts);
    let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["extra-index-url"]);
}

#[test]
fn unknown_versions_fail_closed() {
    for (name, text) in [
        ("uv.lock", "version = 2\n"),
        ("poetry.lock", "[metadata]\nlock-version = \"9.0\"\n"),
        ("Pipfile.lock", "{\"_meta\": {\"pipfile-spec\": 5}}"),
        (
            "pylock.toml",
            "lock-version = \"2.0\"\ncreated-by = \"x\"\n",
        ),
        ("pdm.lock", "[metadata]\nlock_version = \"5.0\"\n"),
        ("pdm.lock", ""),
    ] {
        let e = parse(name, text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("unsupported"), "{name}: {e}");
    }
}

#[test]
fn deep_toml_nesting_is_refused() {
    let text = format!(
        "lock-version = \"1.0\"\nx = {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let e = parse("pylock.toml", text.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nesting"), "{e}");
}

#[test]
fn deep_dotted_keys_are_refused_not_a_stack_overflow() {
    // `a.a.a…` nests tables without any bracket, so our bracket count does not see it; the
    // toml parser's own recursion limit must (a recursive drop of 100 000 levels would
    // overflow the stack).
    let key = vec!["a"; 100_000].join(".");
    for text in [
        format!("lock-version = \"1.0\"\n{key} = 1\n"),
        format!("lock-version = \"1.0\"\n[{key}]\n"),
    ] {
        let e = parse("pylock.toml", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("recursion limit"), "{e}");
    }
}
