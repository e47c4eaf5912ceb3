//! The keys a team trusts: an SSH `allowed_signers` file and an OpenPGP keyring, and the
//! sans-IO verification of one git signature against them.
//!
//! `allowed_signers` is parsed here by hand because no crate parses it (ssh-key reads the key
//! itself; the line format — principals, options, key — is OpenSSH's `ssh-keygen(1)` "ALLOWED
//! SIGNERS"). The rules follow `ssh-keygen -Y verify` as git calls it: the signature's key must
//! be on a line whose `namespaces=` (if any) admits `git` and whose `valid-after` /
//! `valid-before` window contains the object's own time (git passes the committer time as
//! `-Overify-time`); `cert-authority` lines are not used (certificate signatures are not
//! verified here and count as unverified). A line with an option we do not know is an error
//! rather than a line silently read more loosely than OpenSSH would.

use std::io::Cursor;

use pgp::composed::{Deserializable as _, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails as _;
use ssh_key::{PublicKey, SshSig};

use super::SigKind;

/// The namespace git signs commits and tags in.
pub const GIT_NAMESPACE: &str = "git";

/// Largest keys file read (a keyring of a few hundred keys is far smaller).
pub const MAX_KEYS_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("{file}:{line}: {message}")]
    AllowedSigners {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: not an OpenPGP keyring: {message}")]
    Keyring { file: String, message: String },
}

/// One line of an `allowed_signers` file.
#[derive(Debug, Clone)]
pub struct AllowedSigner {
    /// Comma-separated principal patterns, as written.
    pub principals: String,
    /// `namespaces="…"` patterns; `None` admits every namespace.
    pub namespaces: Option<Vec<String>>,
    /// Unix seconds; the signature must be made at or after this.
    pub valid_after: Option<i64>,
    /// Unix seconds; the signature must be made at or before this.
    pub valid_before: Option<i64>,
    pub cert_authority: bool,
    pub key: PublicKey,
    pub line: usize,
}

/// The keys given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    pub ssh: Option<Vec<AllowedSigner>>,
    pub openpgp: Option<Vec<SignedPublicKey>>,
}

impl Keys {
    pub fn any(&self) -> bool {
        self.ssh.is_some() || self.openpgp.is_some()
    }
}

/// What verifying one signature found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Verification {
    /// The signature is good and its key is trusted: `signer` names the principal (SSH) or the
    /// key's fingerprint and primary user id (OpenPGP).
    Verified { signer: String },
    /// Signed, but not by a trusted key over this object, and why.
    Unverified { reason: String },
}

impl Verification {
    fn no(reason: impl Into<String>) -> Verification {
        Verification::Unverified {
            reason: reason.into(),
        }
    }

    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Verified { .. })
    }
}

// ---------------------------------------------------------------------------------------------
// allowed_signers

/// Split a line into whitespace-separated tokens, keeping double-quoted runs (which may hold
/// spaces and commas) inside their token.
fn tokens(line: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(s) = start.take() {
                    out.push(&line[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    Ok(out)
}

/// Split `a,b="x,y",c` at the commas outside quotes.
fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// `YYYYMMDD[HHMM[SS]][Z]` as OpenSSH writes validity times. Without `Z` OpenSSH reads local
/// time; here it is read as UTC (the difference is at most a day's hours, and we do not read the
/// machine's time zone).
pub fn parse_ssh_time(s: &str) -> Option<i64> {
    let s = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    if !s.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&s.len()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|v| v.parse::<u32>().ok());
    let year = i32::try_from(n(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(n(6..8)?).ok()?).ok()?;
    let (h, m, sec) = match s.len() {
        8 => (0, 0, 0),
        12 => (n(8..10)?, n(10..12)?, 0),
        _ => (n(8..10)?, n(10..12)?, n(12..14)?),
    };
    let t = time::Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(sec).ok()?,
    )
    .ok()?;
    Some(date.with_time(t).assume_utc().unix_timestamp())
}

/// `*` and `?` glob patterns as OpenSSH's `match_pattern` reads them (a leading `!` negates).
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((b'?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// A comma-separated pattern list admits `text` when a positive pattern matches and no
/// negated (`!`) one does.
fn pattern_list_admits(patterns: &[String], text: &str) -> bool {
    let mut admitted = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg, text) {
                return false;
            }
        } else if glob(p, text) {
            admitted = true;
        }
    }
    admitted
}

fn parse_signer_line(raw: &str, line: usize) -> Result<Option<AllowedSigner>, String> {
    let text = raw.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let toks = tokens(text)?;
    let Some((principals, rest)) = toks.split_first() else {
        return Ok(None);
    };
    // The options field is present when the token after the principals is not a key type.
    let is_key_type =
        |t: &str| t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-");
    let (options, key_toks) = match rest.first() {
        Some(t) if !is_key_type(t) => (Some(*t), &rest[1..]),
        _ => (None, rest),
    };
    if key_toks.len() < 2 {
        return Err("expected `principals [options] keytype base64-key`".into());
    }
    let key = PublicKey::from_openssh(&format!("{} {}", key_toks[0], key_toks[1]))
        .map_err(|e| format!("cannot read the key: {e}"))?;
    let mut signer = AllowedSigner {
        principals: unquote(principals).to_string(),
        namespaces: None,
        valid_after: None,
        valid_before: None,
        cert_authority: false,
        key,
        line,
    };
    for opt in options.map(split_options).unwrap_or_default() {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v))),
            None => (opt, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("cert-authority", None) => signer.cert_authority = true,
            ("namespaces", Some(v)) => {
                signer.namespaces = Some(v.split(',').map(|s| s.trim().to_string()).collect());
            }
            ("valid-after", Some(v)) => {
                signer.valid_after =
                    Some(parse_ssh_time(v).ok_or_else(|| format!("bad valid-after time `{v}`"))?);
            }
            ("valid-before", Some(v)) => {
                signer.valid_before =
                    Some(parse_ssh_time(v).ok_or_else(|| format!("bad valid-before time `{v}`"))?);
            }
            _ => return Err(format!("unknown or malformed option `{opt}`")),
        }
    }
    Ok(Some(signer))
}

/// Parse an `allowed_signers` file; errors name the line.
pub fn parse_allowed_signers(file: &str, text: &str) -> Result<Vec<AllowedSigner>, KeysError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        match parse_signer_line(raw, i + 1) {
            Ok(Some(s)) => out.push(s),
            Ok(None) => {}
            Err(message) => {
                return Err(KeysError::AllowedSigners {
                    file: file.to_string(),
                    line: i + 1,
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// Verify an SSHSIG over `payload`, made at `time` (Unix seconds).
pub fn verify_ssh(
    signers: &[AllowedSigner],
    signature: &[u8],
    payload: &[u8],
    time: i64,
) -> Verification {
    let Ok(sig) = SshSig::from_pem(signature) else {
        return Verification::no("malformed SSH signature");
    };
    if sig.namespace() != GIT_NAMESPACE {
        return Verification::no(format!(
            "SSH signature made for namespace `{}`, not `git`",
            sig.namespace()
        ));
    }
    let lines: Vec<&AllowedSigner> = signers
        .iter()
        .filter(|s| !s.cert_authority && s.key.key_data() == sig.public_key())
        .collect();
    let Some(first) = lines.first() else {
        return Verification::no("SSH key not in the allowed signers");
    };
    if first.key.verify(GIT_NAMESPACE, payload, &sig).is_err() {
        return Verification::no(
            "bad SSH signature (the object was changed or the signature belongs elsewhere)",
        );
    }
    let mut why = Vec::new();
    for s in &lines {
        if let Some(ns) = &s.namespaces
            && !pattern_list_admits(ns, GIT_NAMESPACE)
        {
            why.push(format!("line {}: namespaces exclude git", s.line));
            continue;
        }
        if s.valid_after.is_some_and(|t| time < t) {
            why.push(format!("line {}: signed before valid-after", s.line));
            continue;
        }
        if s.valid_before.is_some_and(|t| time > t) {
            why.push(format!("line {}: signed after valid-before", s.line));
            continue;
        }
        return Verification::Verified {
            signer: s.principals.clone(),
        };
    }
    Verification::no(format!("SSH key not allowed ({})", why.join("; ")))
}

// ---------------------------------------------------------------------------------------------
// OpenPGP

/// Parse an OpenPGP keyring: one or more armored blocks, or binary packets. Keys whose
/// self-signatures do not verify are rejected (a keyring with a forged binding is an error).
pub fn parse_keyring(file: &str, bytes: &[u8]) -> Result<Vec<SignedPublicKey>, KeysError> {
    let err = |message: String| KeysError::Keyring {
        file: file.to_string(),
        message,
    };
    const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    let mut keys = Vec::new();
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains(BEGIN));
    let parts: Vec<&[u8]> = match text {
        Some(t) => {
            let starts: Vec<usize> = t.match_indices(BEGIN).map(|(i, _)| i).collect();
            let ends = starts.iter().skip(1).copied().chain([t.len()]);
            starts
                .iter()
                .zip(ends)
                .map(|(&s, e)| &t.as_bytes()[s..e])
                .collect()
        }
        None => vec![bytes],
    };
    for part in parts {
        let (iter, _) =
            SignedPublicKey::from_reader_many(Cursor::new(part)).map_err(|e| err(e.to_string()))?;
        for key in iter {
            let key = key.map_err(|e| err(e.to_string()))?;
            key.verify_bindings().map_err(|e| {
                err(format!(
                    "key {} has an invalid self-signature: {e}",
                    key.fingerprint()
                ))
            })?;
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err(err("no public key in it".into()));
    }
    Ok(keys)
}

fn hex_id(k: &pgp::types::KeyId) -> String {
    k.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn primary_uid(key: &SignedPublicKey) -> String {
    key.details
        .users
        .first()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .unwrap_or_default()
}

/// Verify an OpenPGP detached signature over `payload` with the keyring's primary keys and
/// signing subkeys.
pub fn verify_openpgp(keys: &[SignedPublicKey], signature: &[u8], payload: &[u8]) -> Verification {
    let Ok((sig, _)) = DetachedSignature::from_armor_single(Cursor::new(signature)) else {
        return Verification::no("malformed OpenPGP signature");
    };
    let issuers_id: Vec<String> = sig
        .signature
        .issuer_key_id()
        .iter()
        .map(|k| hex_id(k))
        .collect();
    let issuers_fp: Vec<String> = sig
        .signature
        .issuer_fingerprint()
        .iter()
        .map(|f| format!("{f:x}"))
        .collect();
    let names = |id: String, fp: String| issuers_id.contains(&id) || issuers_fp.contains(&fp);
    let mut issuer_known = false;
    for key in keys {
        let who = format!("{:x} {}", key.fingerprint(), primary_uid(key));
        let primary = &key.primary_key;
        if names(
            hex_id(&primary.legacy_key_id()),
            format!("{:x}", primary.fingerprint()),
        ) {
            issuer_known = true;
            if sig.verify(primary, payload).is_ok() {
                return Verification::Verified { signer: who };
            }
        }
        for sub in &key.public_subkeys {
            if !sub.signatures.iter().any(|s| s.key_flags().sign()) {
                continue;
            }
            if names(
                hex_id(&sub.key.legacy_key_id()),
                format!("{:x}", sub.key.fingerprint()),
            ) {
                issuer_known = true;
                if sig.verify(&sub.key, payload).is_ok() {
                    return Verification::Verified { signer: who };
                }
            }
        }
    }
    if issuer_known {
        Verification::no(
            "bad OpenPGP signature (the object was changed or the signature belongs elsewhere)",
        )
    } else {
        Verification::no(format!(
            "OpenPGP key {} not in the keyring",
            issuers_fp
                .first()
                .or(issuers_id.first())
                .map_or("(unnamed)", |s| s.as_str())
        ))
    }
}

/// Verify one git signature of `kind` against the keys given; `None` when no keys were given
/// at all (nothing to verify against).
pub fn verify(
    keys: &Keys,
    kind: SigKind,
    signature: &[u8],
    payload: &[u8],
    time: i64,
) -> Option<Verification> {
    if !keys.any() {
        return None;
    }
    Some(match kind {
        SigKind::Ssh => match &keys.ssh {
            Some(s) => verify_ssh(s, signature, payload, time),
            None => Verification::no("SSH signature, but no --allowed-signers given"),
        },
        SigKind::Openpgp => match &keys.openpgp {
            Some(k) => verify_openpgp(k, signature, payload),
            None => Verification::no("OpenPGP signature, but no --keyring given"),
        },
        SigKind::X509 => Verification::no("X.509 (gitsign) signatures are not verified"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_times() {
        assert_eq!(parse_ssh_time("19700101"), Some(0));
        assert_eq!(parse_ssh_time("19700101000001Z"), Some(1));
        assert_eq!(parse_ssh_time("197001010001"), Some(60));
        assert_eq!(parse_ssh_time("1970010"), None);
        assert_eq!(parse_ssh_time("19701301"), None);
        assert_eq!(parse_ssh_time("-9700101"), None);
    }

    #[test]
    fn globs_and_pattern_lists() {
        assert!(glob("*@example.com", "a@example.com"));
        assert!(!glob("*@example.com", "a@example.org"));
        assert!(glob("g?t", "git"));
        let l = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(pattern_list_admits(&l(&["file", "git"]), "git"));
        assert!(!pattern_list_admits(&l(&["file"]), "git"));
        assert!(!pattern_list_admits(&l(&["*", "!git"]), "git"));
    }

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    #[test]
    fn allowed_signers_lines() {
        let text = format!(
            "# team\n\nalice@example.com {KEY}\n\"bob@x,carol@x\" namespaces=\"git,file\",valid-before=\"20300101\" {KEY} laptop\n"
        );
        let s = parse_allowed_signers("allowed", &text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].principals, "alice@example.com");
        assert!(s[0].namespaces.is_none());
        assert_eq!(s[1].principals, "bob@x,carol@x");
        assert_eq!(s[1].namespaces.as_deref().unwrap(), ["git", "file"]);
        assert_eq!(s[1].valid_before, parse_ssh_time("20300101"));
        assert_eq!(s[1].line, 4);
    }

    #[test]
    fn allowed_signers_errors_name_the_line() {
        let e = parse_allowed_signers("f", &format!("a@x {KEY}\nb@x frobnicate {KEY}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f:2: unknown or malformed option `frobnicate`"),
            "{e}"
        );
        let e = parse_allowed_signers("f", "a@x ssh-ed25519 AAAA!!\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f:1: cannot read the key"), "{e}");
        let e = parse_allowed_signers("f", "a@x \"namespaces=git\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unterminated quote"), "{e}");
    }

    #[test]
    fn garbage_signatures_are_unverified_not_errors() {
        let keys = Keys {
            ssh: Some(Vec::new()),
            openpgp: Some(Vec::new()),
        };
        for kind in [SigKind::Ssh, SigKind::Openpgp, SigKind::X509] {
            let v = verify(&keys, kind, b"-----BEGIN nonsense\x00\xff", b"payload", 0).unwrap();
            assert!(!v.is_verified());
        }
        assert!(verify(&Keys::default(), SigKind::Ssh, b"", b"", 0).is_none());
    }
}
