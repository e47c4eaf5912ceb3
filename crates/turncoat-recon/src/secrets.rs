//! Secrets in history, one record per distinct value (sans-IO: hits in, records out).
//!
//! The same token often sits in several blobs (a file edited after the leak); it is one
//! record, cited at the oldest commit and path that introduced it, and "at HEAD" when any blob
//! that holds it is in `HEAD`'s tree.

use std::collections::HashMap;

use serde::Serialize;

use crate::detect::{Redacted, SecretKind};
use crate::history::RepoFacts;

#[derive(Debug, Clone, Serialize)]
pub struct SecretRecord {
    pub rule: SecretKind,
    pub publish_credential: bool,
    pub redacted: Redacted,
    /// The commit that introduced it first.
    pub commit: String,
    /// Committer time of that commit.
    pub time: i64,
    /// Who committed it (the author of that commit).
    pub author_email: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub at_head: bool,
    /// Where it is at `HEAD`, when it still is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_path: Option<String>,
    /// AWS: the secret access key sits beside the key id.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paired_secret: bool,
    /// First found in a commit or tag message rather than a file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_message: bool,
    /// Blobs that hold it.
    pub blobs: usize,
    /// `commit:path:rule:line`, what `.turncoat/recon-baseline.json` lists.
    pub fingerprint: String,
}

/// One record per distinct secret value, oldest first.
pub fn records(facts: &RepoFacts) -> Vec<SecretRecord> {
    let mut by_value: HashMap<&crate::detect::SecretValue, usize> = HashMap::new();
    let mut out: Vec<SecretRecord> = Vec::new();
    // `facts.hits` is ordered by commit (oldest first).
    for h in &facts.hits {
        if let Some(&i) = by_value.get(&h.hit.value) {
            let r = &mut out[i];
            r.blobs += 1;
            r.paired_secret |= h.hit.paired_secret;
            if r.head_path.is_none() && h.head_path.is_some() {
                r.at_head = true;
                r.head_path = h.head_path.clone();
            }
            continue;
        }
        let commit = &facts.commits[h.commit];
        let line = h.hit.line;
        let fingerprint = format!(
            "{}:{}:{}:{}",
            commit.id,
            h.path,
            h.hit.kind,
            line.unwrap_or(0)
        );
        by_value.insert(&h.hit.value, out.len());
        out.push(SecretRecord {
            rule: h.hit.kind,
            publish_credential: h.hit.kind.is_publish_credential(),
            redacted: h.hit.value.redacted(),
            commit: commit.id.clone(),
            time: commit.time,
            author_email: commit.author_email.clone(),
            path: h.path.clone(),
            line,
            at_head: h.head_path.is_some(),
            head_path: h.head_path.clone(),
            paired_secret: h.hit.paired_secret,
            in_message: h.in_message,
            blobs: 1,
            fingerprint,
        });
    }
    out
}
