//! Git repositories with signed commits and tags, built in a test: keys generated with the
//! `pgp` (OpenPGP) and `ssh-key` (SSH) crates, objects written with the git CLI
//! (`git hash-object`, `git update-ref`) so the bytes are exactly what git stores and signs.
//! Shared by turncoat-posture's tests and the CLI's (`#[path]`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pgp::composed::{
    ArmorOptions, DetachedSignature, EncryptionCaps, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::Password;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, SshSig};

/// Signs a payload: returns the armored signature.
pub type Signer<'a> = &'a dyn Fn(&[u8]) -> String;

/// A fresh OpenPGP key (Ed25519, primary key signs) for `uid`.
pub fn pgp_key(uid: &str) -> SignedSecretKey {
    let mut params = SecretKeyParamsBuilder::default();
    params
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .can_encrypt(EncryptionCaps::None)
        .primary_user_id(uid.into());
    params
        .build()
        .unwrap()
        .generate(rand::thread_rng())
        .unwrap()
}

/// The armored public key (a keyring of one).
pub fn pgp_public_armored(key: &SignedSecretKey) -> String {
    SignedPublicKey::from(key.clone())
        .to_armored_string(ArmorOptions::default())
        .unwrap()
}

/// An armored detached signature over `payload`, as `gpg --detach-sign --armor` makes for git.
pub fn pgp_sign(key: &SignedSecretKey, payload: &[u8]) -> String {
    DetachedSignature::sign_binary_data(
        rand::thread_rng(),
        &key.primary_key,
        &Password::empty(),
        HashAlgorithm::Sha256,
        payload,
    )
    .unwrap()
    .to_armored_string(ArmorOptions::default())
    .unwrap()
}

pub fn ssh_key() -> PrivateKey {
    PrivateKey::random(&mut rand::thread_rng(), Algorithm::Ed25519).unwrap()
}

/// `keytype base64` of the public key.
pub fn ssh_public(key: &PrivateKey) -> String {
    key.public_key().to_openssh().unwrap()
}

/// An SSHSIG over `payload` in `namespace`, PEM-armored.
pub fn ssh_sign(key: &PrivateKey, namespace: &str, payload: &[u8]) -> String {
    SshSig::sign(key, namespace, HashAlg::Sha512, payload)
        .unwrap()
        .to_pem(LineEnding::LF)
        .unwrap()
}

/// A repository under construction: commits on `main`, tags, one object at a time.
pub struct Repo {
    pub path: PathBuf,
    pub head: Option<String>,
    pub tree: String,
}

pub fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write as _;
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Alice")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("git");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A signature as a `gpgsig` header: every line after the first indented by one space.
fn header(name: &str, sig: &str) -> String {
    let mut out = format!("{name} ");
    out.push_str(&sig.trim_end().replace('\n', "\n "));
    out.push('\n');
    out
}

impl Repo {
    pub fn new(path: &Path) -> Repo {
        git(path, &["init", "-q", "-b", "main"], None);
        let tree = git(
            path,
            &["hash-object", "-t", "tree", "-w", "--stdin"],
            Some(b""),
        );
        Repo {
            path: path.to_path_buf(),
            head: None,
            tree,
        }
    }

    /// The bytes of a commit without a signature (the payload a signer signs).
    pub fn payload(&self, time: i64, message: &str) -> String {
        let mut s = format!("tree {}\n", self.tree);
        if let Some(p) = &self.head {
            s.push_str(&format!("parent {p}\n"));
        }
        s.push_str(&format!(
            "author Alice <alice@example.com> {time} +0000\ncommitter Alice <alice@example.com> {time} +0000\n\n{message}\n"
        ));
        s
    }

    /// Write a commit whose `payload` carries `signature` (if any) and move `main` to it.
    pub fn commit_raw(&mut self, payload: &str, signature: Option<&str>) -> String {
        let body = match signature {
            None => payload.to_string(),
            Some(sig) => {
                // The header goes after `committer`, as git writes it.
                let (head, rest) = payload.split_once("\n\n").unwrap();
                format!("{head}\n{}\n{rest}", header("gpgsig", sig))
            }
        };
        let id = git(
            &self.path,
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(body.as_bytes()),
        );
        git(&self.path, &["update-ref", "refs/heads/main", &id], None);
        self.head = Some(id.clone());
        id
    }

    /// A commit at `time` signed by `sign` over its own payload (or unsigned).
    pub fn commit(&mut self, time: i64, message: &str, sign: Option<Signer<'_>>) -> String {
        let payload = self.payload(time, message);
        let sig = sign.map(|f| f(payload.as_bytes()));
        self.commit_raw(&payload, sig.as_deref())
    }

    /// A lightweight tag on `main`.
    pub fn lightweight_tag(&self, name: &str) {
        let head = self.head.clone().unwrap();
        git(
            &self.path,
            &["update-ref", &format!("refs/tags/{name}"), &head],
            None,
        );
    }

    /// An annotated tag on `main`, signed by `sign` (the signature is appended to the
    /// message, as `git tag -s` does).
    pub fn annotated_tag(&self, name: &str, time: i64, sign: Option<Signer<'_>>) {
        let head = self.head.clone().unwrap();
        let payload = format!(
            "object {head}\ntype commit\ntag {name}\ntagger Alice <alice@example.com> {time} +0000\n\nrelease {name}\n"
        );
        let body = match sign {
            Some(f) => format!(
                "{payload}{}",
                f(payload.as_bytes()).trim_end().to_string() + "\n"
            ),
            None => payload,
        };
        let id = git(
            &self.path,
            &["hash-object", "-t", "tag", "-w", "--stdin"],
            Some(body.as_bytes()),
        );
        git(
            &self.path,
            &["update-ref", &format!("refs/tags/{name}"), &id],
            None,
        );
    }
}
