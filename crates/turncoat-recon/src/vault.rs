//! Password-manager exports, read in memory (sans-IO): Bitwarden unencrypted JSON, Bitwarden
//! CSV, 1Password CSV, or one password per line.
//!
//! Passwords are held in [`Zeroizing`] strings and wiped when an entry drops; entries'
//! `Debug` never shows them. The parsers' own scratch buffers (serde_json's unescape buffer,
//! the csv crate's record buffers) are not zeroised: the CLI keeps the whole export in a
//! `Zeroizing` buffer, and the process is short-lived. No parser error quotes the input.

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroizing;

/// Largest export accepted (a vault of 100k logins is ~50 MiB of JSON).
pub const MAX_EXPORT: u64 = 256 << 20;

/// One login: a name, where it is used, the username and the password.
pub struct VaultEntry {
    pub name: String,
    pub uris: Vec<String>,
    pub username: Option<String>,
    pub password: Zeroizing<String>,
}

impl fmt::Debug for VaultEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultEntry")
            .field("name", &self.name)
            .field("uris", &self.uris)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultFormat {
    BitwardenJson,
    BitwardenCsv,
    OnePasswordCsv,
    Lines,
}

impl VaultFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            VaultFormat::BitwardenJson => "bitwarden-json",
            VaultFormat::BitwardenCsv => "bitwarden-csv",
            VaultFormat::OnePasswordCsv => "1password-csv",
            VaultFormat::Lines => "lines",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "an encrypted Bitwarden export; export it as unencrypted JSON or CSV (it stays on this machine)"
    )]
    Encrypted,
    #[error("not a Bitwarden JSON export: {0}")]
    Json(String),
    #[error("CSV export: {0}")]
    Csv(String),
    #[error(
        "unknown export format: expected Bitwarden JSON, a CSV with a password column (Bitwarden `login_password`, 1Password `Password`), or pass passwords on stdin"
    )]
    Unknown,
}

/// Detect the format and read every login that has a password.
pub fn parse_export(bytes: &[u8]) -> Result<(VaultFormat, Vec<VaultEntry>), VaultError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok((VaultFormat::BitwardenJson, bitwarden_json(text)?));
    }
    csv_export(text)
}

/// One password per line (stdin); blank lines are skipped, CR is trimmed. Entries are named
/// `line N`.
pub fn parse_lines(bytes: &[u8]) -> Vec<VaultEntry> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if l.is_empty() {
                return None;
            }
            Some(VaultEntry {
                name: format!("line {}", i + 1),
                uris: Vec::new(),
                username: None,
                password: Zeroizing::new(String::from_utf8_lossy(l).into_owned()),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct BwExport {
    #[serde(default)]
    encrypted: bool,
    #[serde(default)]
    items: Vec<BwItem>,
}

#[derive(Deserialize)]
struct BwItem {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    kind: u8,
    #[serde(default)]
    login: Option<BwLogin>,
    #[serde(rename = "deletedDate", default)]
    deleted: Option<String>,
}

#[derive(Deserialize)]
struct BwLogin {
    #[serde(default)]
    uris: Option<Vec<BwUri>>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Zeroizing<String>>,
}

#[derive(Deserialize)]
struct BwUri {
    #[serde(default)]
    uri: Option<String>,
}

fn bitwarden_json(text: &[u8]) -> Result<Vec<VaultEntry>, VaultError> {
    // serde_json's error names a line and column, never the input.
    let export: BwExport =
        serde_json::from_slice(text).map_err(|e| VaultError::Json(e.to_string()))?;
    if export.encrypted {
        return Err(VaultError::Encrypted);
    }
    Ok(export
        .items
        .into_iter()
        .filter(|i| i.kind == 1 && i.deleted.is_none())
        .filter_map(|i| {
            let login = i.login?;
            let password = login.password.filter(|p| !p.is_empty())?;
            Some(VaultEntry {
                name: i.name.unwrap_or_default(),
                uris: login
                    .uris
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|u| u.uri)
                    .collect(),
                username: login.username.filter(|u| !u.is_empty()),
                password,
            })
        })
        .collect())
}

/// The columns of a CSV export, by header name (case-insensitive).
struct Columns {
    name: Option<usize>,
    url: Option<usize>,
    username: Option<usize>,
    password: usize,
    kind: Option<usize>,
}

fn columns(header: &csv::StringRecord) -> Option<(VaultFormat, Columns)> {
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    if let Some(password) = find(&["login_password"]) {
        return Some((
            VaultFormat::BitwardenCsv,
            Columns {
                name: find(&["name"]),
                url: find(&["login_uri"]),
                username: find(&["login_username"]),
                password,
                kind: find(&["type"]),
            },
        ));
    }
    let password = find(&["password"])?;
    Some((
        VaultFormat::OnePasswordCsv,
        Columns {
            name: find(&["title", "name"]),
            url: find(&["url", "website", "urls"]),
            username: find(&["username"]),
            password,
            kind: None,
        },
    ))
}

fn csv_export(text: &[u8]) -> Result<(VaultFormat, Vec<VaultEntry>), VaultError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text);
    let header = reader.headers().map_err(|_| VaultError::Unknown)?.clone();
    let (format, cols) = columns(&header).ok_or(VaultError::Unknown)?;
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        // The csv error names a position only; do not echo the record.
        let rec = rec.map_err(|e| {
            VaultError::Csv(format!(
                "record {}: {}",
                i + 2,
                e.position()
                    .map(|p| format!("line {}", p.line()))
                    .unwrap_or_else(|| "malformed".into())
            ))
        })?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim);
        if get(cols.kind).is_some_and(|k| !k.is_empty() && !k.eq_ignore_ascii_case("login")) {
            continue;
        }
        let Some(pw) = rec.get(cols.password).filter(|p| !p.is_empty()) else {
            continue;
        };
        out.push(VaultEntry {
            name: get(cols.name).unwrap_or_default().to_string(),
            uris: get(cols.url)
                .map(|u| {
                    u.split([',', '\n'])
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            username: get(cols.username)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            password: Zeroizing::new(pw.to_string()),
        });
    }
    Ok((format, out))
}

/// The host of a login URI, lower-cased, without `www.`; scheme-less URIs are read as https.
pub fn host_of(uri: &str) -> Option<String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return None;
    }
    let parsed = url::Url::parse(uri)
        .ok()
        .filter(|u| u.host_str().is_some())
        .or_else(|| url::Url::parse(&format!("https://{uri}")).ok())?;
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BW_JSON: &str = r#"{"encrypted":false,"folders":[],"items":[
      {"id":"1","type":1,"name":"GitHub","login":{"uris":[{"match":null,"uri":"https://github.com/login"}],"username":"octo","password":"s3cret-gh","totp":null}},
      {"id":"2","type":2,"name":"A note","notes":"x"},
      {"id":"3","type":1,"name":"No password","login":{"username":"u","password":null}},
      {"id":"4","type":1,"name":"Deleted","deletedDate":"2024-01-01","login":{"password":"gone"}},
      {"id":"5","type":1,"name":"npm","login":{"uris":null,"username":"octo","password":"p\"q"}}
    ]}"#;

    #[test]
    fn bitwarden_json_logins_only() {
        let (f, e) = parse_export(BW_JSON.as_bytes()).unwrap();
        assert_eq!(f, VaultFormat::BitwardenJson);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "GitHub");
        assert_eq!(e[0].uris, ["https://github.com/login"]);
        assert_eq!(*e[1].password, "p\"q");
        let dbg = format!("{e:?}");
        assert!(
            !dbg.contains("s3cret-gh") && dbg.contains("<redacted>"),
            "{dbg}"
        );
    }

    #[test]
    fn encrypted_bitwarden_is_refused() {
        let e =
            parse_export(br#"{"encrypted":true,"encKeyValidation_DO_NOT_EDIT":"x","data":"y"}"#)
                .unwrap_err();
        assert!(matches!(e, VaultError::Encrypted));
    }

    #[test]
    fn bitwarden_csv() {
        let csv = "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n\
                   ,,login,GitLab,,,0,\"https://gitlab.com,https://gitlab.example.org\",dev,pw-one,\n\
                   ,,note,Secret note,text,,0,,,,\n";
        let (f, e) = parse_export(csv.as_bytes()).unwrap();
        assert_eq!(f, VaultFormat::BitwardenCsv);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].uris.len(), 2);
        assert_eq!(e[0].username.as_deref(), Some("dev"));
    }

    #[test]
    fn onepassword_csv() {
        let csv = "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\n\
                   PyPI,https://pypi.org/account/login/,me,pw-two,,false,false,,\n";
        let (f, e) = parse_export(csv.as_bytes()).unwrap();
        assert_eq!(f, VaultFormat::OnePasswordCsv);
        assert_eq!(e[0].name, "PyPI");
        assert_eq!(host_of(&e[0].uris[0]).as_deref(), Some("pypi.org"));
    }

    #[test]
    fn errors_do_not_quote_the_input() {
        let bad = parse_export(b"{\"items\": [\"pw-in-garbage").unwrap_err();
        assert!(!bad.to_string().contains("pw-in-garbage"), "{bad}");
        let unknown = parse_export(b"pw-line-1\npw-line-2\n").unwrap_err();
        assert!(matches!(unknown, VaultError::Unknown));
        assert!(!unknown.to_string().contains("pw-line"));
    }

    #[test]
    fn lines_and_hosts() {
        let e = parse_lines(b"one\r\n\ntwo\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].name, "line 3");
        assert_eq!(host_of("www.GitHub.com/x").as_deref(), Some("github.com"));
        assert_eq!(
            host_of("https://registry.npmjs.org/").as_deref(),
            Some("registry.npmjs.org")
        );
        assert_eq!(host_of(""), None);
    }
}
