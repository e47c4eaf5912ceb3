//! Yarn 1 `yarn.lock` (`# yarn lockfile v1`): a YAML-like format with its own syntax,
//! read line by line. Entries start at column 0 (`desc1, desc2:`), fields are indented two
//! spaces (`version "1.0.0"`), dependency lists four.
//!
//! It records no dev/optional flags and no importers; those stay empty.

use super::Ctx;
use crate::ParseOptions;
use crate::error::Error;
use crate::model::{
    DepKind, Dependency, LockedPackage, Lockfile, LockfileFormat, SourceKind, dedupe,
};
use crate::spec::{classify, npm_alias, split_name};

struct Field {
    key: String,
    value: Option<String>,
    line: u32,
    children: Vec<(String, String)>,
}

struct Block {
    header: String,
    descriptors: Vec<String>,
    line: u32,
    fields: Vec<Field>,
}

impl Block {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.value.as_deref())
    }
}

pub(crate) fn parse(path: &str, text: &str, _opts: &ParseOptions) -> Result<Lockfile, Error> {
    let mut ctx = Ctx::new(path);
    if !text
        .lines()
        .take(64)
        .any(|l| l.starts_with("# yarn lockfile v1"))
    {
        return Err(ctx.unsupported(
            "yarn.lock",
            "no `# yarn lockfile v1` header".into(),
            "yarn lockfile v1 (classic); Berry files have `__metadata`",
        ));
    }
    let blocks = read_blocks(&mut ctx, text);
    let mut pkgs = Vec::with_capacity(blocks.len());
    for b in &blocks {
        if let Some(p) = to_package(&mut ctx, b) {
            pkgs.push(p);
        }
    }
    ctx.check()?;
    Ok(Lockfile {
        path: path.to_string(),
        format: LockfileFormat::YarnClassic,
        packages: dedupe(pkgs),
        importers: Vec::new(),
        ecosystem: crate::model::Ecosystem::Npm,
        indexes: Vec::new(),
    })
}

fn read_blocks(ctx: &mut Ctx<'_>, text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if line[indent..].starts_with('\t') {
            ctx.problem(n, "tab in indentation");
            continue;
        }
        let content = line[indent..].trim_end();
        match indent {
            0 => {
                let Some(head) = content.strip_suffix(':') else {
                    ctx.problem(
                        n,
                        format!("expected an entry header ending in ':', found {content:?}"),
                    );
                    continue;
                };
                match split_list(head) {
                    Ok(descriptors) if !descriptors.is_empty() => blocks.push(Block {
                        header: head.to_string(),
                        descriptors,
                        line: n,
                        fields: Vec::new(),
                    }),
                    Ok(_) => ctx.problem(n, "empty entry header"),
                    Err(e) => ctx.problem(n, e),
                }
            }
            2 => {
                let Some(block) = blocks.last_mut() else {
                    ctx.problem(n, "indented line before any entry");
                    continue;
                };
                match tokens(content) {
                    Ok(t) if t.len() == 1 && content.ends_with(':') => block.fields.push(Field {
                        key: t[0].clone(),
                        value: None,
                        line: n,
                        children: Vec::new(),
                    }),
                    Ok(t) if t.len() == 2 => block.fields.push(Field {
                        key: t[0].clone(),
                        value: Some(t[1].clone()),
                        line: n,
                        children: Vec::new(),
                    }),
                    Ok(_) => ctx.problem(n, format!("expected `key value`, found {content:?}")),
                    Err(e) => ctx.problem(n, e),
                }
            }
            4 => {
                let parent = blocks
                    .last_mut()
                    .and_then(|b| b.fields.last_mut())
                    .filter(|f| f.value.is_none());
                let Some(parent) = parent else {
                    ctx.problem(n, "nested line outside a dependency list");
                    continue;
                };
                match tokens(content) {
                    Ok(t) if t.len() == 2 => parent.children.push((t[0].clone(), t[1].clone())),
                    Ok(_) => ctx.problem(n, format!("expected `name range`, found {content:?}")),
                    Err(e) => ctx.problem(n, e),
                }
            }
            _ => ctx.problem(n, format!("unexpected indentation of {indent} spaces")),
        }
    }
    blocks
}

/// `"a@1", b@2` → `["a@1", "b@2"]`.
fn split_list(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (item, after) = if rest.starts_with('"') {
            quoted(rest)?
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), &rest[end..])
        };
        out.push(item);
        rest = after.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("unexpected {rest:?} in entry header"));
        }
    }
    Ok(out)
}

/// Whitespace-separated tokens, each bare or double-quoted; a trailing `:` on the last
/// bare token is dropped.
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (tok, after) = if rest.starts_with('"') {
            let (t, a) = quoted(rest)?;
            (t, a.strip_prefix(':').unwrap_or(a))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let t = &rest[..end];
            (t.strip_suffix(':').unwrap_or(t).to_string(), &rest[end..])
        };
        out.push(tok);
        rest = after.trim_start();
    }
    Ok(out)
}

/// A double-quoted string with JSON escapes, and what follows it.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, c)) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

fn to_package(ctx: &mut Ctx<'_>, b: &Block) -> Option<LockedPackage> {
    let first = &b.descriptors[0];
    let (install_name, range) = split_name(first).unwrap_or((first.as_str(), ""));
    let (name, alias, range) = match npm_alias(range) {
        Some((real, r)) => (real, Some(install_name.to_string()), r),
        None => (install_name, None, range),
    };
    let Some(version) = b.get("version") else {
        ctx.problem(b.line, format!("entry {:?} has no version", b.header));
        return None;
    };
    let resolved = b.get("resolved").map(str::to_string);
    let (source, resolved) = match resolved {
        Some(r) => (classify(&r).unwrap_or(SourceKind::File), Some(r)),
        None => match classify(range) {
            Some(
                k @ (SourceKind::File | SourceKind::Link | SourceKind::Git | SourceKind::Tarball),
            ) => (k, Some(range.to_string())),
            _ => (SourceKind::Registry, None),
        },
    };
    let mut p = LockedPackage::new(name, version, source);
    p.alias = alias;
    p.resolved = resolved;
    p.integrity = b.get("integrity").map(str::to_string);
    for f in &b.fields {
        let kind = match f.key.as_str() {
            "dependencies" => DepKind::Prod,
            "optionalDependencies" => DepKind::Optional,
            _ => continue,
        };
        if f.value.is_some() {
            ctx.problem(f.line, format!("`{}` should be a list", f.key));
        }
        p.dependencies
            .extend(f.children.iter().map(|(n, r)| Dependency {
                name: n.clone(),
                range: r.clone(),
                kind,
                locked: None,
            }));
    }
    p.paths = vec![b.header.clone()];
    p.line = b.line;
    Some(p)
}

#[cfg(test)]
mod tests {
    use crate::{SourceKind, parse};

    const LOCK: &str = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.12.13":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc"
  integrity sha512-HV1
  dependencies:
    "@babel/highlight" "^7.12.13"

"cjs@npm:string-width@^4":
  "version" "4.2.3"
  "resolved" "https://registry.yarnpkg.com/string-width/-/string-width-4.2.3.tgz"

balanced-match:
  version "1.0.2"

"f@file:./deps/f":
  version "0.0.1"

g@github:o/r:
  version "1.0.0"
  resolved "https://codeload.github.com/o/r/tar.gz/abc"
"#;

    #[test]
    fn model() {
        let l = parse("yarn.lock", LOCK.as_bytes()).unwrap();
        assert_eq!(l.format.id(), "yarn-classic");
        assert_eq!(l.packages.len(), 5);
        let cf = &l.packages[0];
        assert_eq!(
            (cf.name.as_str(), cf.version.as_str(), cf.line),
            ("@babel/code-frame", "7.12.13", 5)
        );
        assert_eq!(cf.dependencies[0].name, "@babel/highlight");
        let sw = l.by_name("string-width").next().unwrap();
        assert_eq!(sw.alias.as_deref(), Some("cjs"));
        assert_eq!(
            l.by_name("balanced-match").next().unwrap().source,
            SourceKind::Registry
        );
        assert_eq!(l.by_name("f").next().unwrap().source, SourceKind::File);
        assert_eq!(l.by_name("g").next().unwrap().source, SourceKind::Git);
    }

    #[test]
    fn fails_closed() {
        for (text, want) in [
            ("a@1:\n  version \"1\"\n", "neither"),
            ("# yarn lockfile v1\na@1:\n  resolved \"x\"\n", "no version"),
            ("# yarn lockfile v1\n  version \"1\"\n", "before any entry"),
            ("# yarn lockfile v1\na@1\n", "header"),
            (
                "# yarn lockfile v1\n\"a@1:\n  version \"1\"\n",
                "unterminated",
            ),
            (
                "# yarn lockfile v1\na@1:\n      version \"1\"\n",
                "indentation",
            ),
        ] {
            let e = parse("yarn.lock", text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("yarn.lock"), "{text}: {e}");
        }
    }

    #[test]
    fn empty_is_fine() {
        let l = parse("yarn.lock", b"# yarn lockfile v1\n\n").unwrap();
        assert!(l.packages.is_empty());
    }
}
