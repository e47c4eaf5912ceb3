//! `history-blob-not-scanned`: a blob was too large to scan within the memory cap.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use crate::history::SkippedBlob;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "history-blob-not-scanned",
    group: "recon",
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "A blob in history is larger than the scan cap and was not searched for secrets.",
    doc: r#"`turncoat recon` reads each blob whole (git packs store blobs as deltas of whole objects, so they cannot be streamed), and refuses blobs larger than `--max-blob-size` (default 32 MiB) to keep memory bounded. Each refused blob is reported, never skipped silently: the scan did not see what is inside.

**Why it matters.** A secret in a large file (a database dump, a bundled archive) is as exposed as one in a small file.

**How to fix.** Scan again with a larger `--max-blob-size`, or review the file by hand; silence a reviewed blob with its fingerprint in `.turncoat/recon-baseline.json`."#,
};

pub(crate) fn judge(commit: &str, b: &SkippedBlob) -> Finding {
    Finding::new(
        &RULE,
        format!(
            "{} ({} bytes, first in {}) is larger than the scan cap and was not scanned",
            b.path,
            b.size,
            crate::report::short(commit)
        ),
    )
    .with_evidence(Evidence::new(&b.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_blob_and_its_size() {
        let b = SkippedBlob {
            blob: "ab".into(),
            commit: 0,
            path: "dump.sql".into(),
            size: 99,
        };
        let f = judge("0123456789abcdef", &b);
        assert_eq!(f.code, RULE.code);
        assert!(
            f.message
                .contains("dump.sql (99 bytes, first in 0123456789ab)"),
            "{}",
            f.message
        );
    }
}
