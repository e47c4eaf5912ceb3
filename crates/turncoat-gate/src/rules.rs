//! The gate's own rules: findings about the changed set itself rather than a package's code.

use turncoat_finding::{Level, RuleDoc, Severity};

pub const UNVERIFIABLE_SOURCE: RuleDoc = RuleDoc {
    code: "unverifiable-source",
    group: "gate",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "an update brings in a git, remote-tarball or file dependency whose content the gate cannot fetch and judge",
    doc: "## What it flags\n\
A package that is new or changed in the head lockfile and is locked to a git repository, a remote \
tarball URL or a local file instead of a registry version.\n\n\
## Why it matters\n\
The gate judges an update by comparing registry tarballs. Content behind a git URL can change \
without a new version, runs its `prepare` script on install, and was the carrier of the 2026 \
TanStack wave (an `optionalDependencies` entry pointing at a git commit). An update that adds \
such a source cannot be judged, so it fails closed.\n\n\
## Example\n\
`\"node_modules/payload\": {\"resolved\": \"git+ssh://git@github.com/attacker/payload.git#0d1c…\"}` \
appearing in the head lockfile.\n\n\
## How to silence\n\
Review the source, then add an exception pinned to `name@version` in `turncoat.toml`.",
};

pub const NEW_DEPENDENCY_BLOCKED: RuleDoc = RuleDoc {
    code: "new-dependency-blocked",
    group: "gate",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the update adds a dependency that is itself blocked",
    doc: "## What it flags\n\
An updated package whose new version pulls in a package that was not in the base lockfile, when \
that new package is itself blocked (for example an install script that reads the environment and \
opens a connection).\n\n\
## Why it matters\n\
Hiding the payload one level down keeps the updated package's own code clean: axios 1.14.1 (2026) \
only added `plain-crypto-js`, whose postinstall dropped a RAT; event-stream 3.3.6 (2018) only added \
`flatmap-stream`. Blocking the parent makes the PR that proposes it fail, not just the transitive line.\n\n\
## How to silence\n\
Fix or except the finding on the new dependency; this finding follows it.",
};

pub const FETCH_FAILED: RuleDoc = RuleDoc {
    code: "previous-version-unavailable",
    group: "gate",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the version being replaced could not be fetched, so the update was judged without history",
    doc: "## What it flags\n\
The base version of an update is no longer served by the registry (unpublished, or absent from \
an air-gapped mirror), so the new version was judged on its own, like `turncoat scan` does.\n\n\
## Why it matters\n\
History-relative judgement is what keeps the gate quiet on big packages; without it, the result is \
less precise. A base version that vanished can also be a sign of an incident.\n\n\
## How to silence\n\
Mirror the base version, or set this code to `allow`.",
};

pub const LOCKFILE_INTEGRITY_CHANGED: RuleDoc = RuleDoc {
    code: "lockfile-integrity-changed",
    group: "gate",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "the same package version is locked to a different integrity (tarball) than before",
    doc: "## What it flags\n\
A registry package whose version did not change between the base and head lockfiles, but whose \
`integrity` did (changed, added or dropped). The gate fetches what the registry serves for that \
`name@version`, checks it against both integrities and says which side matches.\n\n\
## Why it matters\n\
A version's content never changes on the npm registry. A pull request that edits only the \
`integrity` (and usually `resolved`) of an existing entry swaps the tarball that will be \
installed while the diff looks like noise: the \"lockfile injection\" shape. When the head side \
matches the registry, the base lockfile was the wrong one (or the registry changed its bytes): \
that is still worth a look, so it is reported, never silently passed. Two integrities of the \
same bytes in different algorithms (sha1 → sha512) are not reported.\n\n\
## Example\n\
`node_modules/pad` stays at `1.0.1` but its `integrity` moves from the registry's \
`sha512-K3…` to `sha512-9f…` and `resolved` to another host.\n\n\
## How to silence\n\
Regenerate the entry with `npm install`. An exception must name this code explicitly \
(`codes = [\"lockfile-integrity-changed\"]`).",
};

pub fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &UNVERIFIABLE_SOURCE,
        &NEW_DEPENDENCY_BLOCKED,
        &FETCH_FAILED,
        &LOCKFILE_INTEGRITY_CHANGED,
    ]
}
