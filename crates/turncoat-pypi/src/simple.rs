//! The simple repository API: one project's page, as PEP 691 JSON or PEP 503 HTML.
//!
//! Both forms become one [`ProjectPage`]. Pages are hostile input: the body is capped by the
//! fetcher, the number of files is capped here, file URLs are resolved against the page
//! and must be http(s) or (for a directory index) relative, file names must not contain
//! path separators, and files whose name is another project's are set aside (counted, not
//! listed) instead of being offered for this one. An unknown major API version fails.
//! HTML is tokenised by `html5gum` (a WHATWG tokenizer; no DOM is built).

use serde_json::Value;
use url::Url;

use crate::error::PypiError;
use crate::name::{ProjectName, file_project};

/// Most files one page may list (PyPI's largest projects list a few tens of thousands).
pub const MAX_FILES: usize = 500_000;

/// One project's files, from either form of the simple API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectPage {
    /// The normalised project name that was asked for.
    pub name: String,
    /// `meta.api-version` (JSON) or `pypi:repository-version` (HTML); `1.0` when absent.
    pub api_version: String,
    pub files: Vec<DistFile>,
    /// PEP 700 `versions` (JSON 1.1+ only).
    pub versions: Vec<String>,
    /// PEP 792 `project-status.status` (`active`, `archived`, `quarantined`, `deprecated`).
    pub status: Option<String>,
    /// Files listed on the page whose name belongs to another project (left out).
    pub foreign_files: usize,
}

/// One distribution file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DistFile {
    pub filename: String,
    /// Absolute URL (resolved against the page).
    pub url: String,
    /// The index's sha256 for the file, lower-case hex, if it gives one.
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub yanked_reason: Option<String>,
    /// PEP 700 `upload-time` (JSON only).
    pub upload_time: Option<String>,
    pub size: Option<u64>,
    /// PEP 740 provenance URL (absolute, resolved against the page), when the index has one.
    pub provenance: Option<String>,
}

impl ProjectPage {
    /// The files of one version (by the version in the file name).
    pub fn files_of<'a>(&'a self, version: &'a str) -> impl Iterator<Item = &'a DistFile> {
        self.files
            .iter()
            .filter(move |f| file_project(&f.filename).is_some_and(|(_, v)| v == version))
    }
}

fn malformed(url: &Url, reason: impl Into<String>) -> PypiError {
    PypiError::Malformed {
        url: crate::redact(url),
        what: "simple API page",
        reason: reason.into(),
    }
}

fn check_api(url: &Url, version: &str) -> Result<(), PypiError> {
    if version.split('.').next() == Some("1") {
        Ok(())
    } else {
        Err(PypiError::UnsupportedApi {
            url: crate::redact(url),
            found: version.to_string(),
        })
    }
}

/// Resolve a file link and check its scheme, name and owner.
fn file_url(page: &Url, href: &str) -> Result<Url, String> {
    let u = page
        .join(href)
        .map_err(|e| format!("bad file URL {href:?}: {e}"))?;
    // A directory index links files on disk; an HTTP index links HTTP files only.
    let ok = match page.scheme() {
        "file" => u.scheme() == "file",
        _ => matches!(u.scheme(), "https" | "http"),
    };
    if ok {
        Ok(u)
    } else {
        Err(format!("file URL scheme {:?} is not allowed", u.scheme()))
    }
}

fn valid_filename(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 512
        && !f.contains(['/', '\\', '\0'])
        && f != "."
        && f != ".."
        && !f.chars().any(char::is_control)
}

struct Builder<'a> {
    page: &'a Url,
    name: &'a ProjectName,
    out: ProjectPage,
}

impl Builder<'_> {
    fn push(&mut self, mut f: DistFile, href: &str) -> Result<(), PypiError> {
        if self.out.files.len() >= MAX_FILES {
            return Err(malformed(self.page, format!("more than {MAX_FILES} files")));
        }
        if !valid_filename(&f.filename) {
            return Err(malformed(
                self.page,
                format!("bad file name {:?}", f.filename),
            ));
        }
        match file_project(&f.filename) {
            Some((n, _)) if n == self.name.as_str() => {}
            _ => {
                self.out.foreign_files += 1;
                return Ok(());
            }
        }
        f.url = file_url(self.page, href)
            .map_err(|e| malformed(self.page, e))?
            .to_string();
        // The provenance URL is resolved like the file's, against the page (same rules).
        if let Some(p) = f.provenance.take().filter(|p| !p.is_empty()) {
            f.provenance = Some(
                file_url(self.page, &p)
                    .map_err(|e| malformed(self.page, e))?
                    .to_string(),
            );
        }
        if let Some(h) = &f.sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(malformed(
                    self.page,
                    format!("bad sha256 for {}", f.filename),
                ));
            }
            f.sha256 = Some(h.to_ascii_lowercase());
        }
        self.out.files.push(f);
        Ok(())
    }
}

fn empty(name: &ProjectName, api: &str) -> ProjectPage {
    ProjectPage {
        name: name.as_str().to_string(),
        api_version: api.to_string(),
        files: Vec::new(),
        versions: Vec::new(),
        status: None,
        foreign_files: 0,
    }
}

/// Parse a PEP 691 JSON page.
pub fn parse_json(page: &Url, name: &ProjectName, body: &[u8]) -> Result<ProjectPage, PypiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(page, e.to_string()))?;
    let api = v
        .pointer("/meta/api-version")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(page, "no meta.api-version"))?;
    check_api(page, api)?;
    let mut b = Builder {
        page,
        name,
        out: empty(name, api),
    };
    let files = v
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(page, "no files array"))?;
    for f in files {
        let s = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(filename), Some(href)) = (s("filename"), s("url")) else {
            return Err(malformed(page, "a file without filename or url"));
        };
        let (yanked, yanked_reason) = match f.get("yanked") {
            Some(Value::Bool(y)) => (*y, None),
            Some(Value::String(r)) => (true, Some(r.clone())),
            _ => (false, None),
        };
        let file = DistFile {
            filename,
            url: String::new(),
            sha256: f
                .pointer("/hashes/sha256")
                .and_then(Value::as_str)
                .map(str::to_string),
            requires_python: s("requires-python"),
            yanked,
            yanked_reason,
            upload_time: s("upload-time"),
            size: f.get("size").and_then(Value::as_u64),
            provenance: s("provenance"),
        };
        b.push(file, &href)?;
    }
    b.out.versions = v
        .get("versions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    b.out.status = v
        .pointer("/project-status/status")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(b.out)
}

/// Parse a PEP 503 HTML page.
pub fn parse_html(page: &Url, name: &ProjectName, body: &[u8]) -> Result<ProjectPage, PypiError> {
    use html5gum::{Token, Tokenizer};
    let text = std::str::from_utf8(body).map_err(|_| malformed(page, "not UTF-8"))?;
    let mut b = Builder {
        page,
        name,
        out: empty(name, "1.0"),
    };
    // The open anchor: its attributes, and its text so far (the file name).
    let mut anchor: Option<(std::collections::BTreeMap<String, String>, String)> = None;
    for Ok(token) in Tokenizer::new(text) {
        match token {
            Token::StartTag(tag) => {
                let attrs: std::collections::BTreeMap<String, String> = tag
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).to_ascii_lowercase(),
                            String::from_utf8_lossy(&v.value).into_owned(),
                        )
                    })
                    .collect();
                match tag.name.as_slice() {
                    b"meta"
                        if attrs.get("name").map(String::as_str)
                            == Some("pypi:repository-version") =>
                    {
                        let v = attrs.get("content").cloned().unwrap_or_default();
                        check_api(page, &v)?;
                        b.out.api_version = v;
                    }
                    b"a" => anchor = Some((attrs, String::new())),
                    _ => {}
                }
            }
            Token::String(s) => {
                if let Some((_, t)) = anchor.as_mut().filter(|(_, t)| t.len() < 1024) {
                    t.push_str(&String::from_utf8_lossy(&s.value));
                }
            }
            Token::EndTag(tag) if tag.name.as_slice() == b"a" => {
                if let Some((attrs, text)) = anchor.take() {
                    html_file(&mut b, &attrs, text.trim())?;
                }
            }
            _ => {}
        }
    }
    Ok(b.out)
}

fn html_file(
    b: &mut Builder<'_>,
    attrs: &std::collections::BTreeMap<String, String>,
    text: &str,
) -> Result<(), PypiError> {
    let Some(href) = attrs.get("href") else {
        return Ok(());
    };
    let (_, frag) = href.split_once('#').unwrap_or((href, ""));
    let sha256 = frag.strip_prefix("sha256=").map(str::to_string);
    let yanked = attrs.get("data-yanked");
    let file = DistFile {
        filename: text.to_string(),
        url: String::new(),
        sha256,
        requires_python: attrs.get("data-requires-python").cloned(),
        yanked: yanked.is_some(),
        yanked_reason: yanked.filter(|r| !r.is_empty()).cloned(),
        upload_time: None,
        size: None,
        provenance: attrs.get("data-provenance").cloned(),
    };
    b.push(file, href)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://pypi.example/simple/requests/").unwrap()
    }

    fn name() -> ProjectName {
        ProjectName::new("requests").unwrap()
    }

    const H: &str = "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2";

    #[test]
    fn json_page() {
        let body = serde_json::json!({
        "meta": {"api-version": "1.4"}, "name": "requests",
        "versions": ["2.0"], "project-status": {"status": "active"},
        "files": [
            {"filename": "requests-2.0-py3-none-any.whl", "url": "../../files/requests-2.0-py3-none-any.whl",
             "hashes": {"sha256": H}, "upload-time": "2024-01-01T00:00:00.000000Z", "size": 10,
             "yanked": "broken"},
            {"filename": "evil-1.0.tar.gz", "url": "https://x/evil-1.0.tar.gz", "hashes": {}}
        ]});
        let p = parse_json(&page(), &name(), body.to_string().as_bytes()).unwrap();
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.foreign_files, 1);
        let f = &p.files[0];
        assert_eq!(
            f.url,
            "https://pypi.example/files/requests-2.0-py3-none-any.whl"
        );
        assert!(f.yanked);
        assert_eq!(f.yanked_reason.as_deref(), Some("broken"));
        assert_eq!(p.files_of("2.0").count(), 1);
    }

    #[test]
    fn unknown_major_version_fails() {
        let body = br#"{"meta": {"api-version": "2.0"}, "files": []}"#;
        assert!(matches!(
            parse_json(&page(), &name(), body),
            Err(PypiError::UnsupportedApi { .. })
        ));
        let html = br#"<meta name="pypi:repository-version" content="2.0"><a href="x">requests-1.0.tar.gz</a>"#;
        assert!(parse_html(&page(), &name(), html).is_err());
    }

    #[test]
    fn html_page() {
        let html = format!(
            "<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.1\"></head><body>\
             <a href=\"https://files.example/requests-2.0.tar.gz#sha256={H}\" data-requires-python=\"&gt;=3.8\">requests-2.0.tar.gz</a>\
             <a href=\"https://files.example/requests-1.0.tar.gz\" data-yanked=\"\">requests-1.0.tar.gz</a>\
             <a href=\"javascript:alert(1)\">requests-3.0.tar.gz</a></body></html>"
        );
        let e = parse_html(&page(), &name(), html.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("scheme"), "{e}");
        let html = html.replace(
            "<a href=\"javascript:alert(1)\">requests-3.0.tar.gz</a>",
            "",
        );
        let p = parse_html(&page(), &name(), html.as_bytes()).unwrap();
        assert_eq!(p.api_version, "1.1");
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.files[0].sha256.as_deref(), Some(H));
        assert_eq!(p.files[0].requires_python.as_deref(), Some(">=3.8"));
        assert!(p.files[1].yanked && p.files[1].yanked_reason.is_none());
    }

    #[test]
    fn bad_file_names_and_hashes_fail() {
        for (f, h) in [
            ("../requests-1.0.tar.gz", H),
            ("requests-1.0.tar.gz", "abc"),
        ] {
            let body = serde_json::json!({"meta": {"api-version": "1.0"},
                "files": [{"filename": f, "url": "x", "hashes": {"sha256": h}}]});
            assert!(
                parse_json(&page(), &name(), body.to_string().as_bytes()).is_err(),
                "{f}"
            );
        }
    }
}
