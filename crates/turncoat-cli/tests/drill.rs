//! `turncoat drill` end to end against a real Verdaccio on 127.0.0.1, and the dashboard page
//! in a real headless Chromium. Skipped with a printed reason when Node/Verdaccio or Chromium
//! is absent; `TURNCOAT_TEST_REQUIRE_TOOLS=1` (set by .ci/run) turns a skip into a failure.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn require_tools() -> bool {
    std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

fn skip(reason: &str) {
    assert!(
        !require_tools(),
        "TURNCOAT_TEST_REQUIRE_TOOLS=1 but {reason}"
    );
    eprintln!("skipped: {reason}");
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn verdaccio() -> Option<PathBuf> {
    std::env::var_os("TURNCOAT_VERDACCIO")
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .or_else(|| on_path("verdaccio"))
}

fn turncoat() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_turncoat"));
    c.env_remove("TURNCOAT_NOW");
    c
}

#[test]
fn a_drill_against_verdaccio_is_detected_by_the_gate_and_timed() {
    let (Some(_), Some(_), Some(v)) = (on_path("node"), on_path("npm"), verdaccio()) else {
        return skip("node, npm or verdaccio (TURNCOAT_VERDACCIO) not found");
    };
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("metrics.jsonl");
    let out = turncoat()
        .args([
            "--quiet", "drill", "--layer", "gate", "--keep", "--format", "json",
        ])
        .arg("--samples-out")
        .arg(&record)
        .arg("--record")
        .arg("--database")
        .arg(dir.path().join("store.sqlite"))
        .args(["--layer-timeout", "120"])
        .env("TURNCOAT_VERDACCIO", v)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["seed", "runtime", "new-dependency", "binary"]);
    assert!(
        report["registry"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    for s in scenarios {
        assert_eq!(s["marker_on_host"], false, "{s}");
        let gate = &s["layers"][0];
        assert_eq!(gate["layer"], "gate");
        assert_eq!(gate["detected"], true, "{s}");
        assert!(gate["ttd_seconds"].as_f64().unwrap() > 0.0);
        assert!(!gate["codes"].as_array().unwrap().is_empty());
    }
    // The gate never runs package code: after the whole drill the marker is still absent.
    let work = PathBuf::from(report["work_dir"].as_str().unwrap());
    assert!(work.join("verdaccio/storage").is_dir());
    let markers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("marker"))
        .map(|e| e.path())
        .collect();
    assert!(
        markers.is_empty(),
        "the canary ran on the host: {markers:?}"
    );
    // The token never reaches the report or stderr.
    let npmrc = std::fs::read_to_string(work.join("verdaccio/publish.npmrc")).unwrap();
    let token = npmrc
        .lines()
        .find_map(|l| l.split_once(":_authToken="))
        .unwrap()
        .1;
    assert!(token.len() > 8);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    assert!(!stderr.contains(token));
    // TTD samples were recorded, one per detection, and the dashboard shows them.
    let lines = std::fs::read_to_string(&record).unwrap();
    assert_eq!(lines.lines().count(), 4);
    let html = dir.path().join("d.html");
    let st = turncoat()
        .args(["--quiet", "report", "--html"])
        .arg(&html)
        .arg("--samples")
        .arg(&record)
        .status()
        .unwrap();
    assert!(st.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("new-dependency") && page.contains("drill "));
    // The same samples went to the store: the dashboard and `turncoat metrics` read them there.
    let from_store = dir.path().join("s.html");
    let st = turncoat()
        .args(["--quiet", "report", "--html"])
        .arg(&from_store)
        .arg("--database")
        .arg(dir.path().join("store.sqlite"))
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        std::fs::read_to_string(&from_store)
            .unwrap()
            .contains("new-dependency")
    );
    let m = turncoat()
        .args(["metrics", "--format", "json", "--database"])
        .arg(dir.path().join("store.sqlite"))
        .output()
        .unwrap();
    assert!(m.status.success());
    assert!(String::from_utf8_lossy(&m.stdout).contains("time-to-detect"));
    // Verdaccio is gone: its port refuses connections.
    let addr = report["registry"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "verdaccio still running"
    );
    std::fs::remove_dir_all(work).unwrap();
}

fn drill_tools() -> Option<PathBuf> {
    match (on_path("node"), on_path("npm"), verdaccio()) {
        (Some(_), Some(_), Some(v)) => Some(v),
        _ => {
            skip("node, npm or verdaccio (TURNCOAT_VERDACCIO) not found");
            None
        }
    }
}

#[test]
fn a_layer_the_config_requires_that_misses_fails_the_drill() {
    let Some(v) = drill_tools() else { return };
    // `npm ci` runs install hooks but never loads the entry point: the sandbox sees the seed's
    // DNS exfiltration and nothing of the runtime payload.
    let out = turncoat()
        .args([
            "--quiet",
            "drill",
            "--scenario",
            "seed",
            "--scenario",
            "runtime",
        ])
        .args([
            "--layer",
            "watch",
            "--must-detect",
            "watch",
            "--format",
            "json",
        ])
        .env("TURNCOAT_VERDACCIO", v)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seed = &report["scenarios"][0]["layers"][0];
    let runtime = &report["scenarios"][1]["layers"][0];
    assert_eq!(seed["detected"], true, "{seed}");
    assert!(
        seed["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "event:dns")
    );
    assert_eq!(runtime["detected"], false, "{runtime}");
    assert_eq!(runtime["required"], true);
    assert!(runtime.get("ttd_seconds").is_none());
    assert_eq!(report["metrics"].as_array().unwrap().len(), 1);
}

fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            out.push((child, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
                .map(|z| !z)
        })
        .unwrap_or(false)
}

#[test]
fn verdaccio_dies_with_a_killed_drill() {
    let Some(v) = drill_tools() else { return };
    // A killed drill cannot remove its temp dir: keep it inside this test's.
    let tmp = tempfile::tempdir().unwrap();
    let mut child = turncoat()
        .args(["--quiet", "drill", "--scenario", "seed", "--layer", "gate"])
        .env("TURNCOAT_VERDACCIO", v)
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let registry = loop {
        if let Some(c) = children_of(child.id())
            .into_iter()
            .find(|(_, cmd)| cmd.contains("verdaccio"))
        {
            break c.0;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no verdaccio child appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // SIGKILL: no destructor runs; the stdin watchdog must take Verdaccio down.
    child.kill().unwrap();
    child.wait().unwrap();
    let start = std::time::Instant::now();
    while alive(registry) && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !alive(registry),
        "verdaccio (pid {registry}) outlived the drill"
    );
}

#[test]
fn a_drill_on_a_project_works_on_a_clone_and_leaves_the_original_alone() {
    let Some(v) = drill_tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(
        repo.join("package.json"),
        r#"{"name":"app","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        String::from_utf8_lossy(&st.stdout).into_owned()
    };
    git(&["init", "-q", "-b", "trunk"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "init"]);
    let before = (git(&["rev-parse", "HEAD"]), git(&["branch", "-a"]));
    let out = turncoat()
        .args([
            "--quiet",
            "drill",
            "--scenario",
            "seed",
            "--layer",
            "gate",
            "--format",
            "json",
            "--project",
        ])
        .arg(&repo)
        .env("TURNCOAT_VERDACCIO", v)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scenarios"][0]["layers"][0]["detected"], true);
    assert_eq!(
        (git(&["rev-parse", "HEAD"]), git(&["branch", "-a"])),
        before
    );
    assert_eq!(git(&["status", "--porcelain"]), "");
    assert!(!repo.join("package-lock.json").exists());
}

fn chromium(page: &Path, shot: &Path, profile: &Path) -> String {
    let out = Command::new(on_path("chromium").unwrap())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1100",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_dashboard_renders_in_chromium_without_console_messages_or_requests() {
    if on_path("chromium").is_none() {
        return skip("chromium not found (apt-get install -y chromium)");
    }
    let dir = tempfile::tempdir().unwrap();
    // A hostile scope and finding code: escaped, they cannot load or run anything.
    let samples = dir.path().join("s.jsonl");
    std::fs::write(
        &samples,
        concat!(
            r#"{"metric":"time-to-detect","value":13.1,"at":"2026-12-07T14:00:00Z","scope":"<script>fetch('http://x.invalid')</script>","source":"drill","detail":{"scenario":"seed","layer":"gate","codes":["<img src=http://y.invalid/a.png>"]}}"#,
            "\n",
            r#"{"metric":"personal-emails-exposed","value":3,"at":"2026-12-01T00:00:00Z","scope":"org","source":"recon"}"#,
            "\n",
            r#"{"metric":"personal-emails-exposed","value":1,"at":"2026-12-06T00:00:00Z","scope":"org","source":"recon"}"#,
            "\n"
        ),
    )
    .unwrap();
    let page = dir.path().join("dashboard.html");
    let st = turncoat()
        .args(["--quiet", "report", "--html"])
        .arg(&page)
        .arg("--samples")
        .arg(&samples)
        .status()
        .unwrap();
    assert!(st.success());
    let shot = dir.path().join("shot.png");
    let log = chromium(&page, &shot, &dir.path().join("profile"));
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "no screenshot"
    );

    // Control: the same check sees a request the CSP blocks (so an empty log means something).
    let bad = dir.path().join("bad.html");
    let html = std::fs::read_to_string(&page).unwrap().replace(
        "</main>",
        "<img src=\"http://example.invalid/x.png\"></main>",
    );
    std::fs::write(&bad, html).unwrap();
    let log = chromium(
        &bad,
        &dir.path().join("bad.png"),
        &dir.path().join("profile2"),
    );
    assert!(
        log.lines()
            .any(|l| l.contains(":CONSOLE") && l.contains("example.invalid")),
        "the blocked request was not logged: {log}"
    );
    if let Some(out) = std::env::var_os("TURNCOAT_DASHBOARD_SCREENSHOT") {
        std::fs::copy(&shot, out).unwrap();
    }
}

/// The dashboard from a real store: incident rows (an open one with its checklist progress and
/// a closed one with its TTR) rendered in Chromium without console messages or requests.
#[test]
fn the_dashboard_shows_the_stores_incidents_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let run = |args: &[&str]| {
        let o = turncoat()
            .args(["--quiet"])
            .args(args)
            .arg("--database")
            .arg(&db)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    // An app that locks the malicious version and installs it in CI with a secret in scope:
    // the incident's checklist gets that secret to rotate.
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join(".github/workflows")).unwrap();
    std::fs::write(
        app.join("package-lock.json"),
        r#"{"name":"app","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","dependencies":{"evil-pkg":"^1.0.0"}},"node_modules/evil-pkg":{"version":"1.0.1","resolved":"https://registry.npmjs.org/evil-pkg/-/evil-pkg-1.0.1.tgz","integrity":"sha512-AAAA","hasInstallScript":true}}}"#,
    )
    .unwrap();
    std::fs::write(
        app.join(".github/workflows/ci.yml"),
        "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n      - run: npm ci\n",
    )
    .unwrap();
    run(&["index", "add", app.to_str().unwrap()]);
    run(&[
        "incident",
        "open",
        "evil-pkg@1.0.1",
        "--id",
        "INC-OPEN",
        "-o",
        "open.md",
    ]);
    run(&["incident", "check", "INC-OPEN", "1"]);
    run(&[
        "incident",
        "open",
        "other-pkg@2.0.0",
        "--id",
        "INC-DONE",
        "-o",
        "done.md",
    ]);
    run(&["incident", "close", "INC-DONE"]);
    let page = dir.path().join("dashboard.html");
    let st = turncoat()
        .args(["--quiet", "report", "--html"])
        .arg(&page)
        .arg("--database")
        .arg(&db)
        .status()
        .unwrap();
    assert!(st.success());
    let html = std::fs::read_to_string(&page).unwrap();
    let inc = &html[html.find("<section id=\"incidents\"").unwrap()..];
    let inc = &inc[..inc.find("</section>").unwrap()];
    let open = &inc[inc.find("INC-OPEN").unwrap()..];
    let open = &open[..open.find("</tr>").unwrap()];
    assert!(
        open.contains(">open<") && open.contains("evil-pkg@1.0.1"),
        "{open}"
    );
    let progress = open
        .split("</svg> ")
        .nth(1)
        .and_then(|t| t.split(" checked").next())
        .expect("checklist progress");
    let (done, total) = progress.split_once('/').unwrap();
    assert_eq!(done, "1", "{open}");
    assert!(total.parse::<u32>().unwrap() >= 1);
    let closed = &inc[inc.find("INC-DONE").unwrap()..];
    assert!(
        closed.contains("closed ") && closed.contains("other-pkg@2.0.0"),
        "{closed}"
    );

    if on_path("chromium").is_none() {
        return skip("chromium not found (apt-get install -y chromium)");
    }
    let shot = dir.path().join("shot.png");
    let log = chromium(&page, &shot, &dir.path().join("profile"));
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "no screenshot"
    );
}

/// SIGINT and SIGTERM: the drill's temp dir (registry storage, token, apps) is removed and
/// the process ends with that signal.
#[test]
fn an_interrupted_drill_removes_its_temp_dir() {
    use std::os::unix::process::ExitStatusExt as _;
    let Some(v) = drill_tools() else { return };
    for (sig, num) in [("TERM", 15), ("INT", 2)] {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = turncoat()
            .args(["--quiet", "drill", "--scenario", "seed", "--layer", "gate"])
            .env("TURNCOAT_VERDACCIO", &v)
            .env("TMPDIR", tmp.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until Verdaccio's storage exists inside the drill's temp dir.
        let start = std::time::Instant::now();
        let drill_dir = loop {
            let found = std::fs::read_dir(tmp.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("turncoat-drill-"))
                        && p.join("verdaccio").exists()
                });
            if let Some(d) = found {
                break d;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "no drill temp dir appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let st = Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(num), "SIG{sig}: {status:?}");
        assert!(
            !drill_dir.exists(),
            "SIG{sig}: {} is still there",
            drill_dir.display()
        );
    }
}

/// A public registry is refused before anything starts or is read, for `--package` and for
/// generated canaries alike.
#[test]
fn a_drill_refuses_a_public_registry() {
    for extra in [&["--package", "left-pad"][..], &[][..]] {
        let out = turncoat()
            .args([
                "--quiet",
                "drill",
                "--registry",
                "https://registry.npmjs.org/",
            ])
            .args(extra)
            .args(["--npmrc", "/nonexistent/.npmrc"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("public registry"), "{stderr}");
    }
}

/// `--package` on the team's registry (a Verdaccio started here stands in for it): the canary
/// is the next patch of the package's `latest`, published under the `turncoat-drill` tag so
/// `latest` stays on the team's release; the gate detects it; the token never shows.
#[test]
fn a_drill_of_the_teams_package_publishes_its_next_patch_under_the_drill_tag() {
    let Some(v) = drill_tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let node = on_path("node").unwrap();
    let npm = on_path("npm").unwrap();
    // Started by the drill's own code: it finds Verdaccio where drill_tools() did
    // ($TURNCOAT_VERDACCIO, else PATH).
    let team = turncoat_exercise::registry::Registry::start_local(
        &node,
        &dir.path().join("team-registry"),
        std::time::Duration::from_secs(60),
    )
    .expect("start the team's registry");
    let release = turncoat_exercise::canary::PackageRelease {
        name: "@team/widget".into(),
        version: "2.3.4".into(),
        files: vec![
            (
                "package.json".into(),
                br#"{"name":"@team/widget","version":"2.3.4","main":"index.js"}"#.to_vec(),
            ),
            ("index.js".into(), b"module.exports = 1;\n".to_vec()),
        ],
    };
    team.publish(&npm, &home, &release, &dir.path().join("pkg"))
        .expect("publish the team's release");
    let npmrc_text = std::fs::read_to_string(&team.npmrc).unwrap();
    let token = npmrc_text
        .lines()
        .find_map(|l| l.split_once(":_authToken=").map(|(_, t)| t.to_string()))
        .unwrap();

    let out = turncoat()
        .args([
            "--quiet",
            "drill",
            "--package",
            "@team/widget",
            "--registry",
        ])
        .arg(&team.url)
        .arg("--npmrc")
        .arg(&team.npmrc)
        .args(["--scenario", "seed", "--layer", "gate", "--format", "json"])
        .env("TURNCOAT_VERDACCIO", &v)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {stderr}\nstdout: {stdout}"
    );
    assert!(
        !stdout.contains(&token) && !stderr.contains(&token),
        "the token leaked"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let s = &report["scenarios"][0];
    assert_eq!(s["package"], "@team/widget");
    assert_eq!(s["from"], "2.3.4");
    assert_eq!(s["to"], "2.3.5");
    assert_eq!(s["layers"][0]["detected"], true, "{s}");
    assert_eq!(report["local_registry"], false);

    let doc = http_get_json(&format!("{}@team%2fwidget", team.url), &token);
    assert_eq!(
        doc["dist-tags"]["latest"], "2.3.4",
        "latest moved: {}",
        doc["dist-tags"]
    );
    assert_eq!(doc["dist-tags"]["turncoat-drill"], "2.3.5");
}

/// GET a JSON document from a registry on 127.0.0.1 (HTTP/1.0, the whole answer).
fn http_get_json(url: &str, token: &str) -> serde_json::Value {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_once('/').unwrap();
    let mut c = std::net::TcpStream::connect(authority).unwrap();
    write!(
        c,
        "GET /{path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    serde_json::from_str(body).unwrap()
}

/// `--package` without `--registry`: the local Verdaccio has no such package, so the drill
/// publishes a clean 1.0.0 of that name first and the canary is 1.0.1.
#[test]
fn a_drill_of_a_package_on_the_local_registry_starts_from_a_clean_release() {
    let Some(v) = drill_tools() else { return };
    // `[metrics] record = true` in the current directory records without --record.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("turncoat.toml"),
        "[metrics]\nrecord = true\n",
    )
    .unwrap();
    let db = dir.path().join("store.sqlite");
    let out = turncoat()
        .args(["--quiet", "drill", "--package", "@team/local-widget"])
        .args(["--scenario", "seed", "--layer", "gate", "--format", "json"])
        .arg("--database")
        .arg(&db)
        .current_dir(dir.path())
        .env("TURNCOAT_VERDACCIO", &v)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &report["scenarios"][0];
    assert_eq!(s["package"], "@team/local-widget");
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str()),
        (Some("1.0.0"), Some("1.0.1"))
    );
    assert_eq!(s["layers"][0]["detected"], true, "{s}");
    let m = turncoat()
        .args(["metrics", "--format", "json", "--database"])
        .arg(&db)
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
    assert!(
        m["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "time-to-detect"),
        "{m}"
    );
}
