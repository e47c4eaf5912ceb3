//! HIBP clients against a real HTTP server on 127.0.0.1 that implements the range API (with
//! padding lines) and `breachedaccount` (200, 404, 401, 429 with `retry-after`).

#[path = "../../turncoat-registry/tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Reply, TestRegistry};
use turncoat_recon::hibp::{
    AccountClient, ApiKey, BreachError, PasswordHash, PwnedPasswords, RangeClient,
};

const KEY: &str = "0123456789abcdef0123456789abcdef";
const QUERY: &str = "?truncateResponse=false&includeUnverified=false";

/// A padded range reply for `prefix`: 800 count-0 lines plus the given hits.
fn range_body(hits: &[(&PasswordHash, u64)]) -> String {
    let mut lines: Vec<String> = (0..800u32)
        .map(|i| format!("{:035X}:0", u128::from(i) * 7919))
        .collect();
    for (h, c) in hits {
        lines.push(format!("{}:{c}", h.suffix()));
    }
    lines.sort();
    lines.join("\r\n")
}

#[test]
fn range_api_sends_five_hex_digits_with_padding_and_ignores_padding_lines() {
    let server = TestRegistry::start();
    let breached = PasswordHash::of(b"hunter2");
    let clean = PasswordHash::of(b"a clean passphrase nobody used");
    // The clean password's suffix is served as a padding line (count 0): not a hit.
    server.set(
        &format!("/range/{}", breached.prefix()),
        Reply::ok(range_body(&[(&breached, 17_043)])),
    );
    server.set(
        &format!("/range/{}", clean.prefix()),
        Reply::ok(format!("{}:0\r\n{}", clean.suffix(), range_body(&[]))),
    );
    let mut client = RangeClient::new(&server.url(), Duration::from_secs(10)).unwrap();
    assert_eq!(client.count(&breached).unwrap(), 17_043);
    assert_eq!(client.count(&clean).unwrap(), 0);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        let tail = r.path.strip_prefix("/range/").expect("range path");
        assert_eq!(tail.len(), 5, "{}", r.path);
        assert!(tail.bytes().all(|b| b.is_ascii_hexdigit()), "{}", r.path);
        assert_eq!(r.header("add-padding"), Some("true"));
        let all = format!("{r:?}");
        for secret in [breached.suffix(), clean.suffix(), "hunter2"] {
            assert!(!all.contains(secret), "leaked {secret} in {all}");
        }
    }
}

#[test]
fn range_api_error_is_not_clean() {
    let server = TestRegistry::start();
    let h = PasswordHash::of(b"x");
    server.set(&format!("/range/{}", h.prefix()), Reply::status(503));
    let mut client = RangeClient::new(&server.url(), Duration::from_secs(10)).unwrap();
    assert!(matches!(
        client.count(&h),
        Err(BreachError::Status { status: 503, .. })
    ));
    server.set(
        &format!("/range/{}", h.prefix()),
        Reply::ok("<html>captcha</html>"),
    );
    assert!(matches!(
        client.count(&h),
        Err(BreachError::BadReply { .. })
    ));
}

fn account_client(server: &TestRegistry) -> AccountClient {
    let mut c = AccountClient::new(
        &server.url(),
        ApiKey::new(KEY).unwrap(),
        Duration::from_secs(10),
    )
    .unwrap();
    c.retries = 2;
    c.max_wait = Duration::from_secs(5);
    c
}

#[test]
fn breachedaccount_200_404_and_key_header() {
    let server = TestRegistry::start();
    server.set(
        &format!("/breachedaccount/pwned@example.com{QUERY}"),
        Reply::json(&json!([
            {"Name": "Adobe", "Title": "Adobe", "Domain": "adobe.com", "BreachDate": "2013-10-04",
             "DataClasses": ["Email addresses", "Passwords"], "IsVerified": true},
            {"Name": "LinkedIn", "Domain": "linkedin.com", "BreachDate": "2012-05-05",
             "DataClasses": ["Email addresses", "Passwords"]}
        ])),
    );
    server.set(
        &format!("/breachedaccount/clean@example.com{QUERY}"),
        Reply::status(404),
    );
    let client = account_client(&server);
    let b = client.breaches("pwned@example.com").unwrap();
    assert_eq!(
        b.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["Adobe", "LinkedIn"]
    );
    assert_eq!(b[0].data_classes.len(), 2);
    assert!(client.breaches("clean@example.com").unwrap().is_empty());
    for r in server.requests() {
        assert_eq!(r.header("hibp-api-key"), Some(KEY));
        assert!(r.header("user-agent").unwrap().contains("turncoat"));
    }
}

#[test]
fn breachedaccount_honours_retry_after() {
    let server = TestRegistry::start();
    server.hook(
        &format!("/breachedaccount/slow@example.com{QUERY}"),
        |_, hits| {
            if hits == 0 {
                Reply::status(429).header("retry-after", "1")
            } else {
                Reply::json(&json!([{"Name": "Canva"}]))
            }
        },
    );
    let client = account_client(&server);
    let t = Instant::now();
    let b = client.breaches("slow@example.com").unwrap();
    assert_eq!(b[0].name, "Canva");
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(
        server.hits(&format!("/breachedaccount/slow@example.com{QUERY}")),
        2
    );
}

#[test]
fn breachedaccount_retries_are_bounded_and_errors_hide_the_key() {
    let server = TestRegistry::start();
    let always = format!("/breachedaccount/always@example.com{QUERY}");
    server.set(&always, Reply::status(429).header("retry-after", "0"));
    server.set(
        &format!("/breachedaccount/long@example.com{QUERY}"),
        Reply::status(429).header("retry-after", "3600"),
    );
    server.set(
        &format!("/breachedaccount/bad@example.com{QUERY}"),
        Reply::status(401),
    );
    let client = account_client(&server);
    let e = client.breaches("always@example.com").unwrap_err();
    assert!(
        matches!(e, BreachError::RateLimited { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(server.hits(&always), 3, "1 try + 2 retries");
    let t = Instant::now();
    let e2 = client.breaches("long@example.com").unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "did not wait an hour");
    assert!(matches!(e2, BreachError::RateLimited { .. }), "{e2:?}");
    let e3 = client.breaches("bad@example.com").unwrap_err();
    assert!(matches!(e3, BreachError::BadApiKey { .. }), "{e3:?}");
    for e in [&e, &e2, &e3] {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
    assert!(!format!("{:?}", ApiKey::new(KEY).unwrap()).contains(KEY));
}

#[test]
fn the_key_never_travels_in_plaintext_and_redirects_are_not_followed() {
    // http to anything but loopback is refused before a connection is made.
    let c = AccountClient::new(
        "http://hibp.example/api/v3",
        ApiKey::new(KEY).unwrap(),
        Duration::from_secs(1),
    )
    .unwrap();
    let e = c.breaches("a@example.com").unwrap_err();
    assert!(e.to_string().contains("only https"), "{e}");
    assert!(!format!("{e} {e:?}").contains(KEY));

    // A redirect (to wherever) is an error, not followed with the key.
    let server = TestRegistry::start();
    let other = TestRegistry::start();
    server.set(
        &format!("/breachedaccount/a@example.com{QUERY}"),
        Reply::redirect(&format!("{}steal", other.url())),
    );
    let e = account_client(&server)
        .breaches("a@example.com")
        .unwrap_err();
    assert!(
        matches!(e, BreachError::Status { status: 302, .. }),
        "{e:?}"
    );
    assert!(other.requests().is_empty(), "followed the redirect");
}

#[test]
fn an_endless_reply_is_cut_off() {
    let server = TestRegistry::start();
    let h = PasswordHash::of(b"x");
    server.set(
        &format!("/range/{}", h.prefix()),
        Reply::ok(vec![b'0'; (16 << 20) + 10]),
    );
    let mut client = RangeClient::new(&server.url(), Duration::from_secs(20)).unwrap();
    let e = client.count(&h).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
}
