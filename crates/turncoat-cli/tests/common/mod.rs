//! Helpers shared by the sandbox tests (watch, detonate, baseline): tool checks and packing a
//! package the way `npm pack` does.

#![allow(dead_code, clippy::print_stderr)]

use std::collections::BTreeMap;

use base64::Engine as _;
use sha1::Digest as _;

pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// False (after saying so on stderr) when one of `tools` is missing. CI sets
/// `TURNCOAT_TEST_REQUIRE_TOOLS=1`: there a missing tool fails the test instead.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    for t in tools {
        if !on_path(t) {
            assert!(
                std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
                "{test}: `{t}` is not on PATH and TURNCOAT_TEST_REQUIRE_TOOLS is set"
            );
            eprintln!("SKIPPED {test}: `{t}` is not on PATH (.ci/run installs it)");
            return false;
        }
    }
    true
}

/// A gzipped tarball and the hashes a registry publishes for it.
pub struct Packed {
    pub tgz: Vec<u8>,
    /// `sha512-…` (dist.integrity).
    pub integrity: String,
    /// Hex SHA-1 (dist.shasum).
    pub shasum: String,
}

/// Tar `files` (package-relative paths) under `package/` with npm's fixed mtime, gzip, hash.
pub fn pack(files: &BTreeMap<String, Vec<u8>>) -> Packed {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // npm's fixed mtime (1985-10-26T08:15:00Z).
        h.set_mtime(499_162_500);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, format!("package/{path}"), data.as_slice())
            .expect("tar entry");
    }
    let tgz = tar
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("gzip tarball");
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(&tgz))
    );
    let shasum = sha1::Sha1::digest(&tgz)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Packed {
        tgz,
        integrity,
        shasum,
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 serving fixed bodies by path (GET only, one request
/// per connection): enough for npm, pnpm, Yarn and Bun to fetch packuments and tarballs.
/// Bind first (packuments name their tarball URLs), then serve.
pub struct StaticServer {
    listener: std::net::TcpListener,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
}

impl StaticServer {
    pub fn bind() -> StaticServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        StaticServer {
            listener,
            url: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    /// Serve `routes` (path → content type and body) on a background thread.
    pub fn serve(self, routes: BTreeMap<String, (String, Vec<u8>)>) {
        serve_static(self.listener, routes);
    }
}

fn serve_static(listener: std::net::TcpListener, routes: BTreeMap<String, (String, Vec<u8>)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let routes = std::sync::Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let path = path.replace("%2f", "/").replace("%2F", "/");
                let (status, ctype, body) = match routes.get(&path) {
                    Some((ctype, body)) => ("200 OK", ctype.as_str(), body.clone()),
                    None => ("404 Not Found", "application/json", b"{}".to_vec()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
            });
        }
    });
}
