//! Where `turncoat monitor`'s alerts go: stdout (human or JSON Lines), an appended JSON Lines
//! file, and a webhook POST per alert.
//!
//! The webhook URL comes from the command line only. Nothing in a registry document (homepage,
//! repository, tarball or attestation URLs) is ever contacted by the alerting path, and the
//! webhook's redirects are not followed (a redirect is a failed delivery), so package data
//! cannot steer where alerts, or the webhook's credentials, go. The URL itself may carry a
//! secret (user info, a token in the path or query, as Slack-style hooks do): it is shown only
//! as `scheme://host:port/…`.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use turncoat_monitor::{AlertLevel, Event};

/// One alert: a monitor event plus what the monitor knows around it.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    #[serde(flatten)]
    pub event: Event,
    /// One of the team's own packages (`--own`).
    pub own: bool,
    /// The locked version a new version was judged against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<String>,
    /// The registry's publish time of `version` (Unix seconds; its claim).
    #[serde(skip)]
    pub published: Option<i64>,
    /// The gate's verdict on the update from `locked` (`pass`, `warn`, `block`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The gate's finding codes (not allowed by the policy, not excepted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// The registry polled (no credentials, no query).
    pub registry: String,
    /// RFC 3339, UTC.
    pub at: String,
}

impl Alert {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn human(&self) -> String {
        let e = &self.event;
        let mut s = format!(
            "{:<5}  {}  [{}]",
            e.level.as_str().to_ascii_uppercase(),
            e.message,
            e.code
        );
        if let Some(v) = &self.verdict {
            let from = self.locked.as_deref().unwrap_or("?");
            s.push_str(&format!(
                "\n       gate {from} -> {}: {v}",
                e.version.as_deref().unwrap_or("?")
            ));
            if !self.findings.is_empty() {
                s.push_str(&format!(" ({})", self.findings.join(", ")));
            }
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertFormat {
    Human,
    Jsonl,
}

/// The configured destinations.
pub struct Sinks {
    pub format: AlertFormat,
    pub file: Option<PathBuf>,
    pub webhook: Option<Webhook>,
}

impl Sinks {
    /// Deliver `alerts` everywhere; Err names the first destination that failed (after
    /// the webhook's retries). Stdout is written first, so an alert is seen even when a
    /// webhook is down.
    pub fn deliver(&self, alerts: &[Alert]) -> anyhow::Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for a in alerts {
            match self.format {
                AlertFormat::Human => text.push_str(&a.human()),
                AlertFormat::Jsonl => text.push_str(&a.json()),
            }
            text.push('\n');
        }
        crate::output::emit(&text, None)?;
        if let Some(path) = &self.file {
            append(path, alerts)?;
        }
        if let Some(hook) = &self.webhook {
            for a in alerts {
                hook.post(&a.json())?;
            }
        }
        Ok(())
    }
}

fn append(path: &Path, alerts: &[Alert]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the alerts file {}", path.display()))?;
    let mut buf = String::new();
    for a in alerts {
        buf.push_str(&a.json());
        buf.push('\n');
    }
    // One write per batch: concurrent monitors appending to one file do not interleave lines.
    f.write_all(buf.as_bytes())
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// A webhook from `--webhook`.
pub struct Webhook {
    url: url::Url,
    agent: ureq::Agent,
    attempts: u32,
    backoff: Duration,
}

impl Webhook {
    /// https anywhere; plain http only to loopback (a cleartext alert, and any token in the
    /// URL, would cross the network otherwise).
    pub fn new(raw: &str) -> anyhow::Result<Webhook> {
        let url = url::Url::parse(raw.trim())
            .map_err(|e| anyhow::anyhow!("--webhook is not a URL ({e})"))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => anyhow::bail!(
                "--webhook {} must be https:// (plain http only to 127.0.0.1)",
                redact_webhook(&url)
            ),
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(15)))
            .user_agent(concat!("turncoat/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Webhook {
            url,
            agent,
            attempts: 3,
            backoff: Duration::from_millis(500),
        })
    }

    /// For messages: never the path, query or user info, which may hold the hook's secret.
    pub fn shown(&self) -> String {
        redact_webhook(&self.url)
    }

    /// POST `body`; a non-2xx answer or a network error is retried with backoff, then
    /// reported.
    fn post(&self, body: &str) -> anyhow::Result<()> {
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(self.backoff.saturating_mul(1 << (attempt - 1)));
            }
            let sent = self
                .agent
                .post(self.url.as_str())
                .header("content-type", "application/json")
                .send(body);
            match sent {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
                // ureq's message may quote the URL: say only what kind of failure it was.
                Err(e) => last = error_kind(&e),
            }
        }
        anyhow::bail!(
            "webhook {} failed after {} attempts: {last}",
            self.shown(),
            self.attempts
        )
    }
}

fn error_kind(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("connection failed ({})", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        _ => "request failed".into(),
    }
}

/// `https://user:pw@hooks.example/services/T0/B0/secret?token=x` → `https://hooks.example/…`.
pub fn redact_webhook(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

/// The loudest level among `alerts`.
pub fn loudest(alerts: &[Alert]) -> Option<AlertLevel> {
    alerts.iter().map(|a| a.event.level).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts() -> Vec<Alert> {
        let at = "2026-06-01T00:00:00Z".to_string();
        let registry = "https://registry.npmjs.org/".to_string();
        let takeover = turncoat_monitor::Event::new(
            &turncoat_monitor::rules::takeover::RULE,
            "acme-cli",
            Some("2.4.1"),
            "TAKEOVER ALARM: acme-cli@2.4.1 was published by `mallory`, who is not in the roster",
        );
        let mut new_version = turncoat_monitor::Event::new(
            &turncoat_monitor::rules::new_version::RULE,
            "left-pad",
            Some("1.0.1"),
            "new version left-pad@1.0.1 published",
        );
        new_version.level = AlertLevel::Block;
        new_version.severity = turncoat_finding::Severity::High;
        vec![
            Alert {
                event: takeover,
                own: true,
                locked: None,
                published: Some(1),
                verdict: None,
                findings: Vec::new(),
                registry: registry.clone(),
                at: at.clone(),
            },
            Alert {
                event: new_version,
                own: false,
                locked: Some("1.0.0".into()),
                published: Some(1),
                verdict: Some("block".into()),
                findings: vec!["new-install-script".into(), "release-too-new".into()],
                registry,
                at,
            },
        ]
    }

    #[test]
    fn human_and_json_lines() {
        let text: Vec<String> = alerts()
            .iter()
            .flat_map(|a| [a.human(), a.json()])
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }

    #[test]
    fn webhook_urls_are_shown_without_secrets_and_must_be_https() {
        let w = Webhook::new("http://u:hunter2@127.0.0.1:9/hook/s3cret?token=t0k").unwrap();
        let shown = w.shown();
        assert_eq!(shown, "http://127.0.0.1:9/…");
        let e = Webhook::new("http://hooks.example.com/s3cret")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        assert!(e.contains("https"), "{e}");
        assert!(Webhook::new("file:///etc/passwd").is_err());
        assert!(Webhook::new("https://hooks.example.com/x").is_ok());
    }
}
