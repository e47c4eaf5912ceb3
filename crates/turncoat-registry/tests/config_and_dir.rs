//! `.npmrc` loading and the directory-backed registry.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use support::{Reply, TestRegistry, package_tgz, packument};
use turncoat_npm::{Integrity, PackageName};
use turncoat_registry::{
    Cache, Client, ClientOptions, ConfigError, ProxySetting, RegistryConfig, RegistryError,
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn name(s: &str) -> PackageName {
    PackageName::new(s).unwrap()
}

fn options() -> ClientOptions {
    ClientOptions {
        retries: 0,
        proxy: ProxySetting::None,
        timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

#[test]
fn npmrc_precedence_scopes_and_env() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".npmrc"),
        "; user config\n\
         registry=https://user.example/npm/\n\
         @corp:registry=https://corp.example/\n\
         //corp.example/:_authToken=${CORP_TOKEN}\n\
         # comment\n\
         @other:registry = \"https://other.example\"\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join(".npmrc"),
        "registry = https://project.example/\n[section]\nfoo[]=bar\n",
    )
    .unwrap();
    let e = env(&[
        ("HOME", home.path().to_str().unwrap()),
        ("CORP_TOKEN", "npm_CORP"),
    ]);
    let c = RegistryConfig::load_with_env(project.path(), None, &e).unwrap();
    assert_eq!(c.registry().as_str(), "https://project.example/");
    assert_eq!(
        c.registry_for(&name("@corp/lib")).as_str(),
        "https://corp.example/"
    );
    assert_eq!(
        c.registry_for(&name("@other/lib")).as_str(),
        "https://other.example/"
    );
    assert_eq!(
        c.registry_for(&name("lodash")).as_str(),
        "https://project.example/"
    );
    assert!(c.has_credentials());
    assert_eq!(c.sources().len(), 2);
    assert!(!format!("{c:?}").contains("npm_CORP"));

    // --registry beats both files; scopes stay.
    let c = RegistryConfig::load_with_env(project.path(), Some("http://127.0.0.1:9/"), &e).unwrap();
    assert_eq!(c.registry().as_str(), "http://127.0.0.1:9/");
    assert_eq!(
        c.registry_for(&name("@corp/x")).as_str(),
        "https://corp.example/"
    );

    // No files at all: the public registry.
    let empty = tempfile::tempdir().unwrap();
    let c = RegistryConfig::load_with_env(
        empty.path(),
        None,
        &env(&[("HOME", empty.path().to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(c.registry().as_str(), "https://registry.npmjs.org/");
    assert!(!c.has_credentials());
}

#[test]
fn npm_config_userconfig_and_missing_env() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("custom-npmrc");
    std::fs::write(&user, "//r.example/:_authToken=${NPM_TOKEN}\n").unwrap();
    let e = env(&[("NPM_CONFIG_USERCONFIG", user.to_str().unwrap())]);
    let err = RegistryConfig::load_with_env(dir.path(), None, &e).unwrap_err();
    assert!(matches!(&err, ConfigError::MissingEnv { var, line: 1, .. } if var == "NPM_TOKEN"));
    let msg = err.to_string();
    assert!(
        msg.contains("NPM_TOKEN") && msg.contains("custom-npmrc:1"),
        "{msg}"
    );

    let e = env(&[
        ("NPM_CONFIG_USERCONFIG", user.to_str().unwrap()),
        ("NPM_TOKEN", "npm_VALUE"),
    ]);
    let c = RegistryConfig::load_with_env(dir.path(), None, &e).unwrap();
    assert!(c.has_credentials());
}

#[test]
fn bad_registry_urls_are_config_errors() {
    for bad in ["ftp://x/", "not a url", "https://user:pw@host/"] {
        let err = RegistryConfig::with_registry(bad).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidRegistry { .. }), "{bad}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}

#[test]
fn credentials_go_only_to_their_prefix() {
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    a.publish("@corp/lib", &[("1.0.0", b"x")]);
    b.publish("pub", &[("1.0.0", b"x")]);
    // Credentials as .npmrc writes them: a bearer token for a, username + password for b.
    let npmrc = format!(
        "registry={b}\n@corp:registry={a}\n//{ah}/:_authToken=npm_A\n//{bh}/:username=bob\n//{bh}/:_password=c2VjcmV0\n",
        a = a.url(),
        b = b.url(),
        ah = a.addr(),
        bh = b.addr(),
    );
    let config =
        RegistryConfig::from_npmrc(&[(Path::new(".npmrc"), npmrc.as_str())], None, &env(&[]))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = Client::new(config, Cache::new(dir.path()), options()).unwrap();
    c.packument(&name("@corp/lib")).unwrap();
    c.packument(&name("pub")).unwrap();
    assert_eq!(
        a.requests()[0].header("authorization"),
        Some("Bearer npm_A")
    );
    // base64("bob:secret")
    assert_eq!(
        b.requests()[0].header("authorization"),
        Some("Basic Ym9iOnNlY3JldA==")
    );
}

fn write_dir_registry(root: &Path) -> (Vec<u8>, Vec<u8>) {
    let plain = package_tgz("leftpad", "1.0.0");
    let scoped = package_tgz("@demo/evil", "2.0.0");
    // A mirror copy keeps the public registry's tarball URLs.
    for (n, v, tgz) in [
        ("leftpad", "1.0.0", &plain),
        ("@demo/evil", "2.0.0", &scoped),
    ] {
        let doc = packument(n, "https://registry.npmjs.org/", &[(v, tgz)]);
        let dir = root.join(n);
        std::fs::create_dir_all(dir.join("-")).unwrap();
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
        let base = n.rsplit('/').next().unwrap();
        std::fs::write(dir.join("-").join(format!("{base}-{v}.tgz")), tgz).unwrap();
    }
    let att = root.join("-/npm/v1/attestations/@demo");
    std::fs::create_dir_all(&att).unwrap();
    std::fs::write(att.join("evil@2.0.0.json"), br#"{"attestations":[]}"#).unwrap();
    (plain, scoped)
}

#[test]
fn directory_registry_serves_the_same_api() {
    let root = tempfile::tempdir().unwrap();
    let (plain, scoped) = write_dir_registry(root.path());
    let url = url_of(root.path());
    let config = RegistryConfig::with_registry(&url).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Works offline too: the directory is local.
    let c = Client::new(
        config,
        Cache::new(cache.path()),
        ClientOptions {
            offline: true,
            ..options()
        },
    )
    .unwrap();

    let p = c.packument(&name("@demo/evil")).unwrap();
    assert!(p.versions.contains_key("2.0.0"));
    assert_eq!(
        c.tarball(&name("@demo/evil"), "2.0.0", None, None).unwrap(),
        scoped
    );
    // A lockfile written against the public registry resolves into the directory.
    let resolved = "https://registry.npmjs.org/leftpad/-/leftpad-1.0.0.tgz";
    assert_eq!(
        c.tarball(
            &name("leftpad"),
            "1.0.0",
            Some(resolved),
            Some(&Integrity::sha512_of(&plain))
        )
        .unwrap(),
        plain
    );
    assert_eq!(
        c.version(&name("leftpad"), "1.0.0")
            .unwrap()
            .version
            .as_deref(),
        Some("1.0.0")
    );
    assert!(
        c.attestations(&name("@demo/evil"), "2.0.0")
            .unwrap()
            .is_some()
    );
    assert_eq!(c.attestations(&name("leftpad"), "1.0.0").unwrap(), None);
    assert!(matches!(
        c.keys(),
        Err(RegistryError::Http { status: 404, .. })
    ));
    assert!(matches!(
        c.packument(&name("absent")),
        Err(RegistryError::NotFound { version: None, .. })
    ));
    assert!(matches!(
        c.tarball(
            &name("leftpad"),
            "9.0.0",
            None,
            Some(&Integrity::sha512_of(b"q"))
        ),
        Err(RegistryError::NotFound { .. })
    ));
    // Wrong integrity from the lockfile is caught for local files too.
    assert!(matches!(
        c.tarball(
            &name("leftpad"),
            "1.0.0",
            None,
            Some(&Integrity::sha512_of(b"q"))
        ),
        Err(RegistryError::Integrity { .. })
    ));
    // Hostile versions never become paths.
    assert!(matches!(
        c.tarball(&name("leftpad"), "../../../etc/passwd", None, None),
        Err(RegistryError::InvalidVersion(_))
    ));
    assert!(matches!(
        c.attestations(&name("leftpad"), "1.0.0/../../x"),
        Err(RegistryError::InvalidVersion(_))
    ));
    // Hostile names cannot even be constructed.
    assert!(PackageName::new("../../etc").is_err());
}

#[test]
fn dir_registry_for_one_scope_next_to_http() {
    let root = tempfile::tempdir().unwrap();
    let (_, scoped) = write_dir_registry(root.path());
    let http = TestRegistry::start();
    let tgz = package_tgz("pub", "1.0.0");
    http.publish("pub", &[("1.0.0", &tgz)]);
    http.set("/other", Reply::status(404));
    let config = RegistryConfig::with_registry(&http.url())
        .unwrap()
        .with_scope_registry("@demo", &url_of(root.path()))
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let c = Client::new(config, Cache::new(cache.path()), options()).unwrap();
    assert_eq!(
        c.tarball(&name("@demo/evil"), "2.0.0", None, None).unwrap(),
        scoped
    );
    assert_eq!(c.tarball(&name("pub"), "1.0.0", None, None).unwrap(), tgz);
    assert_eq!(http.hits("/@demo%2fevil"), 0);
}

fn url_of(p: &Path) -> String {
    format!("file://{}/", p.display())
}
