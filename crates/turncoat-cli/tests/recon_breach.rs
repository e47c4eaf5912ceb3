//! `turncoat recon passwords`, `--pwned`, `--published`, `--lockfile --check-domains` as a user
//! runs them, against real servers on 127.0.0.1: the registry test server doubles as the
//! Pwned Passwords range API, the HIBP v3 API, the npm registry and PyPI's JSON API; a DNS
//! server built with hickory-proto answers MX and A queries. Every output stream is scanned
//! for passwords, their hashes and the API key.

#![allow(clippy::print_stderr)]

#[path = "../../turncoat-registry/tests/support/mod.rs"]
mod support;

#[path = "../../turncoat-recon/tests/fixture/mod.rs"]
mod fixture;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, MX};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde_json::{Value, json};
use sha1::Digest as _;
use support::{Reply, TestRegistry};

const KEY: &str = "hibp-test-key-4f1c2b0e9d8a7c6b";
const QUERY: &str = "?truncateResponse=false&includeUnverified=false";
const BREACHED: &str = "hunter2";
const STRONG: &str = "Vq8#mZt2!pLw9xKr4@cF";
const REUSED: &str = "tr0ub4dor&3-reused";

fn sha1_hex(pw: &str) -> String {
    hex_upper(&sha1::Sha1::digest(pw.as_bytes()))
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}

/// Run turncoat with a clean environment, `stdin` piped in.
fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_turncoat"));
    cmd.args(args)
        .arg("--cache-dir")
        .arg(home.path().join("cache"))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run turncoat");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
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

/// Neither stream holds any of `secrets` (case-insensitively, for hashes).
#[track_caller]
fn assert_no_secret(o: &Output, secrets: &[&str]) {
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
    .to_ascii_uppercase();
    for s in secrets {
        assert!(!all.contains(&s.to_ascii_uppercase()), "{s} leaked:\n{all}");
    }
}

fn password_secrets() -> Vec<String> {
    let mut v = Vec::new();
    for pw in [BREACHED, STRONG, REUSED] {
        let h = sha1_hex(pw);
        v.push(pw.to_string());
        v.push(h[5..].to_string());
        v.push(h.clone());
    }
    v
}

/// A padded range reply: 900 count-0 lines and the hits.
fn range_body(hits: &[(&str, u64)]) -> String {
    let mut lines: Vec<String> = (0..900u32)
        .map(|i| format!("{:035X}:0", u128::from(i) * 104_729))
        .collect();
    for (pw, c) in hits {
        lines.push(format!("{}:{c}", &sha1_hex(pw)[5..]));
    }
    lines.sort();
    lines.join("\r\n")
}

fn bitwarden_export() -> String {
    json!({"encrypted": false, "folders": [], "items": [
        {"type": 1, "name": "GitHub", "login": {"uris": [{"uri": "https://github.com/login"}], "username": "octo", "password": BREACHED}},
        {"type": 1, "name": "npm", "login": {"uris": [{"uri": "https://www.npmjs.com/login"}], "username": "octo", "password": STRONG}},
        {"type": 1, "name": "PyPI", "login": {"uris": [{"uri": "https://pypi.org/account/login/"}], "username": "octo", "password": REUSED}},
        {"type": 1, "name": "Shop", "login": {"uris": [{"uri": "https://shop.example"}], "username": "octo", "password": REUSED}},
        {"type": 2, "name": "note", "notes": "not a login"}
    ]})
    .to_string()
}

#[test]
fn passwords_vault_against_the_range_api() {
    let server = TestRegistry::start();
    for pw in [BREACHED, STRONG, REUSED] {
        let hits: &[(&str, u64)] = if pw == BREACHED {
            &[(BREACHED, 17_043)]
        } else {
            &[]
        };
        server.set(
            &format!("/range/{}", &sha1_hex(pw)[..5]),
            Reply::ok(range_body(hits)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("bitwarden.json");
    std::fs::write(&vault, bitwarden_export()).unwrap();
    let url = server.url();
    let args = [
        "recon",
        "passwords",
        "--vault",
        vault.to_str().unwrap(),
        "--pwned-passwords-url",
        &url,
    ];
    let human = run(dir.path(), &args, &[], b"");
    assert_code(&human, 1); // password-breached is deny
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("3 developer-platform login(s)"), "{text}");
    assert!(
        text.contains("password-breached: GitHub (github.com): password seen 17043 times"),
        "{text}"
    );
    assert!(text.contains("password-reused: PyPI (pypi.org)"), "{text}");
    let mut with_json = args.to_vec();
    with_json.extend(["--format", "json"]);
    let out = run(dir.path(), &with_json, &[], b"");
    assert_code(&out, 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "turncoat-recon-passwords/1");
    let m = &v["metrics"];
    assert_eq!(m["entries"], 4);
    assert_eq!(m["developer_logins"], 3);
    assert_eq!(m["breached"], 1);
    assert_eq!(m["reused"], 1);
    assert_eq!(m["breached_percent"], 33.3);
    let secrets = password_secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&human, &secrets);
    assert_no_secret(&out, &secrets);
    // Only 5 hex digits per request, with padding; the not-a-platform entry was not looked up
    // separately (same password as PyPI) and no request carries more of any hash.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 6, "3 distinct passwords, 2 runs");
    for r in reqs {
        let tail = r.path.strip_prefix("/range/").unwrap();
        assert!(
            tail.len() == 5 && tail.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}",
            r.path
        );
        assert_eq!(r.header("add-padding"), Some("true"));
    }
}

#[test]
fn passwords_from_stdin_against_an_offline_hash_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<String> = (0..5000)
        .map(|i| format!("{}:{}", sha1_hex(&format!("other-{i}")), i + 1))
        .collect();
    rows.push(format!("{}:42", sha1_hex(BREACHED)));
    rows.sort();
    let file = dir.path().join("pwnedpasswords.txt");
    std::fs::write(&file, rows.join("\r\n") + "\r\n").unwrap();
    let stdin = format!("{BREACHED}\n{STRONG}\n\n{STRONG}\n");
    let out = run(
        dir.path(),
        &[
            "recon",
            "passwords",
            "--pwned-file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
        stdin.as_bytes(),
    );
    assert_code(&out, 1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metrics"]["developer_logins"], 3);
    assert_eq!(v["metrics"]["breached"], 1);
    assert_eq!(v["metrics"]["reused"], 2);
    assert_eq!(v["entries"][0]["breached"], 42);
    assert_eq!(v["entries"][0]["name"], "line 1");
    let secrets = password_secrets();
    assert_no_secret(
        &out,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn passwords_onepassword_csv_human_report() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("1password.csv");
    std::fs::write(
        &csv,
        format!(
            "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\n\
             GitLab,https://gitlab.com/users/sign_in,octo@corp.example,{BREACHED},,false,false,,\n\
             Corp webmail,https://mail.corp.example,octo,{REUSED},,false,false,,\n\
             crates.io,https://crates.io,octo,{STRONG},,false,false,,\n\
             Forum,https://forum.example,octo,{REUSED},,false,false,,\n"
        ),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "recon",
            "passwords",
            "--no-pwned",
            "--vault",
            csv.to_str().unwrap(),
        ],
        &[],
        b"",
    );
    assert_code(&out, 0); // weak and reused warn; nothing was checked for breaches
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("recon_passwords_human", text);
    let secrets = password_secrets();
    assert_no_secret(
        &out,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn hostile_exports_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("enc.json");
    std::fs::write(&enc, r#"{"encrypted":true,"data":"x"}"#).unwrap();
    let out = run(
        dir.path(),
        &[
            "recon",
            "passwords",
            "--no-pwned",
            "--vault",
            enc.to_str().unwrap(),
        ],
        &[],
        b"",
    );
    assert_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("encrypted Bitwarden export"));
    let garbage = dir.path().join("g.csv");
    std::fs::write(&garbage, format!("{BREACHED}\n{STRONG}\n")).unwrap();
    let out = run(
        dir.path(),
        &[
            "recon",
            "passwords",
            "--no-pwned",
            "--vault",
            garbage.to_str().unwrap(),
        ],
        &[],
        b"",
    );
    assert_code(&out, 2);
    assert_no_secret(&out, &[BREACHED, STRONG]);
    let ntlm = dir.path().join("ntlm.txt");
    std::fs::write(&ntlm, "8846F7EAEE8FB117AD06BDD830B7586C:1\n").unwrap();
    let out = run(
        dir.path(),
        &["recon", "passwords", "--pwned-file", ntlm.to_str().unwrap()],
        &[],
        b"x\n",
    );
    assert_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("NTLM"));
}

fn npm_doc(server: &TestRegistry, name: &str, maintainers: Value) -> Value {
    let mut doc = support::packument(
        name,
        &server.url(),
        &[("1.0.0", &support::package_tgz(name, "1.0.0"))],
    );
    doc["maintainers"] = maintainers;
    doc
}

#[test]
fn published_identities_and_breached_accounts() {
    let server = TestRegistry::start();
    let doc = npm_doc(
        &server,
        "widget",
        json!([{"name": "jane", "email": "jane@gmail.com"}, {"name": "ops", "email": "ops@corp.example"}]),
    );
    server.set("/widget", Reply::json(&doc));
    server.set(
        "/pypi/acme-widget/json",
        Reply::json(
            &json!({"info": {"name": "acme-widget", "author_email": "Jane <jane@gmail.com>", "maintainer_email": ""},
                    "ownership": {"roles": [{"role": "Owner", "user": "jane"}], "organization": null}}),
        ),
    );
    server.set(
        &format!("/breachedaccount/jane@gmail.com{QUERY}"),
        Reply::json(
            &json!([{"Name": "Adobe", "BreachDate": "2013-10-04", "DataClasses": ["Passwords"]}]),
        ),
    );
    server.hook(
        &format!("/breachedaccount/ops@corp.example{QUERY}"),
        |_, hits| {
            if hits == 0 {
                Reply::status(429).header("retry-after", "1")
            } else {
                Reply::status(404)
            }
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name":"widget","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"acme-widget\"\n",
    )
    .unwrap();
    let url = server.url();
    let args = [
        "recon",
        ".",
        "--published",
        "--pwned",
        "--registry",
        &url,
        "--pypi-url",
        &url,
        "--hibp-url",
        &url,
        "--format",
        "json",
    ];
    let out = run(dir.path(), &args, &[("HIBP_API_KEY", KEY)], b"");
    assert_code(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The history report is at the top; these sections are under "exposure".
    let v = v["exposure"].clone();
    assert_eq!(v["published"]["addresses"], 2);
    assert_eq!(v["published"]["personal_addresses"], 1);
    let codes: Vec<&str> = v["published"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes, ["registry-email-exposed"; 3],
        "npm maintainer x2, PyPI author"
    );
    let pypi = &v["published"]["packages"][1];
    assert_eq!(pypi["package"]["name"], "acme-widget");
    assert_eq!(
        pypi["publishers"],
        json!([{"role": "Owner", "user": "jane"}])
    );
    assert_eq!(
        v["published"]["packages"][0]["publishers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(v["breaches"]["checked"], 2);
    assert_eq!(v["breaches"]["pwned_accounts"], 1);
    assert_eq!(v["breaches"]["findings"][0]["code"], "email-in-breach");
    assert_no_secret(&out, &[KEY]);
    for r in server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/breachedaccount/"))
    {
        assert_eq!(r.header("hibp-api-key"), Some(KEY));
    }
    assert_eq!(
        server.hits(&format!("/breachedaccount/ops@corp.example{QUERY}")),
        2,
        "429 then retried"
    );

    // Without a key: a clear error, exit 2, no request.
    let before = server.requests().len();
    let out = run(dir.path(), &args, &[], b"");
    assert_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("HIBP_API_KEY"));
    assert_eq!(
        server.requests()[before..]
            .iter()
            .filter(|r| r.path.starts_with("/breachedaccount/"))
            .count(),
        0
    );
    // A rejected key is named, never printed.
    server.set(
        &format!("/breachedaccount/jane@gmail.com{QUERY}"),
        Reply::status(401),
    );
    let out = run(dir.path(), &args, &[("HIBP_API_KEY", KEY)], b"");
    assert_code(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("rejected the API key"));
    assert_no_secret(&out, &[KEY]);
}

/// A DNS server on 127.0.0.1: `corp.example` has MX and A, `nomx.example` exists with no
/// records, everything else is NXDOMAIN. Returns its address and the names it was asked.
fn dns_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(query) = q.queries.first().cloned() else {
                continue;
            };
            let name = query.name().to_ascii().trim_end_matches('.').to_string();
            log.lock()
                .unwrap()
                .push(format!("{name} {}", query.query_type()));
            let mut r = Message::response(q.metadata.id, OpCode::Query);
            r.add_query(query.clone());
            match (name.as_str(), query.query_type()) {
                ("corp.example", RecordType::MX) => r.answers.push(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::MX(MX::new(10, Name::from_ascii("mail.corp.example.").unwrap())),
                )),
                ("corp.example", RecordType::A) => r.answers.push(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::A(A::new(192, 0, 2, 1)),
                )),
                ("corp.example" | "nomx.example", _) => {}
                _ => r.metadata.response_code = ResponseCode::NXDomain,
            }
            let _ = sock.send_to(&r.to_vec().unwrap(), from);
        }
    });
    (addr, asked)
}

#[test]
fn lockfile_maintainers_ranked_with_unresolvable_domains() {
    let server = TestRegistry::start();
    for (name, maintainers) in [
        (
            "solo-expired",
            json!([{"name": "dev", "email": "dev@gone.example"}]),
        ),
        (
            "two-free",
            json!([{"name": "x", "email": "x@gmail.com"}, {"name": "y", "email": "y@corp.example"}]),
        ),
        (
            "nomx-team",
            json!([{"name": "z", "email": "z@nomx.example"}, {"name": "w", "email": "w@corp.example"}]),
        ),
    ] {
        server.set(
            &format!("/{name}"),
            Reply::json(&npm_doc(&server, name, maintainers)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut packages = json!({"": {"name": "app", "version": "1.0.0"}});
    for name in ["solo-expired", "two-free", "nomx-team"] {
        packages[format!("node_modules/{name}")] = json!({
            "version": "1.0.0",
            "resolved": format!("https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz"),
            "integrity": "sha512-AAAA"
        });
    }
    std::fs::write(
        dir.path().join("package-lock.json"),
        json!({"name": "app", "lockfileVersion": 3, "packages": packages}).to_string(),
    )
    .unwrap();
    let (dns, asked) = dns_server();
    let url = server.url();
    let resolver = dns.to_string();
    let out = run(
        dir.path(),
        &[
            "recon",
            "--lockfile",
            "package-lock.json",
            "--check-domains",
            "--resolver",
            &resolver,
            "--registry",
            &url,
            "--format",
            "json",
        ],
        &[],
        b"",
    );
    assert_code(&out, 1); // maintainer-domain-unresolvable is deny
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The history report is at the top; these sections are under "exposure".
    let v = v["exposure"].clone();
    let m = &v["maintainers"];
    assert_eq!(m["metrics"]["packages"], 3);
    assert_eq!(m["metrics"]["single_maintainer"], 1);
    assert_eq!(m["metrics"]["with_unresolvable_domain"], 2);
    let order: Vec<(&str, u64)> = m["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["package"].as_str().unwrap(), t["score"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [("solo-expired", 61), ("nomx-team", 52), ("two-free", 4)]
    );
    let msgs: Vec<&str> = m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "gone.example (NXDOMAIN): maintainer dev@gone.example of solo-expired",
            "nomx.example (no MX and no A record): maintainer z@nomx.example of nomx-team",
        ]
    );
    assert_eq!(m["domains"]["corp.example"]["status"], "resolves");
    let asked = asked.lock().unwrap().clone();
    assert!(asked.contains(&"nomx.example A".to_string()), "{asked:?}");
    assert!(
        !asked.iter().any(|a| a.starts_with("gmail.com")),
        "free-mail domains are not custom: {asked:?}"
    );

    // The human table ranks with reasons.
    let human = run(
        dir.path(),
        &[
            "recon",
            "--lockfile",
            "package-lock.json",
            "--check-domains",
            "--resolver",
            &resolver,
            "--registry",
            &url,
        ],
        &[],
        b"",
    );
    assert_code(&human, 1);
    let text = String::from_utf8_lossy(&human.stdout);
    insta::assert_snapshot!("recon_maintainers_human", text);
    assert!(
        text.contains("solo-expired")
            && text.contains(
                "maintainer domain gone.example does not resolve (NXDOMAIN); single maintainer"
            ),
        "{text}"
    );
}

#[test]
fn every_new_code_is_explained() {
    for code in [
        "password-breached",
        "password-reused",
        "password-weak",
        "email-in-breach",
        "registry-email-exposed",
        "maintainer-domain-unresolvable",
    ] {
        let out = run(Path::new("."), &["explain", code], &[], b"");
        assert_code(&out, 0);
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("# {code}")));
    }
}

/// The breach sections in Markdown and SARIF (snapshots of those sections), on the recon
/// fixture repository (a token of every format in its history), and no token, API key or
/// other secret in any of the four formats, stdout or stderr.
#[test]
fn breach_sections_in_every_format_and_no_secret_anywhere() {
    if !fixture::git_available() {
        eprintln!("SKIPPED: `git` is not on PATH");
        return;
    }
    let fx = fixture::build();
    let server = TestRegistry::start();
    let doc = npm_doc(
        &server,
        "widget",
        json!([{"name": "jane", "email": "jane@gmail.com"}, {"name": "ops", "email": "ops@corp.example"}]),
    );
    server.set("/widget", Reply::json(&doc));
    server.set(
        "/solo-dep",
        Reply::json(&npm_doc(
            &server,
            "solo-dep",
            json!([{"name": "dev", "email": "dev|<b>@gone.example"}]),
        )),
    );
    server.set(
        &format!("/breachedaccount/jane@gmail.com{QUERY}"),
        Reply::json(
            &json!([{"Name": "Adobe", "BreachDate": "2013-10-04", "DataClasses": ["Passwords"]}]),
        ),
    );
    // Every other address (the fixture's identities) is clean: 404.
    std::fs::write(
        fx.repo.join("package.json"),
        r#"{"name":"widget","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        fx.repo.join("package-lock.json"),
        json!({"name": "widget", "lockfileVersion": 3, "packages": {
            "": {"name": "widget", "version": "1.0.0"},
            "node_modules/solo-dep": {"version": "1.0.0", "integrity": "sha512-AAAA",
                "resolved": "https://registry.npmjs.org/solo-dep/-/solo-dep-1.0.0.tgz"}}})
        .to_string(),
    )
    .unwrap();
    let url = server.url();
    let cap = fixture::CAP.to_string();
    let mut outputs = BTreeMap::new();
    for format in ["human", "json", "sarif", "markdown"] {
        let args = [
            "recon",
            ".",
            "--max-blob-size",
            &cap,
            "--published",
            "--pwned",
            "--lockfile",
            "package-lock.json",
            "--registry",
            &url,
            "--hibp-url",
            &url,
            "--pypi-url",
            &url,
            "--format",
            format,
        ];
        let out = run(&fx.repo, &args, &[("HIBP_API_KEY", KEY)], b"");
        assert_code(&out, 1); // the history's tokens deny
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            fixture::assert_no_secret(&format!("{format} {stream}"), text, &fx);
            assert!(
                !text.contains(KEY),
                "the API key leaked in {format} {stream}"
            );
        }
        outputs.insert(format, stdout.replace(&url, "http://registry.test"));
    }
    // Markdown: the history tables, then the breach sections (snapshot of those).
    let md = &outputs["markdown"];
    assert!(md.starts_with("## turncoat recon"), "{md}");
    let sections = &md[md.find("\n### Published identities").expect(md)..];
    assert!(
        !sections.contains("<b>"),
        "markup from a registry reached the Markdown"
    );
    insta::assert_snapshot!("recon_breach_markdown", sections);

    // SARIF: the history's results and the sections' results in one run.
    let sarif: Value = serde_json::from_str(&outputs["sarif"]).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "publish-token-in-history")
    );
    let exposure: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["section"] == "exposure")
        .collect();
    let codes: BTreeSet<&str> = exposure
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(codes.contains("email-in-breach"), "{codes:?}");
    assert!(codes.contains("registry-email-exposed"), "{codes:?}");
    let rules: BTreeSet<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(codes.is_subset(&rules), "every result's rule is described");
    insta::assert_json_snapshot!("recon_breach_sarif_results", exposure);

    // JSON keeps its shape; human still prints the sections.
    let v: Value = serde_json::from_str(&outputs["json"]).unwrap();
    assert_eq!(v["exposure"]["breaches"]["pwned_accounts"], 1);
    assert_eq!(
        v["exposure"]["breaches"]["accounts"]
            .as_array()
            .map(Vec::len),
        v["exposure"]["breaches"]["checked"]
            .as_u64()
            .map(|n| n as usize)
    );
    assert!(outputs["human"].contains("Breached accounts (HIBP): 1 of"));
}
