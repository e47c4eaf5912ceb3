//! The GitHub Action's scripts (`scripts/action/*.sh`, called by `action.yml`), run by bash
//! against a stub of the GitHub REST API on 127.0.0.1 (`GITHUB_API_URL`): one comment per pull
//! request, updated in place; a look-alike comment by someone else never edited; SARIF sent
//! gzip+base64 to code scanning; hostile report text sent as data. And `action.yml` itself:
//! no `${{ }}` inside a `run:` block (inputs reach scripts through `env:` only).

#![allow(clippy::print_stderr)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    auth: String,
    body: String,
}

#[derive(Default)]
struct State {
    requests: Vec<Request>,
    /// (id, login, body) of the pull request's comments.
    comments: Vec<(u64, String, String)>,
    next_id: u64,
}

fn stub_api(state: Arc<Mutex<State>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut len = 0usize;
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    auth = h["authorization:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let body = String::from_utf8_lossy(&body).into_owned();
            let mut st = state.lock().unwrap();
            st.requests.push(Request {
                method: method.clone(),
                path: path.clone(),
                auth,
                body: body.clone(),
            });
            let (status, reply) = if method == "GET" && path.contains("/issues/7/comments") {
                let page: usize = path
                    .split("page=")
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let list: Vec<serde_json::Value> = st
                    .comments
                    .iter()
                    .skip((page - 1) * 100)
                    .take(100)
                    .map(|(id, login, body)| serde_json::json!({"id": id, "user": {"login": login}, "body": body}))
                    .collect();
                ("200 OK", serde_json::Value::Array(list).to_string())
            } else if method == "POST" && path.ends_with("/issues/7/comments") {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                st.next_id += 1;
                let id = 1000 + st.next_id;
                st.comments.push((
                    id,
                    "github-actions[bot]".into(),
                    v["body"].as_str().unwrap().into(),
                ));
                ("201 Created", serde_json::json!({"id": id}).to_string())
            } else if method == "PATCH" && path.contains("/issues/comments/") {
                let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                for c in st.comments.iter_mut().filter(|c| c.0 == id) {
                    c.2 = v["body"].as_str().unwrap().into();
                }
                ("200 OK", "{}".into())
            } else if method == "POST" && path.ends_with("/code-scanning/sarifs") {
                ("202 Accepted", "{\"id\":\"sarif-1\"}".into())
            } else {
                ("404 Not Found", "{}".into())
            };
            drop(st);
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new("bash")
        .arg(repo_root().join("scripts/action").join(name))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .envs(env.iter().copied())
        .output()
        .expect("bash")
}

fn tools(test: &str) -> bool {
    common::have_tools(test, &["bash", "jq", "curl", "gzip", "base64"])
}

#[test]
fn one_comment_per_pull_request_updated_in_place_and_never_someone_elses() {
    if !tools("one_comment_per_pull_request_updated_in_place_and_never_someone_elses") {
        return;
    }
    let state = Arc::new(Mutex::new(State::default()));
    // Mallory planted a comment carrying the marker, hoping the action edits it.
    state.lock().unwrap().comments.push((
        5,
        "mallory".into(),
        "<!-- turncoat-report -->\nfake all clear".into(),
    ));
    let api = stub_api(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request": {"number": 7}}"#).unwrap();
    let report = dir.path().join("turncoat.md");
    // Hostile text from package names and evidence: quotes, $(...), backticks, JSON breakers.
    let hostile = "<!-- turncoat-report -->\n## turncoat: 1 blocked\n`$(touch /tmp/pwned)` \"}\\\" ; rm -rf / '\n";
    std::fs::write(&report, hostile).unwrap();
    let env = [
        ("GITHUB_API_URL", api.as_str()),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_TOKEN", "ghs_test-token"),
        ("REPORT", report.to_str().unwrap()),
    ];
    let o = script("comment.sh", &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(
        &report,
        "<!-- turncoat-report -->\n## turncoat: all clear\n",
    )
    .unwrap();
    let o = script("comment.sh", &env);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let st = state.lock().unwrap();
    let writes: Vec<(&str, &str)> = st
        .requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        writes,
        [
            ("POST", "/repos/acme/app/issues/7/comments"),
            ("PATCH", "/repos/acme/app/issues/comments/1001")
        ],
        "first run posts, second updates its own comment"
    );
    assert_eq!(st.comments.len(), 2);
    assert_eq!(
        st.comments[0].2, "<!-- turncoat-report -->\nfake all clear",
        "mallory's comment was edited"
    );
    assert_eq!(
        st.comments[1].2,
        "<!-- turncoat-report -->\n## turncoat: all clear\n"
    );
    // The hostile body went out as data, byte for byte.
    let first_post: serde_json::Value = serde_json::from_str(
        &st.requests
            .iter()
            .find(|r| r.method == "POST")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(first_post["body"], hostile);
    assert!(!Path::new("/tmp/pwned").exists());
    assert!(
        st.requests
            .iter()
            .all(|r| r.auth == "Bearer ghs_test-token")
    );
}

#[test]
fn not_a_pull_request_posts_nothing() {
    if !tools("not_a_pull_request_posts_nothing") {
        return;
    }
    let state = Arc::new(Mutex::new(State::default()));
    let api = stub_api(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request": {"number": "7; rm -rf /"}}"#).unwrap();
    let report = dir.path().join("r.md");
    std::fs::write(&report, "x").unwrap();
    let o = script(
        "comment.sh",
        &[
            ("GITHUB_API_URL", api.as_str()),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_TOKEN", "t"),
            ("REPORT", report.to_str().unwrap()),
        ],
    );
    assert!(o.status.success());
    assert!(state.lock().unwrap().requests.is_empty());
}

#[test]
fn sarif_goes_to_code_scanning_gzipped_and_only_when_it_is_sarif() {
    if !tools("sarif_goes_to_code_scanning_gzipped_and_only_when_it_is_sarif") {
        return;
    }
    let state = Arc::new(Mutex::new(State::default()));
    let api = stub_api(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("t.sarif");
    let log =
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"turncoat"}},"results":[]}]}"#;
    std::fs::write(&sarif, log).unwrap();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let env = |s: &Path| {
        vec![
            ("GITHUB_API_URL", api.clone()),
            ("GITHUB_REPOSITORY", "acme/app".to_string()),
            ("GITHUB_SHA", sha.to_string()),
            ("GITHUB_REF", "refs/pull/7/merge".to_string()),
            ("GITHUB_TOKEN", "t".to_string()),
            ("SARIF", s.to_str().unwrap().to_string()),
        ]
    };
    let run = |s: &Path| {
        let e = env(s);
        let pairs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        script("upload-sarif.sh", &pairs)
    };
    let o = run(&sarif);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let req = state.lock().unwrap().requests[0].clone();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/repos/acme/app/code-scanning/sarifs")
    );
    let v: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(v["commit_sha"], sha);
    assert_eq!(v["ref"], "refs/pull/7/merge");
    let gz = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        v["sarif"].as_str().unwrap(),
    )
    .unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, log);
    // Not SARIF: nothing is sent.
    std::fs::write(&sarif, "{\"version\": \"1\"}").unwrap();
    assert!(!run(&sarif).status.success());
    assert_eq!(state.lock().unwrap().requests.len(), 1);
}

/// `${{ }}` inside `run:` would paste input text into a shell script (script injection).
#[test]
fn action_yml_passes_inputs_through_env_only() {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let mut in_run: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if let Some(run_indent) = in_run {
            if line.trim().is_empty() || indent > run_indent {
                assert!(
                    !line.contains("${{"),
                    "action.yml:{}: expression inside run: {line}",
                    n + 1
                );
                continue;
            }
            in_run = None;
        }
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("run:") {
            assert!(
                !rest.contains("${{"),
                "action.yml:{}: expression inside run: {line}",
                n + 1
            );
            in_run = Some(indent);
        }
    }
    // Every script the action calls exists and parses.
    for s in ["install.sh", "gate.sh", "comment.sh", "upload-sarif.sh"] {
        assert!(
            text.contains(&format!("scripts/action/{s}")),
            "{s} not used"
        );
        let o = Command::new("bash")
            .arg("-n")
            .arg(repo_root().join("scripts/action").join(s))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// gate.sh on a pull request that changes no dependency: verdict `pass`, both reports written,
/// the step outputs set; a base revision that looks like an option is refused.
#[test]
fn gate_script_records_the_verdict_and_reports() {
    if !tools("gate_script_records_the_verdict_and_reports")
        || !common::have_tools("gate_script", &["git"])
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.invalid")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.join("package.json"),
        "{\"name\":\"app\",\"version\":\"1.0.0\"}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("package-lock.json"),
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"packages\":{\"\":{\"name\":\"app\",\"version\":\"1.0.0\"}}}\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    let bin = Path::new(env!("CARGO_BIN_EXE_turncoat"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let outputs = dir.path().join("outputs");
    let run = |base_ref: &str| {
        std::fs::write(&outputs, "").unwrap();
        Command::new("bash")
            .arg(repo_root().join("scripts/action/gate.sh"))
            .current_dir(&repo)
            .env("PATH", &path)
            .env("RUNNER_TEMP", dir.path())
            .env("GITHUB_OUTPUT", &outputs)
            .env("BASE_REF", base_ref)
            .output()
            .unwrap()
    };
    let o = run(&base);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = std::fs::read_to_string(&outputs).unwrap();
    assert!(out.contains("verdict=pass"), "{out}");
    assert!(
        out.contains(&format!("report={}/turncoat.md", dir.path().display())),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("turncoat.md"))
            .unwrap()
            .contains("<!-- turncoat-report -->")
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("turncoat.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let o = run("--output=/tmp/x");
    assert_eq!(o.status.code(), Some(2));
}
