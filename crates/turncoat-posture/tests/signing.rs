//! Signed commits and tags on repositories built here: OpenPGP and SSH keys generated in the
//! test, unsigned, badly signed and wrongly signed commits, exact percentages, and the
//! attacker's attempts to pass as verified (a key not in allowed_signers, a valid signature
//! over another payload, a key restricted by namespace or by time, a key not in the keyring).

mod common;

use common::signed_repo::{self as sr, Repo};
use turncoat_posture::signing::{
    self, History, Keys, Limits, SigKind, Summary, Verification, keys,
};

const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z.
const JAN: i64 = 1_704_067_200;
const FEB: i64 = JAN + 31 * DAY;

struct World {
    _dir: tempfile::TempDir,
    repo: Repo,
    allowed_signers: String,
    keyring: String,
    ids: Vec<(&'static str, String)>,
}

impl World {
    fn id(&self, label: &str) -> &str {
        &self.ids.iter().find(|(l, _)| *l == label).unwrap().1
    }
}

/// Twelve commits and four tags:
/// - unsigned: `plain1`, `plain2`
/// - OpenPGP: `pgp-good` (team key), `pgp-stranger` (key not in the keyring),
///   `pgp-tampered` (signed, then the message changed)
/// - SSH: `ssh-good`, `ssh-stranger` (key not in allowed_signers), `ssh-copied` (a good
///   signature of `ssh-good`'s payload pasted onto another commit), `ssh-tampered`,
///   `ssh-file-ns` (key allowed only for `namespaces="file"`), `ssh-expired` (key with
///   `valid-before` earlier than the commit)
/// - X.509: `x509`
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = Repo::new(dir.path());
    let team_pgp = sr::pgp_key("Alice <alice@example.com>");
    let stranger_pgp = sr::pgp_key("Mallory <mallory@example.com>");
    let team_ssh = sr::ssh_key();
    let stranger_ssh = sr::ssh_key();
    let file_only_ssh = sr::ssh_key();
    let expired_ssh = sr::ssh_key();
    let allowed_signers = format!(
        "# the team\nalice@example.com {}\nbob@example.com namespaces=\"file\" {}\ncarol@example.com valid-before=\"20240115\" {}\n",
        sr::ssh_public(&team_ssh),
        sr::ssh_public(&file_only_ssh),
        sr::ssh_public(&expired_ssh),
    );
    let keyring = sr::pgp_public_armored(&team_pgp);

    let mut ids = Vec::new();
    let mut t = JAN;
    let mut next = |step: i64| {
        t += step;
        t
    };
    ids.push(("plain1", repo.commit(next(DAY), "plain1", None)));
    let pgp = |k: &pgp::composed::SignedSecretKey| {
        let k = k.clone();
        move |p: &[u8]| sr::pgp_sign(&k, p)
    };
    let ssh = |k: &ssh_key::PrivateKey, ns: &'static str| {
        let k = k.clone();
        move |p: &[u8]| sr::ssh_sign(&k, ns, p)
    };
    ids.push((
        "pgp-good",
        repo.commit(next(DAY), "pgp-good", Some(&pgp(&team_pgp))),
    ));
    let p = repo.payload(next(DAY), "ssh-good");
    let good_sig = sr::ssh_sign(&team_ssh, "git", p.as_bytes());
    ids.push(("ssh-good", repo.commit_raw(&p, Some(&good_sig))));
    ids.push((
        "pgp-stranger",
        repo.commit(next(DAY), "pgp-stranger", Some(&pgp(&stranger_pgp))),
    ));
    ids.push((
        "ssh-stranger",
        repo.commit(next(DAY), "ssh-stranger", Some(&ssh(&stranger_ssh, "git"))),
    ));
    // `ssh-good`'s valid team signature (over `ssh-good`'s bytes) pasted onto this commit.
    let p = repo.payload(next(DAY), "ssh-copied");
    ids.push(("ssh-copied", repo.commit_raw(&p, Some(&good_sig))));
    // Signed, then the message was changed.
    let p = repo.payload(next(DAY), "ssh-tampered");
    let sig = sr::ssh_sign(&team_ssh, "git", p.as_bytes());
    let p = p.replace("ssh-tampered", "ssh-tampered: now with a backdoor");
    ids.push(("ssh-tampered", repo.commit_raw(&p, Some(&sig))));
    let p = repo.payload(next(DAY), "pgp-tampered");
    let sig = sr::pgp_sign(&team_pgp, p.as_bytes());
    let p = p.replace("pgp-tampered", "pgp-tampered: now with a backdoor");
    ids.push(("pgp-tampered", repo.commit_raw(&p, Some(&sig))));
    // February: the restricted keys and the rest.
    t = FEB;
    let mut next = |step: i64| {
        t += step;
        t
    };
    ids.push((
        "ssh-file-ns",
        repo.commit(next(DAY), "ssh-file-ns", Some(&ssh(&file_only_ssh, "git"))),
    ));
    ids.push((
        "ssh-expired",
        repo.commit(next(DAY), "ssh-expired", Some(&ssh(&expired_ssh, "git"))),
    ));
    let p = repo.payload(next(DAY), "x509");
    ids.push((
        "x509",
        repo.commit_raw(
            &p,
            Some("-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n"),
        ),
    ));
    ids.push(("plain2", repo.commit(next(DAY), "plain2", None)));

    repo.lightweight_tag("v0.1.0");
    repo.annotated_tag("v0.2.0", FEB, None);
    repo.annotated_tag("v1.0.0", FEB, Some(&ssh(&team_ssh, "git")));
    repo.annotated_tag("nightly", FEB, None);
    World {
        _dir: dir,
        repo,
        allowed_signers,
        keyring,
        ids,
    }
}

fn keys_of(w: &World) -> Keys {
    Keys {
        ssh: Some(keys::parse_allowed_signers("allowed_signers", &w.allowed_signers).unwrap()),
        openpgp: Some(keys::parse_keyring("keyring.asc", w.keyring.as_bytes()).unwrap()),
    }
}

fn read(w: &World, keys: &Keys) -> History {
    signing::read_history(&w.repo.path, keys, &Limits::default()).unwrap()
}

fn verification<'a>(h: &'a History, id: &str) -> &'a Verification {
    h.commits
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .verification
        .as_ref()
        .unwrap()
}

fn reason(v: &Verification) -> &str {
    match v {
        Verification::Unverified { reason } => reason,
        Verification::Verified { signer } => panic!("verified by {signer}"),
    }
}

#[test]
fn counts_kinds_and_percentages_without_keys() {
    let w = world();
    let h = read(&w, &Keys::default());
    let s = Summary::of(&h);
    assert_eq!(s.branch, "main");
    assert_eq!((s.commits, s.signed), (12, 10));
    assert_eq!(s.signed_pct, Some(83.3));
    assert_eq!(s.by_kind[&SigKind::Openpgp], 3);
    assert_eq!(s.by_kind[&SigKind::Ssh], 6);
    assert_eq!(s.by_kind[&SigKind::X509], 1);
    assert_eq!(s.verified, None);
    assert!(h.commits.iter().all(|c| c.verification.is_none()));
    // Tags: 4, one signed; 3 release tags (nightly is not), one signed.
    assert_eq!(
        (s.tags, s.signed_tags, s.signed_tags_pct),
        (4, 1, Some(25.0))
    );
    assert_eq!((s.release_tags, s.signed_release_tags), (3, 1));
    assert_eq!(s.signed_release_tags_pct, Some(33.3));
    // Trend: January has 8 commits, 7 signed; February 4, 3 signed.
    assert_eq!(s.monthly.len(), 2);
    assert_eq!(
        (
            s.monthly[0].month.as_str(),
            s.monthly[0].commits,
            s.monthly[0].signed
        ),
        ("2024-01", 8, 7)
    );
    assert_eq!(
        (
            s.monthly[1].month.as_str(),
            s.monthly[1].commits,
            s.monthly[1].signed
        ),
        ("2024-02", 4, 3)
    );
}

#[test]
fn only_the_team_keys_over_the_stored_bytes_verify() {
    let w = world();
    let h = read(&w, &keys_of(&w));
    let s = Summary::of(&h);
    assert_eq!(s.verified, Some(2));
    assert_eq!(s.verified_pct, Some(16.7));
    assert_eq!(
        verification(&h, w.id("ssh-good")),
        &Verification::Verified {
            signer: "alice@example.com".into()
        }
    );
    assert!(
        matches!(verification(&h, w.id("pgp-good")), Verification::Verified { signer } if signer.ends_with("Alice <alice@example.com>"))
    );
    // Unsigned commits are not "unverified": they have no signature to verify.
    let plain = h.commits.iter().find(|c| c.id == w.id("plain1")).unwrap();
    assert_eq!((plain.kind, &plain.verification), (None, &None));
    assert_eq!(s.monthly[0].verified, Some(2));
    assert_eq!(s.monthly[1].verified, Some(0));
    // The signed release tag verifies too.
    let v1 = h.tags.iter().find(|t| t.name == "v1.0.0").unwrap();
    assert_eq!(
        v1.verification,
        Some(Verification::Verified {
            signer: "alice@example.com".into()
        })
    );
}

#[test]
fn attacker_signatures_stay_unverified() {
    let w = world();
    let h = read(&w, &keys_of(&w));
    let r = |l| reason(verification(&h, w.id(l))).to_string();
    assert_eq!(r("ssh-stranger"), "SSH key not in the allowed signers");
    assert!(
        r("ssh-copied").starts_with("bad SSH signature"),
        "{}",
        r("ssh-copied")
    );
    assert!(r("ssh-tampered").starts_with("bad SSH signature"));
    assert_eq!(
        r("ssh-file-ns"),
        "SSH key not allowed (line 3: namespaces exclude git)"
    );
    assert_eq!(
        r("ssh-expired"),
        "SSH key not allowed (line 4: signed after valid-before)"
    );
    assert!(
        r("pgp-stranger").starts_with("OpenPGP key ")
            && r("pgp-stranger").ends_with("not in the keyring")
    );
    assert!(r("pgp-tampered").starts_with("bad OpenPGP signature"));
    assert_eq!(r("x509"), "X.509 (gitsign) signatures are not verified");
}

#[test]
fn one_kind_of_key_leaves_the_other_kind_unverified() {
    let w = world();
    let only_ssh = Keys {
        ssh: keys_of(&w).ssh,
        openpgp: None,
    };
    let h = read(&w, &only_ssh);
    assert_eq!(Summary::of(&h).verified, Some(1));
    assert_eq!(
        reason(verification(&h, w.id("pgp-good"))),
        "OpenPGP signature, but no --keyring given"
    );
}

#[test]
fn a_signature_for_another_namespace_does_not_verify() {
    // A team key's signature made for `file` (what `ssh-keygen -Y sign -n file` makes for a
    // download) pasted onto a commit.
    let dir = tempfile::tempdir().unwrap();
    let mut repo = Repo::new(dir.path());
    let key = sr::ssh_key();
    let id = repo.commit(JAN, "x", Some(&|p: &[u8]| sr::ssh_sign(&key, "file", p)));
    let keys = Keys {
        ssh: Some(
            keys::parse_allowed_signers("a", &format!("a@x {}", sr::ssh_public(&key))).unwrap(),
        ),
        openpgp: None,
    };
    let h = signing::read_history(dir.path(), &keys, &Limits::default()).unwrap();
    assert_eq!(h.commits[0].id, id);
    assert_eq!(
        reason(h.commits[0].verification.as_ref().unwrap()),
        "SSH signature made for namespace `file`, not `git`"
    );
}

#[test]
fn the_rules_report_the_world() {
    let w = world();
    let h = read(&w, &keys_of(&w));
    let f = turncoat_posture::rules::check_history(&h);
    let codes: Vec<&str> = f.iter().map(|f| f.code()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "unsigned-commits").count(),
        1
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "unsigned-release-tags")
            .count(),
        1
    );
    // 10 signed commits, 2 verify: 8 unverified; every tag signature verifies.
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "signature-unverified")
            .count(),
        8
    );
    assert!(
        f[0].finding
            .message
            .starts_with("2 of 12 commits on main (16.7%) are unsigned")
    );
    assert_eq!(
        f[1].finding.message,
        "2 of 3 release tags (66.7%) are unsigned (1 lightweight, 1 annotated without a signature), e.g. v0.2.0"
    );
}

#[test]
fn the_walk_is_bounded() {
    let w = world();
    let h = signing::read_history(
        &w.repo.path,
        &Keys::default(),
        &Limits {
            max_commits: 5,
            max_tags: 2,
        },
    )
    .unwrap();
    assert_eq!(h.commits.len(), 5);
    assert_eq!(h.tags.len(), 2);
    assert!(h.truncated);
}

#[test]
fn a_directory_that_is_not_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = signing::read_history(dir.path(), &Keys::default(), &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("not a git repository"), "{e}");
}

/// Real git and ssh-keygen: `git commit -S` and `git tag -s` with `gpg.format=ssh`, so the
/// payload we verify is the one git really signs (ssh-keygen, from openssh-client, is
/// required).
#[test]
fn real_git_ssh_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let key = sr::ssh_key();
    let key_file = dir.path().join("id_ed25519");
    std::fs::write(
        &key_file,
        key.to_openssh(ssh_key::LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let repo_dir = dir.path().join("r");
    std::fs::create_dir(&repo_dir).unwrap();
    let _ = Repo::new(&repo_dir);
    let kf = key_file.to_str().unwrap();
    let cfg = ["-c", "gpg.format=ssh", "-c"];
    let signing_key = format!("user.signingkey={kf}");
    let g = |args: &[&str]| {
        let mut all: Vec<&str> = cfg.to_vec();
        all.push(&signing_key);
        all.extend_from_slice(args);
        sr::git(&repo_dir, &all, None)
    };
    g(&["commit", "-q", "--allow-empty", "-S", "-m", "signed by git"]);
    g(&[
        "commit",
        "-q",
        "--allow-empty",
        "--no-gpg-sign",
        "-m",
        "not signed",
    ]);
    g(&["tag", "-s", "-m", "release", "v1.0.0"]);
    let keys = Keys {
        ssh: Some(
            keys::parse_allowed_signers(
                "a",
                &format!("alice@example.com {}", sr::ssh_public(&key)),
            )
            .unwrap(),
        ),
        openpgp: None,
    };
    let h = signing::read_history(&repo_dir, &keys, &Limits::default()).unwrap();
    let s = Summary::of(&h);
    assert_eq!((s.commits, s.signed, s.verified), (2, 1, Some(1)));
    assert_eq!(s.signed_pct, Some(50.0));
    assert_eq!(
        h.tags[0].verification,
        Some(Verification::Verified {
            signer: "alice@example.com".into()
        })
    );
}
