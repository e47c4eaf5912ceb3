//! `py-sdist-only`: the release has no wheel where the previous one had.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::DistKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-sdist-only",
    group: "pyanalyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The release ships only an sdist where the previous release had wheels: installing it runs its `setup.py`/build backend.",
    doc: r#"Judged from the kinds of file each release has on the index (or, comparing two files, from their kinds): fires when the previous release had a wheel and the new one has none.

**Why it matters.** Wheels install without running code; an sdist is built on the installing machine, running `setup.py` or the build backend — the install-time hook Python otherwise lacks. An attacker with an upload token but no access to the project's build may also simply not be able to produce the usual wheels. `--only-binary :all:` (pip) or `no-build` (uv) refuses the build.

**How to silence.** A policy exception on `py-sdist-only` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let had = if cx.ctx.old_kinds.is_empty() {
        cx.old.kind == DistKind::Wheel
    } else {
        cx.ctx.old_kinds.contains(&DistKind::Wheel)
    };
    let has = if cx.ctx.new_kinds.is_empty() {
        cx.new.kind == DistKind::Wheel
    } else {
        cx.ctx.new_kinds.contains(&DistKind::Wheel)
    };
    if had && !has {
        out.push(Finding::new(
            &RULE,
            format!(
                "{} has only an sdist (installing it runs its build code); {} had a wheel",
                cx.to(),
                cx.from()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::DistKind;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_wheels_disappear() {
        let old = facts(DistKind::Wheel, &[]);
        let new = facts(DistKind::Sdist, &[]);
        assert_eq!(
            run(&old, &new)
                .iter()
                .filter(|f| f.code == RULE.code)
                .count(),
            1
        );
    }

    #[test]
    fn quiet_when_the_release_still_has_a_wheel_or_never_had() {
        let wheel_ = facts(DistKind::Wheel, &[]);
        let sdist = facts(DistKind::Sdist, &[]);
        let mut ctx = crate::DiffContext::new("demo", "1", "2");
        ctx.old_kinds = [DistKind::Wheel, DistKind::Sdist].into();
        ctx.new_kinds = [DistKind::Wheel, DistKind::Sdist].into();
        assert!(
            crate::diff(&wheel_, &sdist, &ctx)
                .iter()
                .all(|f| f.code != RULE.code)
        );
        assert!(run(&sdist, &sdist).iter().all(|f| f.code != RULE.code));
    }
}
