//! The registry half of the drill against a real Verdaccio: a local one, then the same
//! registry used as a "team registry" through `--registry` and a user's `.npmrc`.
//! Skipped with a printed reason without node/npm/Verdaccio; a failure under
//! `TURNCOAT_TEST_REQUIRE_TOOLS=1`.
#![allow(clippy::print_stderr)]

use std::time::Duration;

use turncoat_exercise::canary::{CanarySpec, Scenario, generate};
use turncoat_exercise::registry::Registry;
use turncoat_sandbox::tools::find_on_path;

#[test]
fn publishes_to_a_local_verdaccio_and_to_a_team_registry_by_npmrc() {
    let tools = (
        find_on_path("node"),
        find_on_path("npm"),
        turncoat_exercise::registry::locate_verdaccio().ok(),
    );
    let (Some(node), Some(npm), Some(_)) = tools else {
        assert!(
            std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "TURNCOAT_TEST_REQUIRE_TOOLS=1 but node, npm or verdaccio is missing"
        );
        eprintln!("skipped: node, npm or verdaccio (TURNCOAT_VERDACCIO) not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let mut local =
        Registry::start_local(&node, &dir.path().join("v"), Duration::from_secs(60)).unwrap();
    assert!(local.url.starts_with("http://127.0.0.1:"));
    let spec = CanarySpec::new("0badf00d", &dir.path().join("marker"));
    let canary = generate(&spec, Scenario::Seed, b"");
    local
        .publish(&npm, &home, &canary.before[0], &dir.path().join("pkg"))
        .unwrap();

    // The same server as a team registry: the token is taken from "their" .npmrc.
    let team = Registry::remote(&local.url, &local.npmrc, &dir.path().join("team")).unwrap();
    team.publish(&npm, &home, &canary.trojan, &dir.path().join("pkg2"))
        .unwrap();
    let text = ureq::get(&format!("{}{}", local.url, canary.package))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let packument: serde_json::Value = serde_json::from_str(&text).unwrap();
    let versions: Vec<&String> = packument["versions"].as_object().unwrap().keys().collect();
    assert_eq!(versions, ["1.0.0", "1.0.1"]);
    assert!(
        !dir.path().join("marker").exists(),
        "publishing ran the canary"
    );

    // A .npmrc without a token for the URL is an error naming the line it needs.
    let anon = dir.path().join("anon.npmrc");
    std::fs::write(&anon, format!("registry={}\n", local.url)).unwrap();
    let err = Registry::remote(&local.url, &anon, &dir.path().join("anon")).unwrap_err();
    assert!(err.to_string().contains("_authToken"), "{err}");
    // A wrong token: the registry refuses the publish, and the error does not show it.
    let wrong = dir.path().join("wrong.npmrc");
    let host = local.url.trim_start_matches("http:");
    std::fs::write(&wrong, format!("{host}:_authToken=WRONGtoken0123456789\n")).unwrap();
    let bad = Registry::remote(&local.url, &wrong, &dir.path().join("wrong")).unwrap();
    let fresh = CanarySpec::new("0badf00e", &dir.path().join("marker"));
    let other = generate(&fresh, Scenario::Runtime, b"").before[0].clone();
    let err = bad
        .publish(&npm, &home, &other, &dir.path().join("pkg3"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("npm publish"), "{err}");
    assert!(!err.contains("WRONGtoken"), "{err}");
    let status = ureq::get(&format!("{}{}", local.url, other.name))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap()
        .status();
    assert_eq!(status, 404, "published with a wrong token");

    let addr = local
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    local.stop();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "verdaccio still listening"
    );
}
