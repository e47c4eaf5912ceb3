//! `turncoat evaluate` as a user runs it, against the registry test server on 127.0.0.1 serving
//! npm packuments with maintainers and PyPI's JSON API with ownership roles: the roster
//! reconciled with both, every finding code, the metrics samples and the human table.

#![allow(clippy::print_stderr)]

#[path = "../../turncoat-registry/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use support::{Reply, TestRegistry};

fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .arg("--cache-dir")
        .arg(cwd.join("cache"))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run turncoat")
}

#[track_caller]
fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn npm_doc(server: &TestRegistry, name: &str, maintainers: &[&str]) -> Value {
    let mut doc = support::packument(
        name,
        &server.url(),
        &[("1.0.0", &support::package_tgz(name, "1.0.0"))],
    );
    doc["maintainers"] = maintainers
        .iter()
        .map(|m| json!({"name": m, "email": format!("{m}@example.com")}))
        .collect();
    doc
}

const ROSTER: &str = r#"[[package]]
name = "widget"

[[package]]
name = "solo"

[[package]]
name = "acme-widget"
ecosystem = "pypi"

[[person]]
name = "Alice"
npm = "alice"
pypi = "alice"
mfa = "hardware-key"
password-manager = true
recovery-codes = true

[[person]]
name = "Bob"
npm = "Bob"
mfa = "sms"
password-manager = false

[[person]]
name = "Carol"
npm = "carol"
mfa = "totp"
password-manager = true

[[person]]
name = "Dave"
pypi = "dave"
mfa = "none"
password-manager = true
"#;

/// widget: alice, bob, mallory (undeclared); solo: alice only; acme-widget on PyPI: alice
/// (Owner) and dave (Maintainer), organisation acme. Carol publishes nothing (stale).
fn world() -> (TestRegistry, tempfile::TempDir) {
    let server = TestRegistry::start();
    server.set(
        "/widget",
        Reply::json(&npm_doc(&server, "widget", &["alice", "bob", "mallory"])),
    );
    server.set("/solo", Reply::json(&npm_doc(&server, "solo", &["alice"])));
    server.set(
        "/pypi/acme-widget/json",
        Reply::json(&json!({"info": {"name": "acme-widget"}, "ownership": {
            "roles": [{"role": "Owner", "user": "alice"}, {"role": "Maintainer", "user": "dave"}],
            "organization": "acme"}})),
    );
    let dir = tempfile::tempdir().unwrap();
    (server, dir)
}

#[test]
fn roster_reconciled_with_npm_and_pypi() {
    let (server, dir) = world();
    std::fs::write(dir.path().join("publishers.toml"), ROSTER).unwrap();
    let url = server.url();
    let o = run(
        dir.path(),
        &[
            "evaluate",
            "--registry",
            &url,
            "--pypi-url",
            &url,
            "--format",
            "json",
        ],
    );
    // mallory can publish widget: undeclared-publisher is at deny by default; so is no-mfa.
    assert_code(&o, 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["command"], "evaluate");
    let mut found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let expect = [
        ("no-mfa", "Dave has no second factor on the registries"),
        ("no-password-manager", "Bob does not use a password manager"),
        (
            "single-publisher",
            "npm solo can be published by one account only (`alice`)",
        ),
        ("sms-mfa", "Bob relies on SMS for their second factor"),
        (
            "stale-publisher",
            "Carol (npm user `carol`) can publish none of the roster's npm packages",
        ),
        (
            "undeclared-publisher",
            "npm user `mallory` can publish widget but is not in the roster",
        ),
    ];
    assert_eq!(
        found,
        expect
            .iter()
            .map(|(c, m)| (c.to_string(), m.to_string()))
            .collect::<Vec<_>>()
    );
    // No token: the 2FA-on-publish setting is unknown and raises nothing.
    assert!(
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["publish_requires_2fa"].is_null())
    );
    let pypi = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "acme-widget")
        .unwrap();
    assert_eq!(pypi["publishers"], json!(["alice", "dave"]));
    assert_eq!(pypi["organization"], "acme");
    assert_eq!(pypi["publisher_rows"][1]["person"], "Dave");
    // Metrics: 4 people; Alice alone is phishing-resistant; Bob alone on SMS; 3 of 4 use a
    // password manager; one package with one publisher.
    let n = &v["numbers"];
    assert_eq!(n["phishing_resistant_mfa_pct"], 25.0);
    assert_eq!(n["sms_mfa_pct"], 25.0);
    assert_eq!(n["password_manager_pct"], 75.0);
    assert_eq!(n["single_publisher_packages"], 1);
    let samples: Vec<(&str, f64)> = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["metric"].as_str().unwrap(), s["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        samples,
        [
            ("password-manager-pct", 75.0),
            ("sms-mfa-pct", 25.0),
            ("phishing-resistant-mfa-pct", 25.0),
            ("single-publisher-packages", 1.0)
        ]
    );
    assert!(
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["source"] == "evaluate")
    );
    // The human report: the table of who can publish and the metrics table.
    let o = run(
        dir.path(),
        &["evaluate", "--registry", &url, "--pypi-url", &url],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("widget"), "{text}");
    assert!(text.contains("mallory (undeclared)"), "{text}");
    assert!(text.contains("alice (Alice, hardware-key)"), "{text}");
    assert!(text.contains("[org acme]"), "{text}");
    assert!(text.contains("phishing-resistant-mfa-pct    25%"), "{text}");
    assert!(text.contains("2 deny, 4 warn"), "{text}");
}

#[test]
fn the_publishers_table_of_turncoat_toml_and_the_policy() {
    let (server, dir) = world();
    // The roster inside the policy file; the policy lowers undeclared-publisher and no-mfa.
    let roster = ROSTER
        .replace("[[package]]", "[[publishers.package]]")
        .replace("[[person]]", "[[publishers.person]]");
    std::fs::write(
        dir.path().join("turncoat.toml"),
        format!(
            "[levels]\nundeclared-publisher = \"warn\"\nno-mfa = \"warn\"\n\n[publishers]\n{roster}"
        ),
    )
    .unwrap();
    let url = server.url();
    let o = run(
        dir.path(),
        &["evaluate", "--registry", &url, "--pypi-url", &url],
    );
    assert_code(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("turncoat evaluate turncoat.toml: 3 package(s), 4 person(s)")
    );
}

#[test]
fn roster_errors_name_the_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("publishers.toml"),
        ROSTER.replace("recovery-codes = true", "recovery_codes = true"),
    )
    .unwrap();
    let o = run(dir.path(), &["evaluate", "--offline"]);
    assert_code(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("publishers.toml:17:"), "{err}");
    assert!(err.contains("unknown field `recovery_codes`"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let o = run(empty.path(), &["evaluate"]);
    assert_code(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no roster"));
}

#[test]
fn unreadable_registries_are_reported_not_judged() {
    // Offline with an empty cache: npm packages are not read, PyPI is not consulted; the
    // roster's own facts are still judged, and nothing is called stale on missing data.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("publishers.toml"), ROSTER).unwrap();
    let o = run(dir.path(), &["evaluate", "--offline", "--format", "json"]);
    assert_code(&o, 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for p in v["packages"].as_array().unwrap() {
        assert!(p["error"].is_string(), "{p}");
    }
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        !codes.contains(&"stale-publisher") && !codes.contains(&"single-publisher"),
        "{codes:?}"
    );
    assert!(codes.contains(&"no-mfa") && codes.contains(&"sms-mfa"));
    assert_eq!(v["numbers"]["single_publisher_packages"], 0);
    // A registry (or a mirror) that lists no maintainers does not make a package look safe:
    // who can publish is unknown, and nobody is called stale on it.
    let server = TestRegistry::start();
    server.set("/widget", Reply::json(&npm_doc(&server, "widget", &[])));
    server.set("/solo", Reply::json(&npm_doc(&server, "solo", &["alice"])));
    server.set(
        "/pypi/acme-widget/json",
        Reply::json(&json!({"info": {"name": "acme-widget"}})),
    );
    let url = server.url();
    let o = run(
        dir.path(),
        &[
            "evaluate",
            "--registry",
            &url,
            "--pypi-url",
            &url,
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let widget = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "widget")
        .unwrap();
    assert!(
        widget["error"]
            .as_str()
            .unwrap()
            .contains("lists no publishers"),
        "{widget}"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"stale-publisher"), "{codes:?}");
    // A JSON document about another project (a misrouting mirror, or a poisoned one) lends
    // its owners to nobody: the one PyPI reader refuses it, and the package says why.
    server.set(
        "/pypi/acme-widget/json",
        Reply::json(&json!({"info": {"name": "other-project"}, "ownership": {
            "roles": [{"role": "Owner", "user": "alice"}], "organization": "acme"}})),
    );
    let o = run(
        dir.path(),
        &[
            "evaluate",
            "--registry",
            &url,
            "--pypi-url",
            &url,
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let pypi = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "acme-widget")
        .unwrap();
    assert!(
        pypi["error"]
            .as_str()
            .unwrap_or_default()
            .contains("other-project"),
        "{pypi}"
    );
    assert!(
        pypi["publishers"].as_array().is_none_or(|a| a.is_empty()),
        "{pypi}"
    );
}

#[test]
fn every_evaluate_code_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    for code in [
        "undeclared-publisher",
        "stale-publisher",
        "single-publisher",
        "sms-mfa",
        "no-mfa",
        "publish-2fa-not-required",
        "no-password-manager",
    ] {
        let o = run(dir.path(), &["explain", code]);
        assert_code(&o, 0);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.starts_with(&format!("# {code}\n")), "{code}");
        assert!(text.contains("Group: evaluate."), "{code}: {text}");
    }
}

/// `--lockfile`: a hardened dependency (two publishers, trusted publishing and provenance on
/// its whole line) and a soft one (one publisher, a postinstall script, no provenance).
#[test]
fn the_soft_target_table_of_a_lockfile() {
    let server = TestRegistry::start();
    let url = server.url();
    let recent = |days: i64| {
        let t = time::OffsetDateTime::now_utc() - time::Duration::days(days);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let mut hard = support::packument(
        "hardened",
        &url,
        &[
            ("1.0.0", &support::package_tgz("hardened", "1.0.0")),
            ("1.1.0", &support::package_tgz("hardened", "1.1.0")),
        ],
    );
    let two = json!([{"name": "alice"}, {"name": "bob"}]);
    hard["maintainers"] = two.clone();
    for (v, days) in [("1.0.0", 400), ("1.1.0", 200)] {
        let m = &mut hard["versions"][v];
        m["maintainers"] = two.clone();
        m["_npmUser"]["trustedPublisher"] = json!({"id": "github", "oidcConfigId": "oidc:1"});
        m["dist"]["attestations"] = json!({"url": format!("{url}attestations/hardened@{v}"),
            "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}});
        hard["time"][v] = json!(recent(days));
    }
    server.set("/hardened", Reply::json(&hard));
    let mut soft = support::packument(
        "soft-one",
        &url,
        &[("2.0.0", &support::package_tgz("soft-one", "2.0.0"))],
    );
    soft["versions"]["2.0.0"]["scripts"] = json!({"postinstall": "node setup.js"});
    soft["time"]["2.0.0"] = json!(recent(10));
    server.set("/soft-one", Reply::json(&soft));
    let dir = tempfile::tempdir().unwrap();
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"hardened": "^1.1.0", "soft-one": "^2.0.0"}},
            "node_modules/hardened": {"version": "1.1.0", "resolved": format!("{url}hardened/-/hardened-1.1.0.tgz")},
            "node_modules/soft-one": {"version": "2.0.0", "resolved": format!("{url}soft-one/-/soft-one-2.0.0.tgz"), "hasInstallScript": true},
        }
    });
    std::fs::write(
        dir.path().join("package-lock.json"),
        serde_json::to_vec_pretty(&lock).unwrap(),
    )
    .unwrap();
    let o = run(
        dir.path(),
        &[
            "evaluate",
            "--lockfile",
            "package-lock.json",
            "--registry",
            &url,
            "--format",
            "json",
        ],
    );
    assert_code(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["soft"].as_u64(), v["medium"].as_u64(), v["hard"].as_u64()),
        (Some(1), Some(0), Some(1))
    );
    let rows = v["packages"].as_array().unwrap();
    // Softest first.
    assert_eq!(rows[0]["name"], "soft-one");
    assert_eq!(rows[0]["posture"], "soft");
    assert_eq!(rows[0]["publishers"], 1);
    assert_eq!(rows[0]["install_scripts"], true);
    assert_eq!(
        rows[0]["reasons"][0],
        "a single publisher and no provenance: one stolen account is a release"
    );
    assert_eq!(rows[1]["name"], "hardened");
    assert_eq!(rows[1]["posture"], "hard");
    assert_eq!(rows[1]["trusted_publishing"], true);
    assert_eq!(
        (
            rows[1]["line_versions"].as_u64(),
            rows[1]["line_provenance"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(rows[1]["releases_last_year"], 1);
    assert_eq!(rows[1]["days_since_last_release"], 200);
    let o = run(
        dir.path(),
        &[
            "evaluate",
            "--lockfile",
            "package-lock.json",
            "--registry",
            &url,
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("2 package(s): 1 soft, 0 medium, 1 hard"),
        "{text}"
    );
    assert!(text.contains("soft-one@2.0.0"), "{text}");
}

/// npm's token-only settings, replayed on 127.0.0.1: `GET /-/package/NAME/access` and
/// `/collaborators`, answered only to the bearer token (401 otherwise, as npmjs.org does).
/// Verdaccio does not implement these endpoints and npmjs.org cannot be reached from a test,
/// so the replies are the shapes of the clients' own fixtures: the collaborators object of
/// libnpmaccess `test/index.js` ("ls-collaborators": `{"name": "write" | "read"}`) and the
/// `{access, publish_requires_tfa, automation_token_overrides_tfa}` document pnpm's
/// `access get status` reads (pnpm/pnpm `pnpm11/registry-access/commands/src/access.ts`;
/// the npm CLI only POSTs these fields, libnpmaccess `setMfa`).
#[test]
fn two_factor_setting_and_collaborators_are_read_with_a_token() {
    let (server, dir) = world();
    std::fs::write(dir.path().join("publishers.toml"), ROSTER).unwrap();
    const TOKEN: &str = "npm_s3cr3tT0kenValue";
    let guarded = |body: Value| {
        move |req: &support::Request, _: usize| {
            if req.header("authorization") == Some(&format!("Bearer {TOKEN}")) {
                Reply::json(&body)
            } else {
                Reply::status(401)
            }
        }
    };
    server.hook(
        "/-/package/widget/access",
        guarded(json!({"access": "public", "publish_requires_tfa": true,
                       "automation_token_overrides_tfa": true})),
    );
    server.hook(
        "/-/package/widget/collaborators",
        guarded(json!({"alice": "write", "bob": "write", "mallory": "write",
                       "eve": "write", "reader": "read", "acme:devs": "write"})),
    );
    server.hook(
        "/-/package/solo/access",
        guarded(json!({"access": "public", "publish_requires_tfa": true,
                       "automation_token_overrides_tfa": false})),
    );
    server.hook(
        "/-/package/solo/collaborators",
        guarded(json!({"alice": "write"})),
    );
    let url = server.url();
    let run_with = |env: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_turncoat"));
        c.args([
            "evaluate",
            "--registry",
            &url,
            "--pypi-url",
            &url,
            "--format",
            "json",
            "--token-env",
            "NPM_READ_TOKEN",
        ])
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .stdin(Stdio::null());
        if let Some(t) = env {
            c.env("NPM_READ_TOKEN", t);
        }
        c.output().unwrap()
    };
    let o = run_with(Some(TOKEN));
    assert_code(&o, 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains(TOKEN) && !String::from_utf8_lossy(&o.stderr).contains(TOKEN));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let pkg = |n: &str| {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()
            .clone()
    };
    let widget = pkg("widget");
    assert_eq!(widget["publish_requires_2fa"], false);
    assert_eq!(widget["mfa_level"], "automation");
    // eve is a collaborator with write access the packument does not list: she can publish.
    assert_eq!(
        widget["publishers"],
        json!(["alice", "bob", "eve", "mallory"])
    );
    assert_eq!(widget["collaborators"].as_array().unwrap().len(), 6);
    assert_eq!(pkg("solo")["publish_requires_2fa"], true);
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "publish-2fa-not-required" || f["code"] == "undeclared-publisher")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(
            &"npm widget: publishing does not require 2FA (mfa=automation: automation tokens publish without it)"
        ),
        "{messages:?}"
    );
    assert!(messages.contains(&"npm user `eve` can publish widget but is not in the roster"));
    assert_eq!(messages.len(), 3, "{messages:?}");
    let sent = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/-/package/"))
        .count();
    assert_eq!(sent, 4);

    // A wrong token: the registry refuses, the setting stays unknown and nothing fires.
    let o = run_with(Some("wrong"));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = &v["packages"].as_array().unwrap()[0];
    assert!(w["publish_requires_2fa"].is_null(), "{w}");
    assert!(w["settings_error"].as_str().unwrap().contains("401"), "{w}");

    // The variable not set: a tool error naming the variable, not a silent "unknown".
    let o = run_with(None);
    assert_code(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("NPM_READ_TOKEN"));
}

/// `--passwords NAME=FILE` joins `turncoat recon passwords --format json` reports into the
/// people table; a report for someone not in the roster, or not such a report, is an error.
#[test]
fn password_check_results_join_the_people_table() {
    let (server, dir) = world();
    std::fs::write(dir.path().join("publishers.toml"), ROSTER).unwrap();
    std::fs::write(
        dir.path().join("alice.json"),
        r#"{"schema": "turncoat-recon-passwords/1", "format": "bitwarden-json",
 "metrics": {"entries": 4, "developer_logins": 3, "checked_against_pwned_passwords": true,
             "breached": 1, "reused": 2, "weak": 0,
             "breached_percent": 33.3, "reused_percent": 66.7, "weak_percent": 0.0,
             "platforms": {"github": 1, "npm": 1, "pypi": 1}},
 "entries": [], "findings": []}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other.json"),
        r#"{"schema": "something-else"}"#,
    )
    .unwrap();
    let url = server.url();
    let base = ["evaluate", "--registry", &url, "--pypi-url", &url];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        run(dir.path(), &a)
    };
    let o = with(&["--passwords", "Alice=alice.json"]);
    assert_code(&o, 1);
    let text = String::from_utf8_lossy(&o.stdout);
    let alice = text.lines().find(|l| l.starts_with("Alice ")).unwrap();
    assert!(alice.ends_with("yes       1/2/0 of 3"), "{alice:?}");
    let bob = text.lines().find(|l| l.starts_with("Bob ")).unwrap();
    assert!(bob.ends_with("not checked"), "{bob:?}");
    let o = with(&["--passwords", "Alice=alice.json", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passwords"][0]["person"], "Alice");
    assert_eq!(v["passwords"][0]["reused"], 2);
    let o = with(&["--passwords", "Zed=alice.json"]);
    assert_code(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no person named `Zed`"));
    let o = with(&["--passwords", "Alice=other.json"]);
    assert_code(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("schema something-else"));
}
