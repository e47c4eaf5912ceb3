//! Identities in history, grouped by person (sans-IO: signatures in, people out).
//!
//! A person is a `.mailmap`-canonical e-mail address (case-insensitive). The addresses listed
//! for a person are the *raw* ones of the commits (what anyone who clones the repository
//! reads), each with its class, its commit count and when it was first and last used.

use std::collections::{BTreeMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};

use serde::Serialize;

use crate::email::{EmailClass, classify};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Author,
    Committer,
    /// A `Co-authored-by:` trailer.
    CoAuthor,
    /// Another identity trailer (`Signed-off-by:`, `Reviewed-by:`, `Acked-by:`, ...).
    Trailer,
    /// The tagger of an annotated tag (`commit` is then the tag object's id).
    Tagger,
}

/// Trailers whose value is a person (`Name <address>`), as git and the kernel use them.
pub const IDENTITY_TRAILERS: &[&str] = &[
    "co-authored-by",
    "signed-off-by",
    "reviewed-by",
    "acked-by",
    "tested-by",
    "reported-by",
    "suggested-by",
    "helped-by",
];

/// The role of trailer `token`, when it names a person.
pub fn trailer_role(token: &str) -> Option<Role> {
    let t = token.trim().to_ascii_lowercase();
    if t == "co-authored-by" {
        Some(Role::CoAuthor)
    } else if IDENTITY_TRAILERS.contains(&t.as_str()) {
        Some(Role::Trailer)
    } else {
        None
    }
}

/// One identity line of one commit or tag: author, committer, tagger or identity trailer.
#[derive(Debug, Clone)]
pub struct Signature {
    pub commit: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    /// After `.mailmap`.
    pub canonical_name: String,
    pub canonical_email: String,
    /// Seconds since the epoch.
    pub time: i64,
}

/// One raw address of a person.
#[derive(Debug, Clone, Serialize)]
pub struct EmailUse {
    pub email: String,
    pub class: EmailClass,
    /// Commits with this address as author or committer.
    pub commits: usize,
    pub first_seen: i64,
    pub last_seen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub emails: Vec<EmailUse>,
    /// Commits the person authored or committed.
    pub commits: usize,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Person {
    pub fn emails_of(&self, class: EmailClass) -> impl Iterator<Item = &EmailUse> {
        self.emails.iter().filter(move |e| e.class == class)
    }
}

/// One person while the signatures are grouped (borrowing from them: a history has many
/// more signatures than people, and copying each commit id twice was most of the grouping).
struct Acc<'a> {
    name: &'a str,
    email: &'a str,
    emails: BTreeMap<&'a str, (EmailUse, FxHashSet<&'a str>)>,
    commits: FxHashSet<&'a str>,
    first: i64,
    last: i64,
}

/// Group signatures by person; people ordered by commit count (most first), then e-mail.
pub fn people(sigs: &[Signature]) -> Vec<Person> {
    // Ordered below (commits, then address); a hash map is enough here.
    let mut by_key: FxHashMap<String, Acc<'_>> = FxHashMap::default();
    let mut key = String::new();
    for s in sigs {
        key.clear();
        key.push_str(&s.canonical_email);
        key.make_ascii_lowercase();
        if !by_key.contains_key(key.as_str()) {
            by_key.insert(
                key.clone(),
                Acc {
                    name: &s.canonical_name,
                    email: &s.canonical_email,
                    emails: BTreeMap::new(),
                    commits: FxHashSet::default(),
                    first: s.time,
                    last: s.time,
                },
            );
        }
        let Some(acc) = by_key.get_mut(key.as_str()) else {
            continue;
        };
        acc.commits.insert(&s.commit);
        acc.first = acc.first.min(s.time);
        acc.last = acc.last.max(s.time);
        let (use_, commits) = acc.emails.entry(&s.email).or_insert_with(|| {
            (
                EmailUse {
                    email: s.email.clone(),
                    class: classify(&s.email),
                    commits: 0,
                    first_seen: s.time,
                    last_seen: s.time,
                },
                FxHashSet::default(),
            )
        });
        commits.insert(&s.commit);
        use_.first_seen = use_.first_seen.min(s.time);
        use_.last_seen = use_.last_seen.max(s.time);
    }
    let mut out: Vec<Person> = by_key
        .into_values()
        .map(|acc| Person {
            name: acc.name.to_string(),
            email: acc.email.to_string(),
            emails: acc
                .emails
                .into_values()
                .map(|(mut u, c)| {
                    u.commits = c.len();
                    u
                })
                .collect(),
            commits: acc.commits.len(),
            first_seen: acc.first,
            last_seen: acc.last,
        })
        .collect();
    out.sort_by(|a, b| b.commits.cmp(&a.commits).then(a.email.cmp(&b.email)));
    out
}

/// The distinct raw addresses of `people` in `class`.
pub fn count_emails(people: &[Person], class: EmailClass) -> usize {
    people
        .iter()
        .flat_map(|p| p.emails_of(class))
        .map(|e| e.email.to_ascii_lowercase())
        .collect::<HashSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(commit: &str, role: Role, email: &str, canonical: &str, time: i64) -> Signature {
        Signature {
            commit: commit.into(),
            role,
            name: "N".into(),
            email: email.into(),
            canonical_name: "N".into(),
            canonical_email: canonical.into(),
            time,
        }
    }

    #[test]
    fn groups_by_canonical_address_and_counts_commits_once() {
        let sigs = [
            sig("c1", Role::Author, "a@gmail.com", "a@corp.io", 10),
            sig("c1", Role::Committer, "a@gmail.com", "a@corp.io", 10),
            sig("c2", Role::Author, "a@corp.io", "a@corp.io", 20),
            sig(
                "c2",
                Role::Committer,
                "b@laptop.local",
                "b@laptop.local",
                20,
            ),
        ];
        let p = people(&sigs);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].email, "a@corp.io");
        assert_eq!(p[0].commits, 2);
        assert_eq!((p[0].first_seen, p[0].last_seen), (10, 20));
        let gmail = p[0]
            .emails
            .iter()
            .find(|e| e.email == "a@gmail.com")
            .unwrap();
        assert_eq!(gmail.commits, 1);
        assert_eq!(gmail.class, EmailClass::Personal);
        assert_eq!(count_emails(&p, EmailClass::Personal), 1);
        assert_eq!(count_emails(&p, EmailClass::Local), 1);
        assert_eq!(count_emails(&p, EmailClass::Organisation), 1);
    }
}
