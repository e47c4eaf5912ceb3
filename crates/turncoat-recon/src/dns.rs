//! Does a maintainer's mail domain still exist? One MX and one A query over UDP to a
//! configurable nameserver (`--resolver ADDR`, default the first `nameserver` of
//! `/etc/resolv.conf`).
//!
//! Messages are built and parsed with `hickory-proto` (no async runtime); the transport is a
//! std `UdpSocket`, a few lines, so tests point it at a server on 127.0.0.1. A reply is
//! accepted only from the queried server, with the query's id and question.
//!
//! Verdict ([`DomainStatus`]): `NXDOMAIN`, or `NOERROR` without MX and without A records, is
//! **unresolvable** (whoever registers the domain receives the maintainer's password-reset
//! mail). A timeout, `SERVFAIL` or a malformed reply is **unknown**: never reported as
//! unresolvable (fail closed: no claim without an answer), and shown as "could not check".

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum DomainStatus {
    Resolves,
    Unresolvable { why: String },
    Unknown { why: String },
}

pub struct Resolver {
    server: SocketAddr,
    /// Per attempt. Default 2 s.
    pub timeout: Duration,
    /// Attempts per query. Default 2.
    pub attempts: u32,
}

impl Resolver {
    pub fn new(server: SocketAddr) -> Resolver {
        Resolver {
            server,
            timeout: Duration::from_secs(2),
            attempts: 2,
        }
    }

    /// The first `nameserver` of `/etc/resolv.conf`.
    pub fn system() -> Option<Resolver> {
        let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
        nameserver_of(&text).map(Resolver::new)
    }

    /// MX, then A: resolves when either has a record.
    pub fn status(&self, domain: &str) -> DomainStatus {
        let name = match Name::from_ascii(domain.trim_end_matches('.')) {
            Ok(mut n) => {
                n.set_fqdn(true);
                n
            }
            Err(e) => {
                return DomainStatus::Unknown {
                    why: format!("not a domain name: {e}"),
                };
            }
        };
        let mut empty = Vec::new();
        for rtype in [RecordType::MX, RecordType::A] {
            match self.query(&name, rtype) {
                Ok(reply) => match reply.metadata.response_code {
                    ResponseCode::NXDomain => {
                        return DomainStatus::Unresolvable {
                            why: "NXDOMAIN".into(),
                        };
                    }
                    ResponseCode::NoError => {
                        if reply.answers.iter().any(|r| r.record_type() == rtype) {
                            return DomainStatus::Resolves;
                        }
                        empty.push(rtype);
                    }
                    code => {
                        return DomainStatus::Unknown {
                            why: format!("{rtype} query: {code}"),
                        };
                    }
                },
                Err(why) => return DomainStatus::Unknown { why },
            }
        }
        DomainStatus::Unresolvable {
            why: "no MX and no A record".into(),
        }
    }

    fn query(&self, name: &Name, rtype: RecordType) -> Result<Message, String> {
        let mut msg = Message::query();
        msg.metadata.recursion_desired = true;
        msg.add_query(Query::query(name.clone(), rtype));
        let id = msg.metadata.id;
        let bytes = msg.to_vec().map_err(|e| e.to_string())?;
        let bind: SocketAddr = if self.server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .map_err(|_| "bind address".to_string())?;
        let sock = UdpSocket::bind(bind).map_err(|e| format!("udp socket: {e}"))?;
        sock.set_read_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        let mut last = String::from("no attempt");
        for _ in 0..self.attempts.max(1) {
            sock.send_to(&bytes, self.server)
                .map_err(|e| format!("send to {}: {e}", self.server))?;
            let mut buf = [0u8; 4096];
            loop {
                match sock.recv_from(&mut buf) {
                    Ok((n, from)) if from == self.server => {
                        let Ok(reply) = Message::from_vec(&buf[..n]) else {
                            last = "malformed reply".into();
                            break;
                        };
                        if reply.metadata.id != id
                            || reply.metadata.message_type != MessageType::Response
                            || reply.metadata.op_code != OpCode::Query
                            || reply.queries.first().map(|q| (q.name(), q.query_type()))
                                != Some((name, rtype))
                        {
                            continue; // not the answer to this question
                        }
                        return Ok(reply);
                    }
                    Ok(_) => continue, // from elsewhere: ignore
                    Err(e) => {
                        last = format!("{rtype} query to {}: {e}", self.server);
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}

/// The first `nameserver` line of a resolv.conf.
pub fn nameserver_of(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next()? == "nameserver")
            .then(|| w.next())
            .flatten()
            .and_then(|a| a.split('%').next()?.parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// `ADDR` or `ADDR:PORT` (IPv6 as `[ADDR]:PORT`), port 53 by default.
pub fn parse_server(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| {
        s.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_and_server_parsing() {
        let t = "# x\nsearch lan\nnameserver 10.0.0.2\nnameserver 1.1.1.1\n";
        assert_eq!(nameserver_of(t), Some("10.0.0.2:53".parse().unwrap()));
        assert_eq!(
            nameserver_of("nameserver fe80::1%eth0"),
            Some("[fe80::1]:53".parse().unwrap())
        );
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("127.0.0.1"),
            Some("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(parse_server("dns.example"), None);
    }

    #[test]
    fn silence_is_unknown_not_unresolvable() {
        // A bound socket that never answers.
        let quiet = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut r = Resolver::new(quiet.local_addr().unwrap());
        r.timeout = Duration::from_millis(100);
        r.attempts = 1;
        assert!(matches!(
            r.status("example.com"),
            DomainStatus::Unknown { .. }
        ));
    }
}
