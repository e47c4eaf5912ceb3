//! `py-encoded-exec`: the release newly executes decoded data or the contents of a non-Python
//! file.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, detail_rule};
use crate::facts::{Capability, Moment};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-encoded-exec",
    group: "pyanalyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "Code newly executes decoded data (`exec(base64…)`, `exec(zlib.decompress(…))`, `marshal.loads`) or the contents of a non-Python file.",
    doc: r#"Fires when `exec`, `eval`, `compile` or `types.FunctionType` receive the result of a decoder (`base64.*decode`, `codecs.decode`, `zlib`/`bz2`/`lzma`/`gzip.decompress`, `binascii`, `bytes.fromhex`), directly or through a name assigned from one; when `marshal.loads` appears; or when `exec(open(F).read())` reads a file that is not a `.py` (the file's code is then analysed at the moment of the exec). Compared by decoder chain or file name: only what the previous release did not have fires.

**Why it matters.** Hiding the payload from readers and scanners is the point of decode-then-exec; the PyPI malware corpus is full of `exec(zlib.decompress(base64.b64decode(...)))`. Libraries execute generated code, not encoded code.

**Severity.** Critical at install, start or import time; high at call time.

**How to silence.** A policy exception on `py-encoded-exec` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(detail_rule(
        cx,
        &RULE,
        Capability::EncodedExec,
        "executes decoded or loaded code",
        |m| {
            if m <= Moment::Import {
                Severity::Critical
            } else {
                Severity::High
            }
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_decode_then_exec_through_a_name() {
        let new = "import base64 as b, zlib\n_p = zlib.decompress(b.b64decode('eJzLSM3JyQcABiwCFQ=='))\nexec(_p)\n";
        let f = init_diff("", new, RULE.code);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("decoded"), "{}", f[0].message);
    }

    #[test]
    fn quiet_for_plain_exec_and_known_chains() {
        assert!(init_diff("", "exec('x = 1')\n", RULE.code).is_empty());
        let same = "import base64\nexec(base64.b64decode(DATA))\n";
        assert!(init_diff(same, same, RULE.code).is_empty());
    }
}
