//! The one HTTP GET the breach and registry clients share: ureq (the workspace's client, as in
//! `turncoat-registry`), no redirects, bounded bodies, plain http only to loopback (tests).
//!
//! Header values passed in (an API key) are never part of an error message.

use std::io::Read;
use std::time::Duration;

use crate::hibp::BreachError;

/// Largest body read from the breach APIs (a padded range reply is ~40 KiB).
pub(crate) const MAX_BODY: u64 = 16 << 20;
/// Largest PyPI JSON document (it lists every release's files: tens of MiB for the biggest).
pub(crate) const MAX_DOCUMENT: u64 = 128 << 20;

pub(crate) struct Web {
    agent: ureq::Agent,
}

pub(crate) struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Web {
    pub(crate) fn new(timeout: Duration) -> Web {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(concat!(
                "turncoat-recon/",
                env!("CARGO_PKG_VERSION"),
                " (maintainer account checks)"
            ))
            .build()
            .into();
        Web { agent }
    }

    /// GET `url` with `headers`; any status is returned, the body is capped at [`MAX_BODY`].
    pub(crate) fn get(
        &self,
        url: &url::Url,
        headers: &[(&str, &str)],
    ) -> Result<Reply, BreachError> {
        self.get_limited(url, headers, MAX_BODY)
    }

    /// [`Web::get`] with a body cap of `limit` bytes.
    pub(crate) fn get_limited(
        &self,
        url: &url::Url,
        headers: &[(&str, &str)],
        limit: u64,
    ) -> Result<Reply, BreachError> {
        let shown = shown(url);
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(url) => {}
            _ => {
                return Err(BreachError::Http {
                    url: shown,
                    message: "only https (or http to 127.0.0.1) is allowed".into(),
                });
            }
        }
        let mut rb = self.agent.get(url.as_str());
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let mut resp = rb.call().map_err(|e| BreachError::Http {
            url: shown.clone(),
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| BreachError::Http {
                url: shown.clone(),
                message: e.to_string(),
            })?;
        if body.len() as u64 > limit {
            return Err(BreachError::Http {
                url: shown,
                message: format!("reply larger than {limit} bytes"),
            });
        }
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }
}

/// The URL without query or credentials, for messages.
pub(crate) fn shown(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// `base` joined with path segments, each percent-encoded (an e-mail's `@` and `+` included).
pub(crate) fn join(base: &url::Url, segments: &[&str]) -> Result<url::Url, BreachError> {
    let mut u = base.clone();
    {
        let mut p = u.path_segments_mut().map_err(|()| BreachError::Http {
            url: shown(base),
            message: "not a base URL".into(),
        })?;
        p.pop_if_empty();
        for s in segments {
            p.push(s);
        }
    }
    Ok(u)
}

pub(crate) fn parse_base(s: &str) -> Result<url::Url, BreachError> {
    url::Url::parse(s).map_err(|e| BreachError::Http {
        url: s.to_string(),
        message: format!("invalid base URL: {e}"),
    })
}
