//! Who can make a GitLab job run: `rules:`, `only:`/`except:` and `workflow: rules:` read
//! for two attacker scenarios.
//!
//! - **Merge request**: a merge request pipeline (`$CI_PIPELINE_SOURCE ==
//!   "merge_request_event"`). Any developer's branch gets one; a fork's merge request gets one
//!   in the parent project once a maintainer runs it there — with the parent's variables.
//! - **Any branch**: a push to a branch the attacker names (`$CI_COMMIT_BRANCH` is theirs to
//!   choose). A rule naming one branch (`== "main"`, `== $CI_DEFAULT_BRANCH`, `only: [main]`)
//!   is taken to mean that protected branch; a pattern (`=~ /^release/`, `only: [/^v.*/]`)
//!   is not, because the attacker can create a branch that matches it. Tags count as
//!   protected refs: whether the project protects them is a setting we cannot see.
//!
//! `if:` expressions are evaluated three-valued: a variable we cannot know (a project
//! variable) makes the result unknown, and an unknown rule is taken to match unless it says
//! `when: never` — a rule we cannot read never hides a path.

use super::{Filter, OnlySpec, RuleItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    MergeRequest,
    AnyBranch,
}

impl Scenario {
    pub fn label(self) -> &'static str {
        match self {
            Scenario::MergeRequest => "merge_request_event",
            Scenario::AnyBranch => "push to any branch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// What a variable holds in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Unset,
    Known(String),
    /// A name the attacker chooses (a new branch).
    Attacker,
    /// The default (protected) branch's name.
    DefaultBranch,
    /// Set, value not known (`$CI_MERGE_REQUEST_IID`).
    Set,
    /// A project variable: set or not, we cannot know.
    Unknown,
}

fn var(name: &str, s: Scenario) -> Val {
    let mr = s == Scenario::MergeRequest;
    match name {
        "CI_PIPELINE_SOURCE" => Val::Known(if mr { "merge_request_event" } else { "push" }.into()),
        "CI_COMMIT_BRANCH" if mr => Val::Unset,
        "CI_COMMIT_BRANCH" | "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => Val::Attacker,
        "CI_COMMIT_TAG" => Val::Unset,
        "CI_DEFAULT_BRANCH" => Val::DefaultBranch,
        "CI_COMMIT_REF_PROTECTED" => Val::Known("false".into()),
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME" if mr => Val::Attacker,
        "CI_COMMIT_MESSAGE" | "CI_COMMIT_TITLE" | "CI_COMMIT_DESCRIPTION" => Val::Attacker,
        n if n.starts_with("CI_MERGE_REQUEST_") || n.starts_with("CI_EXTERNAL_PULL_REQUEST_") => {
            if mr {
                Val::Set
            } else {
                Val::Unset
            }
        }
        n if n.starts_with("CI_") || n.starts_with("GITLAB_") => Val::Set,
        _ => Val::Unknown,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Op(&'static str),
    Var(String),
    Str(String),
    Regex(String),
    Null,
}

fn tokens(src: &str) -> Option<Vec<Tok>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let rest = &src[i..];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == b')' {
            out.push(Tok::RParen);
            i += 1;
        } else if rest.starts_with("&&") {
            out.push(Tok::And);
            i += 2;
        } else if rest.starts_with("||") {
            out.push(Tok::Or);
            i += 2;
        } else if let Some(op) = ["==", "!=", "=~", "!~"]
            .iter()
            .find(|o| rest.starts_with(**o))
        {
            out.push(Tok::Op(op));
            i += 2;
        } else if c == b'$' {
            let body = rest[1..].trim_start_matches('{');
            let n = body
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(body.len());
            out.push(Tok::Var(body[..n].to_string()));
            i += 1 + (rest.len() - 1 - body.len()) + n;
            if src.as_bytes().get(i) == Some(&b'}') {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            let end = rest[1..].find(c as char)? + 1;
            out.push(Tok::Str(rest[1..end].to_string()));
            i += end + 1;
        } else if c == b'/' {
            // `/pattern/flags`; an escaped slash does not end it.
            let mut j = 1;
            let rb = rest.as_bytes();
            while j < rb.len() && !(rb[j] == b'/' && rb[j - 1] != b'\\') {
                j += 1;
            }
            if j >= rb.len() {
                return None;
            }
            let pat = &rest[1..j];
            let mut k = j + 1;
            let mut flags = String::new();
            while k < rb.len() && rb[k].is_ascii_alphabetic() {
                flags.push(rb[k] as char);
                k += 1;
            }
            out.push(Tok::Regex(if flags.contains('i') {
                format!("(?i){pat}")
            } else {
                pat.to_string()
            }));
            i += k;
        } else if rest.starts_with("null") {
            out.push(Tok::Null);
            i += 4;
        } else {
            return None;
        }
    }
    Some(out)
}

struct Eval<'a> {
    toks: &'a [Tok],
    pos: usize,
    s: Scenario,
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self, depth: usize) -> Option<Tri> {
        let mut v = self.and(depth)?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            v = v.or(self.and(depth)?);
        }
        Some(v)
    }

    fn and(&mut self, depth: usize) -> Option<Tri> {
        let mut v = self.cmp(depth)?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            v = v.and(self.cmp(depth)?);
        }
        Some(v)
    }

    fn operand(&mut self) -> Option<Operand> {
        let t = self.peek()?.clone();
        self.pos += 1;
        Some(match t {
            Tok::Var(n) => Operand::Val(var(&n, self.s)),
            Tok::Str(s) => Operand::Val(Val::Known(s)),
            Tok::Null => Operand::Val(Val::Unset),
            Tok::Regex(r) => Operand::Regex(r),
            _ => return None,
        })
    }

    fn cmp(&mut self, depth: usize) -> Option<Tri> {
        if depth > 32 {
            return None;
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let v = self.or(depth + 1)?;
            if self.peek() != Some(&Tok::RParen) {
                return None;
            }
            self.pos += 1;
            return Some(v);
        }
        let left = self.operand()?;
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            // A bare variable: set and not empty.
            return Some(match left {
                Operand::Val(v) => truthy(&v),
                Operand::Regex(_) => Tri::Unknown,
            });
        };
        self.pos += 1;
        let right = self.operand()?;
        Some(compare(&left, op, &right))
    }
}

enum Operand {
    Val(Val),
    Regex(String),
}

fn truthy(v: &Val) -> Tri {
    match v {
        Val::Unset => Tri::False,
        Val::Known(s) => {
            if s.is_empty() {
                Tri::False
            } else {
                Tri::True
            }
        }
        Val::Attacker | Val::DefaultBranch | Val::Set => Tri::True,
        Val::Unknown => Tri::Unknown,
    }
}

fn equals(a: &Val, b: &Val) -> Tri {
    match (a, b) {
        (Val::Unknown, _) | (_, Val::Unknown) | (Val::Set, _) | (_, Val::Set) => Tri::Unknown,
        (Val::Unset, Val::Unset) => Tri::True,
        (Val::Unset, _) | (_, Val::Unset) => Tri::False,
        (Val::Known(x), Val::Known(y)) => {
            if x == y {
                Tri::True
            } else {
                Tri::False
            }
        }
        // An attacker-named branch is never an existing (protected) branch of that name.
        (Val::Attacker, _) | (_, Val::Attacker) => Tri::False,
        (Val::DefaultBranch, Val::DefaultBranch) => Tri::True,
        (Val::DefaultBranch, Val::Known(_)) | (Val::Known(_), Val::DefaultBranch) => Tri::Unknown,
    }
}

/// A pattern that only matches one literal name (`/^main$/`).
fn literal_pattern(p: &str) -> bool {
    let inner = p.strip_prefix('^').and_then(|r| r.strip_suffix('$'));
    inner.is_some_and(|i| {
        i.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c))
    })
}

fn matches(v: &Val, re: &str) -> Tri {
    match v {
        Val::Unset => Tri::False,
        Val::Known(s) => match regex::Regex::new(re) {
            Ok(r) => {
                if r.is_match(s) {
                    Tri::True
                } else {
                    Tri::False
                }
            }
            Err(_) => Tri::Unknown,
        },
        // The attacker names a branch that matches, unless the pattern is one exact name.
        Val::Attacker => {
            if literal_pattern(re) {
                Tri::False
            } else {
                Tri::True
            }
        }
        _ => Tri::Unknown,
    }
}

fn compare(l: &Operand, op: &str, r: &Operand) -> Tri {
    match (l, op, r) {
        (Operand::Val(a), "==", Operand::Val(b)) => equals(a, b),
        (Operand::Val(a), "!=", Operand::Val(b)) => match (a, b) {
            (Val::Attacker, Val::Known(_) | Val::DefaultBranch)
            | (Val::Known(_) | Val::DefaultBranch, Val::Attacker) => Tri::True,
            _ => equals(a, b).not(),
        },
        (Operand::Val(a), "=~", Operand::Regex(re)) => matches(a, re),
        (Operand::Val(a), "!~", Operand::Regex(re)) => match a {
            Val::Attacker => Tri::True,
            _ => matches(a, re).not(),
        },
        _ => Tri::Unknown,
    }
}

/// Evaluate an `if:` expression; what we cannot parse is unknown.
fn eval(cond: &str, s: Scenario) -> Tri {
    let Some(toks) = tokens(cond) else {
        return Tri::Unknown;
    };
    let mut e = Eval {
        toks: &toks,
        pos: 0,
        s,
    };
    match e.or(0) {
        Some(v) if e.pos == toks.len() => v,
        _ => Tri::Unknown,
    }
}

/// The line of the first rule that lets the job run in `s`, if one does.
pub fn rules_run(rules: &[RuleItem], s: Scenario) -> Option<u32> {
    for r in rules {
        let v = r.cond.as_deref().map_or(Tri::True, |c| eval(c, s));
        let never = r.when.as_deref() == Some("never");
        match (v, never) {
            (Tri::True, true) => return None,
            (Tri::True, false) | (Tri::Unknown, false) => return Some(r.line),
            _ => {}
        }
    }
    None
}

fn refs_run(spec: &OnlySpec, s: Scenario) -> bool {
    spec.refs.iter().any(|r| match (r.as_str(), s) {
        ("branches" | "pushes", Scenario::AnyBranch) => true,
        ("merge_requests" | "external_pull_requests", Scenario::MergeRequest) => true,
        (p, Scenario::AnyBranch) if p.starts_with('/') => {
            let pat = p.trim_start_matches('/');
            let pat = pat.rsplit_once('/').map_or(pat, |(a, _)| a);
            !literal_pattern(pat)
        }
        _ => false,
    })
}

/// Does the job run in scenario `s`? The line that lets it (a rule, `only:`, or the job's
/// own line for GitLab's default), if it does.
pub fn runs(filter: &Filter, job_line: u32, s: Scenario) -> Option<u32> {
    match filter {
        Filter::Rules(r) => rules_run(r, s),
        // GitLab's default: branches and tags, no merge request pipelines.
        Filter::Default => (s == Scenario::AnyBranch).then_some(job_line),
        Filter::OnlyExcept { only, except, line } => {
            let only_ok = match only {
                None => s == Scenario::AnyBranch,
                Some(o) => {
                    let refs_ok = if o.refs.is_empty() {
                        s == Scenario::AnyBranch
                    } else {
                        refs_run(o, s)
                    };
                    let vars_ok = o.variables.is_empty()
                        || o.variables.iter().any(|v| eval(v, s) != Tri::False);
                    refs_ok && vars_ok
                }
            };
            let excluded = except.as_ref().is_some_and(|e| {
                e.refs.iter().any(|r| {
                    matches!(
                        (r.as_str(), s),
                        ("branches" | "pushes", Scenario::AnyBranch)
                            | ("merge_requests", Scenario::MergeRequest)
                    )
                }) || e.variables.iter().any(|v| eval(v, s) == Tri::True)
            });
            (only_ok && !excluded).then_some(*line)
        }
    }
}

/// Does the pipeline as a whole run in `s` (`workflow: rules:`)?
pub fn workflow_runs(rules: Option<&[RuleItem]>, s: Scenario) -> bool {
    match rules {
        None => true,
        Some(r) => rules_run(r, s).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(cond: &str, when: Option<&str>) -> RuleItem {
        RuleItem {
            cond: Some(cond.into()),
            when: when.map(Into::into),
            file: String::new(),
            line: 7,
        }
    }

    #[test]
    fn expressions() {
        use Scenario::*;
        assert_eq!(
            eval(
                "$CI_PIPELINE_SOURCE == \"merge_request_event\"",
                MergeRequest
            ),
            Tri::True
        );
        assert_eq!(
            eval("$CI_PIPELINE_SOURCE == 'merge_request_event'", AnyBranch),
            Tri::False
        );
        assert_eq!(eval("$CI_COMMIT_TAG", AnyBranch), Tri::False);
        assert_eq!(
            eval("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", AnyBranch),
            Tri::False
        );
        assert_eq!(eval("$CI_COMMIT_BRANCH == \"main\"", AnyBranch), Tri::False);
        assert_eq!(
            eval("$CI_COMMIT_BRANCH =~ /^release/", AnyBranch),
            Tri::True
        );
        assert_eq!(eval("$CI_COMMIT_BRANCH =~ /^main$/", AnyBranch), Tri::False);
        assert_eq!(eval("$CI_MERGE_REQUEST_IID", MergeRequest), Tri::True);
        assert_eq!(
            eval("$CI_COMMIT_TAG || $CI_COMMIT_BRANCH", AnyBranch),
            Tri::True
        );
        assert_eq!(
            eval("$CI_COMMIT_TAG && $DEPLOY == \"yes\"", AnyBranch),
            Tri::False
        );
        assert_eq!(eval("$DEPLOY == \"yes\"", AnyBranch), Tri::Unknown);
        assert_eq!(
            eval("($CI_PIPELINE_SOURCE =~ /merge/ ) && $X", MergeRequest),
            Tri::Unknown
        );
        assert_eq!(
            eval("$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH", AnyBranch),
            Tri::True
        );
        assert_eq!(eval("garbage ((", AnyBranch), Tri::Unknown);
    }

    #[test]
    fn first_matching_rule_decides() {
        let r = [
            rule(
                "$CI_PIPELINE_SOURCE == \"merge_request_event\"",
                Some("never"),
            ),
            rule("$CI_COMMIT_BRANCH", None),
        ];
        assert_eq!(rules_run(&r, Scenario::MergeRequest), None);
        assert_eq!(rules_run(&r, Scenario::AnyBranch), Some(7));
        let tags = [rule("$CI_COMMIT_TAG", None)];
        assert_eq!(rules_run(&tags, Scenario::AnyBranch), None);
        assert_eq!(rules_run(&tags, Scenario::MergeRequest), None);
        // A rule we cannot evaluate is taken to match.
        let unknown = [rule("$RELEASE == \"1\"", None)];
        assert_eq!(rules_run(&unknown, Scenario::MergeRequest), Some(7));
    }

    #[test]
    fn only_and_except() {
        let only = |refs: &[&str]| Filter::OnlyExcept {
            only: Some(OnlySpec {
                refs: refs.iter().map(|s| s.to_string()).collect(),
                variables: Vec::new(),
            }),
            except: None,
            line: 3,
        };
        assert_eq!(runs(&only(&["tags"]), 1, Scenario::AnyBranch), None);
        assert_eq!(
            runs(&only(&["main", "release"]), 1, Scenario::AnyBranch),
            None
        );
        assert_eq!(
            runs(&only(&["/^release-.*$/"]), 1, Scenario::AnyBranch),
            Some(3)
        );
        assert_eq!(
            runs(&only(&["merge_requests"]), 1, Scenario::MergeRequest),
            Some(3)
        );
        assert_eq!(runs(&Filter::Default, 1, Scenario::AnyBranch), Some(1));
        assert_eq!(runs(&Filter::Default, 1, Scenario::MergeRequest), None);
    }
}
