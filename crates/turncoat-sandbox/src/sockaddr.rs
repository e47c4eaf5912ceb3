//! Socket addresses as the kernel lays them out (`struct sockaddr_*`), parsed from bytes read
//! out of a sandboxed process. Sans-IO and bounded: hostile bytes give `None`, never a panic.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Inet(SocketAddr),
    /// A pathname Unix socket, or `@name` for the abstract namespace.
    Unix(String),
    Other(u16),
}

impl Addr {
    /// How events print it: `IP:PORT`, `[v6]:PORT`, `unix:/path`.
    pub fn target(&self) -> String {
        match self {
            Addr::Inet(a) => a.to_string(),
            Addr::Unix(p) => format!("unix:{p}"),
            Addr::Other(f) => format!("family-{f}"),
        }
    }
}

pub fn parse(b: &[u8]) -> Option<Addr> {
    if b.len() < 2 {
        return None;
    }
    let family = u16::from_ne_bytes([b[0], b[1]]);
    match family {
        AF_INET if b.len() >= 8 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            Some(Addr::Inet(SocketAddr::V4(SocketAddrV4::new(ip, port))))
        }
        AF_INET6 if b.len() >= 24 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[8..24]);
            let ip = Ipv6Addr::from(o);
            let ip_v4 = ip.to_ipv4_mapped();
            Some(Addr::Inet(match ip_v4 {
                Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
                None => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0)),
            }))
        }
        AF_UNIX => {
            let path = &b[2..];
            if path.first() == Some(&0) {
                let name = &path[1..];
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                Some(Addr::Unix(format!(
                    "@{}",
                    String::from_utf8_lossy(&name[..end])
                )))
            } else {
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                Some(Addr::Unix(
                    String::from_utf8_lossy(&path[..end]).into_owned(),
                ))
            }
        }
        f => Some(Addr::Other(f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_and_unix() {
        let mut v4 = vec![2u8, 0, 0, 53, 127, 0, 0, 1];
        v4.extend([0; 8]);
        assert_eq!(parse(&v4).unwrap().target(), "127.0.0.1:53");
        let mut v6 = vec![10u8, 0, 1, 187, 0, 0, 0, 0];
        v6.extend(Ipv6Addr::LOCALHOST.octets());
        v6.extend([0; 4]);
        assert_eq!(parse(&v6).unwrap().target(), "[::1]:443");
        let mut mapped = vec![10u8, 0, 0, 80, 0, 0, 0, 0];
        mapped.extend(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().octets());
        assert_eq!(parse(&mapped).unwrap().target(), "192.0.2.1:80");
        let mut un = vec![1u8, 0];
        un.extend(b"/var/run/nscd/socket\0garbage");
        assert_eq!(parse(&un).unwrap().target(), "unix:/var/run/nscd/socket");
        assert_eq!(parse(&[1, 0, 0, b'x', b'y']).unwrap().target(), "unix:@xy");
    }

    #[test]
    fn hostile_bytes() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[2]), None);
        assert_eq!(parse(&[2, 0, 1]), Some(Addr::Other(2)));
        assert_eq!(parse(&[10, 0, 1, 2, 3]), Some(Addr::Other(10)));
    }
}
