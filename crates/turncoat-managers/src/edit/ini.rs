//! `.npmrc` and `pip.conf` lines.
//!
//! Hand-written: both are INI dialects (npm's with `key[]=value` arrays), and the INI crates
//! rewrite a whole file on save, dropping comments and order. These edits touch only the
//! lines of the key they set; a value is written as given, so callers pass only values
//! turncoat generated (numbers, package names it validated, ISO durations), never free text.

/// The section a line belongs to (`None` before any `[section]`).
fn sections(text: &str) -> Vec<(Option<String>, &str)> {
    let mut section = None;
    text.lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('[') && t.ends_with(']') && !t.contains('=') {
                section = Some(t[1..t.len() - 1].trim().to_string());
            }
            (section.clone(), l)
        })
        .collect()
}

/// `key = value` of a line, comments and blanks excluded.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') || t.starts_with('[') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    Some((k.trim(), v.trim()))
}

/// The values of `key` in `section` (several for an npm `key[]` array).
pub fn get(text: &str, section: Option<&str>, key: &str) -> Vec<String> {
    sections(text)
        .into_iter()
        .filter(|(s, _)| s.as_deref() == section)
        .filter_map(|(_, l)| key_value(l))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .collect()
}

/// Set `key` in `section` to `values` (one line each; none removes the key). The first
/// existing line of the key keeps its place; a new key goes at the end of its section (a new
/// section at the end of the file).
pub fn set(text: &str, section: Option<&str>, key: &str, values: &[String]) -> String {
    let lines = sections(text);
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + values.len() + 2);
    let mut placed = false;
    let mut last_of_section: Option<usize> = None;
    for (s, l) in &lines {
        let in_section = s.as_deref() == section;
        if in_section && key_value(l).is_some_and(|(k, _)| k == key) {
            if !placed {
                out.extend(values.iter().map(|v| format!("{key}={v}")));
                placed = true;
            }
            continue;
        }
        out.push((*l).to_string());
        if in_section {
            last_of_section = Some(out.len());
        }
    }
    if !placed && !values.is_empty() {
        let new: Vec<String> = values.iter().map(|v| format!("{key}={v}")).collect();
        match (last_of_section, section) {
            (Some(at), _) => {
                // After the section's last non-blank line.
                let mut at = at;
                while at > 0 && out[at - 1].trim().is_empty() {
                    at -= 1;
                }
                out.splice(at..at, new);
            }
            (None, Some(name)) => {
                if out.last().is_some_and(|l| !l.trim().is_empty()) {
                    out.push(String::new());
                }
                out.push(format!("[{name}]"));
                out.extend(new);
            }
            (None, None) => {
                // Top-level keys go before the first section.
                let first_section = lines.iter().position(|(s, _)| s.is_some());
                match first_section {
                    Some(at) => {
                        out.splice(at..at, new);
                    }
                    None => out.extend(new),
                }
            }
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_comments_order_and_other_keys() {
        let npmrc = "# team settings\nregistry=https://r.example/\nmin-release-age = 1 # old\nsave-exact=true\n";
        let out = set(npmrc, None, "min-release-age", &["3".into()]);
        assert_eq!(
            out,
            "# team settings\nregistry=https://r.example/\nmin-release-age=3\nsave-exact=true\n"
        );
        assert_eq!(get(&out, None, "min-release-age"), ["3"]);
    }

    #[test]
    fn arrays_replace_every_line_and_new_keys_append() {
        let npmrc = "a[]=x\nb=1\na[]=y\n";
        let out = set(npmrc, None, "a[]", &["p".into(), "q".into()]);
        assert_eq!(out, "a[]=p\na[]=q\nb=1\n");
        assert_eq!(set("", None, "k", &["v".into()]), "k=v\n");
        assert_eq!(set(npmrc, None, "a[]", &[]), "b=1\n");
    }

    #[test]
    fn sections_are_respected() {
        let conf = "[global]\ntimeout = 60\n\n[install]\nno-cache-dir = true\n";
        let out = set(conf, Some("install"), "uploaded-prior-to", &["P3D".into()]);
        assert_eq!(
            out,
            "[global]\ntimeout = 60\n\n[install]\nno-cache-dir = true\nuploaded-prior-to=P3D\n"
        );
        let out = set(
            "[global]\ntimeout = 60\n",
            Some("install"),
            "k",
            &["v".into()],
        );
        assert_eq!(out, "[global]\ntimeout = 60\n\n[install]\nk=v\n");
        // The same key in another section is not this one.
        assert!(get(conf, Some("global"), "no-cache-dir").is_empty());
    }
}
