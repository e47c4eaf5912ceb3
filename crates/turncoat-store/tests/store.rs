//! The store on both backends: the same calls give the same answers.
//!
//! PostgreSQL tests need `TURNCOAT_TEST_POSTGRES` (a DSN; `scripts/with-postgres.sh` starts
//! one). Without it they print why they skip, unless `TURNCOAT_TEST_REQUIRE_TOOLS=1`, where
//! they fail. Each PostgreSQL test works in its own fresh database.
#![allow(clippy::print_stderr)]

use time::OffsetDateTime;
use turncoat_metrics::Sample;
use turncoat_store::{IndexedLockfile, IndexedPackage, Location, Query, SampleFilter, Store};

/// A fresh PostgreSQL database, or None (skip) when no server is configured.
pub fn postgres_location(test: &str) -> Option<Location> {
    let Ok(dsn) = std::env::var("TURNCOAT_TEST_POSTGRES") else {
        assert!(
            std::env::var("TURNCOAT_TEST_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "TURNCOAT_TEST_POSTGRES is not set and TURNCOAT_TEST_REQUIRE_TOOLS=1: \
             run under scripts/with-postgres.sh"
        );
        eprintln!("skipping {test} on PostgreSQL: TURNCOAT_TEST_POSTGRES is not set");
        return None;
    };
    let db = format!("t_{}_{}", test, std::process::id());
    // CREATE DATABASE copies template1 and fails while another copy is under way.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut admin = postgres::Client::connect(&dsn, postgres::NoTls).expect("connect");
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin.batch_execute(&sql).expect("create database");
    }
    let base = dsn.rsplit_once('/').map(|(b, _)| b).unwrap_or(&dsn);
    Some(Location::Postgres(format!("{base}/{db}")))
}

fn backends(test: &str) -> Vec<(Location, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![(Location::Sqlite(dir.path().join("store.sqlite")), Some(dir))];
    if let Some(pg) = postgres_location(test) {
        out.push((pg, None));
    }
    out
}

fn pkg(name: &str, version: &str, line: u32) -> IndexedPackage {
    IndexedPackage {
        name: name.into(),
        version: version.into(),
        integrity: Some(format!("sha512-{name}{version}")),
        dev: name.starts_with("dev-"),
        optional: false,
        install_script: if name == "evil" { Some(true) } else { None },
        dep_path: format!("app > {name}"),
        line,
    }
}

fn lockfile(path: &str, blob: &str, pkgs: Vec<IndexedPackage>) -> IndexedLockfile {
    IndexedLockfile {
        path: path.into(),
        blob: blob.into(),
        format: "package-lock-v3".into(),
        packages: Some(pkgs),
    }
}

fn exact(name: &str, v: &str) -> Query {
    Query::Versions {
        name: name.into(),
        versions: vec![v.into()],
    }
}

/// What one backend answers to a fixed sequence of calls (compared across backends).
fn scenario(loc: &Location) -> String {
    let mut s = Store::open(loc, 1000).unwrap();
    let mut log = Vec::new();
    assert_eq!(
        s.schema_version().unwrap(),
        turncoat_store::schema::SCHEMA_VERSION
    );
    let lf = lockfile(
        "package-lock.json",
        "b1",
        vec![
            pkg("evil", "1.0.0", 10),
            pkg("left-pad", "1.3.0", 20),
            pkg("dev-x", "2.0.0", 30),
        ],
    );
    let st = s
        .put_ref("/org/a", "main", "c1", std::slice::from_ref(&lf), 1001)
        .unwrap();
    log.push(format!("{st:?}"));
    let st = s
        .put_ref(
            "/org/b",
            "main",
            "c9",
            &[lockfile(
                "web/yarn.lock",
                "b2",
                vec![pkg("evil", "1.0.1", 5)],
            )],
            1001,
        )
        .unwrap();
    log.push(format!("{st:?}"));
    // Unchanged blob: kept, not rewritten.
    let kept = IndexedLockfile {
        packages: None,
        ..lf.clone()
    };
    let st = s.put_ref("/org/a", "main", "c2", &[kept], 1002).unwrap();
    assert_eq!(st.lockfiles_kept, 1);
    assert_eq!(st.packages_written, 0);
    let state = s.ref_state("/org/a", "main").unwrap();
    assert_eq!(state.commit.as_deref(), Some("c2"));
    assert_eq!(state.lockfiles["package-lock.json"], "b1");
    let hits = s.who_has(&exact("evil", "1.0.0")).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].repo.as_str(), hits[0].commit.as_str(), hits[0].line),
        ("/org/a", "c2", 10)
    );
    assert_eq!(hits[0].install_script, Some(true));
    log.push(serde_json::to_string(&hits).unwrap());
    let by_sri = s
        .who_has(&Query::Integrity("sha512-evil1.0.1".into()))
        .unwrap();
    assert_eq!(by_sri.len(), 1);
    assert_eq!(by_sri[0].lockfile, "web/yarn.lock");
    log.push(serde_json::to_string(&by_sri).unwrap());
    assert_eq!(s.versions_of("evil").unwrap(), vec!["1.0.0", "1.0.1"]);
    // A lockfile no longer in the ref is removed with its packages.
    let st = s.put_ref("/org/a", "main", "c3", &[], 1003).unwrap();
    assert_eq!(st.lockfiles_removed, 1);
    assert!(s.who_has(&exact("evil", "1.0.0")).unwrap().is_empty());
    // Deleted branches are forgotten.
    s.put_ref(
        "/org/b",
        "feature",
        "c10",
        &[lockfile("yarn.lock", "b3", vec![pkg("evil", "1.0.0", 1)])],
        1004,
    )
    .unwrap();
    assert_eq!(s.who_has(&exact("evil", "1.0.0")).unwrap().len(), 1);
    assert_eq!(s.retain_refs("/org/b", &["main".to_string()]).unwrap(), 1);
    assert!(s.who_has(&exact("evil", "1.0.0")).unwrap().is_empty());
    log.push(format!("{:?}", s.index_counts().unwrap()));

    // Samples.
    let at = |t| OffsetDateTime::from_unix_timestamp(t).unwrap();
    let a = Sample::new("time-to-remediate", 7200.0, at(5000), "INC-1")
        .unwrap()
        .with("event", "close");
    let b = Sample::new("signed-commits-pct", 40.0, at(4000), "repo-a").unwrap();
    let c = Sample::new("signed-commits-pct", 60.0, at(6000), "repo-a").unwrap();
    s.record(&[a.clone(), b.clone(), c.clone()]).unwrap();
    assert_eq!(
        s.samples(&SampleFilter::default()).unwrap(),
        vec![b.clone(), a.clone(), c.clone()]
    );
    let f = SampleFilter {
        metric: Some("signed-commits-pct".into()),
        since: Some(5000),
        ..Default::default()
    };
    assert_eq!(s.samples(&f).unwrap(), vec![c.clone()]);
    assert_eq!(s.latest_samples().unwrap(), vec![c.clone(), a.clone()]);
    log.push(serde_json::to_string(&s.latest_samples().unwrap()).unwrap());

    // Incidents.
    s.open_incident("INC-1", &["evil@1.0.0".into()], &Default::default(), 100)
        .unwrap();
    assert!(
        s.open_incident("INC-1", &[], &Default::default(), 101)
            .is_err()
    );
    s.add_items("INC-1", &["rotate NPM_TOKEN".into(), "rotate AWS".into()])
        .unwrap();
    s.add_items("INC-1", &["rotate NPM_TOKEN".into(), "purge caches".into()])
        .unwrap();
    assert!(s.check_item("INC-1", "rotate AWS", 150).unwrap());
    assert!(s.check_item("INC-1", "rotate AWS", 160).unwrap());
    assert!(!s.check_item("INC-1", "nope", 160).unwrap());
    assert!(
        s.close_incident("INC-1", 200, Some("fixed"), false)
            .unwrap()
    );
    assert!(!s.close_incident("INC-1", 300, None, false).unwrap());
    let inc = s.incident("INC-1").unwrap().unwrap();
    assert_eq!(inc.closed_at, Some(200));
    let items: Vec<_> = inc
        .items
        .iter()
        .map(|i| (i.item.as_str(), i.checked_at))
        .collect();
    assert_eq!(
        items,
        vec![
            ("rotate NPM_TOKEN", None),
            ("rotate AWS", Some(150)),
            ("purge caches", None)
        ]
    );
    log.push(serde_json::to_string(&s.incidents().unwrap()).unwrap());
    log.join("\n")
}

#[test]
fn sqlite_and_postgres_give_the_same_answers() {
    let mut answers = Vec::new();
    let backends = backends("same");
    for (loc, _dir) in &backends {
        answers.push((loc.display(), scenario(loc)));
    }
    for w in answers.windows(2) {
        assert_eq!(w[0].1, w[1].1, "{} and {} differ", w[0].0, w[1].0);
    }
}

#[test]
fn migrations_run_once_from_empty_and_reopen() {
    for (loc, _dir) in backends("migrate") {
        let mut s = Store::open(&loc, 1).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            turncoat_store::schema::SCHEMA_VERSION
        );
        drop(s);
        let mut s = Store::open(&loc, 2).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            turncoat_store::schema::SCHEMA_VERSION
        );
    }
}

#[test]
fn a_store_from_a_newer_turncoat_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    Store::open(&Location::Sqlite(path.clone()), 1).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("INSERT INTO schema_version VALUES (999, 1)", [])
        .unwrap();
    drop(c);
    let e = Store::open(&Location::Sqlite(path), 1)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("newer"), "{e}");
}

#[test]
fn concurrent_writers_lose_nothing() {
    for (loc, _dir) in backends("concurrent") {
        Store::open(&loc, 1).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let loc = loc.clone();
                std::thread::spawn(move || {
                    let mut s = Store::open(&loc, 1).unwrap();
                    for r in 0..10 {
                        let pkgs = (0..50).map(|i| pkg(&format!("p{i}"), "1.0.0", i)).collect();
                        s.put_ref(
                            &format!("/org/{t}-{r}"),
                            "main",
                            "c",
                            &[lockfile("package-lock.json", "b", pkgs)],
                            1,
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut s = Store::open(&loc, 1).unwrap();
        assert_eq!(
            s.index_counts().unwrap(),
            (80, 80, 4000),
            "{}",
            loc.display()
        );
    }
}

#[test]
fn monitor_state_round_trips_and_upserts_on_both_backends() {
    for (loc, _dir) in backends("monitor_state") {
        let mut s = Store::open(&loc, 1_700_000_000).unwrap();
        assert_eq!(s.monitor_state("npm", "left-pad").unwrap(), None);
        let mut st = turncoat_store::MonitorState {
            ecosystem: "npm".into(),
            name: "left-pad".into(),
            etag: Some("W/\"abc\"".into()),
            snapshot: Some("{\"name\":\"left-pad\"}".into()),
            last_poll: 1_700_000_100,
            ..Default::default()
        };
        s.put_monitor_state(&st).unwrap();
        assert_eq!(
            s.monitor_state("npm", "left-pad").unwrap(),
            Some(st.clone())
        );
        // A failed poll keeps the snapshot and records the backoff.
        st.failures = 2;
        st.next_poll = 1_700_000_400;
        st.last_error = Some("HTTP 503".into());
        s.put_monitor_state(&st).unwrap();
        // Another ecosystem is another package.
        let other = turncoat_store::MonitorState {
            ecosystem: "pypi".into(),
            name: "left-pad".into(),
            ..Default::default()
        };
        s.put_monitor_state(&other).unwrap();
        drop(s);
        let mut s = Store::open(&loc, 1_700_000_500).unwrap();
        assert_eq!(
            s.monitor_state("npm", "left-pad").unwrap(),
            Some(st),
            "{loc:?}"
        );
        assert_eq!(s.monitor_states("npm").unwrap().len(), 1);
        assert_eq!(s.monitor_states("pypi").unwrap(), [other]);
    }
}
