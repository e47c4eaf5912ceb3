//! A cheap upper estimate of how deep the parser (and our visitor) will recurse on a source.
//!
//! oxc parses by recursive descent without a depth limit, so `((((…))))` 100k deep, or a
//! million `!`, exhausts any stack and aborts the process. Before parsing a large file we run
//! this byte scan: it skips comments, strings, template text and (heuristically) regex
//! literals, and counts, per bracket level, the tokens that make the parser or the visitor
//! recurse without a bracket (`?`, assignments, `=>`, unary operators, `else`, `new`,
//! `await`, member and call chains). `;` and `,` end such a chain. The estimate is the bracket
//! depth plus the open chains; files above the limit are recorded as `too_deep` and not parsed.

/// Estimate the recursion depth of `src`; stops early once the estimate exceeds `limit`.
#[inline(never)]
pub(crate) fn estimate(src: &[u8], limit: u32) -> u32 {
    let mut s = Scanner {
        src,
        i: 0,
        prev: b';',
        levels: Vec::new(),
        top: 0,
        chain_sum: 0,
        max: 0,
        limit,
    };
    s.run();
    s.max
}

struct Scanner<'s> {
    src: &'s [u8],
    i: usize,
    /// Last significant byte, to tell regex from division and unary from binary operators.
    /// Identifiers and numbers are recorded as `a`, strings as `"`.
    prev: u8,
    /// Saved chain counters of the enclosing levels, and whether the level is a `${`.
    levels: Vec<(u32, bool)>,
    /// Chain counter of the current level.
    top: u32,
    /// Sum of all chain counters (saved ones and `top`).
    chain_sum: u32,
    max: u32,
    limit: u32,
}

/// Identifier bytes (ASCII letters, digits, `_`, `$`, and every non-ASCII byte).
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
        i += 1;
    }
    t
};

#[inline]
fn is_ident(b: u8) -> bool {
    IDENT[b as usize]
}

impl Scanner<'_> {
    fn at(&self, k: usize) -> u8 {
        self.src.get(self.i + k).copied().unwrap_or(0)
    }

    fn record(&mut self) -> bool {
        let est = (self.levels.len() as u32).saturating_add(self.chain_sum);
        if est > self.max {
            self.max = est;
        }
        self.max > self.limit
    }

    fn chain(&mut self, n: u32) -> bool {
        self.top = self.top.saturating_add(n);
        self.chain_sum = self.chain_sum.saturating_add(n);
        self.record()
    }

    fn reset_chain(&mut self) {
        self.chain_sum -= self.top;
        self.top = 0;
    }

    fn open(&mut self, template: bool) -> bool {
        self.levels.push((self.top, template));
        self.top = 0;
        self.record()
    }

    /// Close a level; returns true when it was a template substitution.
    fn close(&mut self) -> bool {
        match self.levels.pop() {
            Some((saved, template)) => {
                self.chain_sum -= self.top;
                self.top = saved;
                template
            }
            None => false,
        }
    }

    fn regex_allowed(&self) -> bool {
        !(is_ident(self.prev) || matches!(self.prev, b')' | b']' | b'}' | b'"'))
    }

    fn run(&mut self) {
        let src = self.src;
        let len = src.len();
        while self.i < len {
            // Whitespace and identifiers are most of the bytes: tight local loops.
            let mut i = self.i;
            while i < len && matches!(src[i], b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            if i >= len {
                self.i = i;
                return;
            }
            if is_ident(src[i]) {
                let start = i;
                while i < len && is_ident(src[i]) {
                    i += 1;
                }
                self.i = i;
                if self.word(start) {
                    return;
                }
                continue;
            }
            self.i = i;
            let c = src[i];
            match c {
                b'/' if self.at(1) == b'/' => self.skip_line(),
                b'/' if self.at(1) == b'*' => self.skip_block_comment(),
                b'/' if self.regex_allowed() => {
                    self.skip_regex();
                    self.prev = b'"';
                }
                b'"' | b'\'' => {
                    self.skip_string(c);
                    self.prev = b'"';
                }
                b'`' => {
                    self.i += 1;
                    if self.template_text() {
                        return;
                    }
                }
                b'(' | b'[' | b'{' => {
                    // `f(a)(b)` and `a[0][1]` chain without nesting brackets.
                    if matches!(self.prev, b')' | b']') && c != b'{' && self.chain(1) {
                        return;
                    }
                    self.i += 1;
                    self.prev = c;
                    if self.open(false) {
                        return;
                    }
                }
                b')' | b']' | b'}' => {
                    self.i += 1;
                    self.prev = c;
                    if self.close() && self.template_text() {
                        return;
                    }
                }
                b';' | b',' => {
                    self.reset_chain();
                    self.i += 1;
                    self.prev = c;
                }
                b'.' if self.at(1) == b'.' && self.at(2) == b'.' => {
                    self.i += 3;
                    self.prev = b'.';
                }
                b'.' if !self.at(1).is_ascii_digit() => {
                    self.i += 1;
                    self.prev = b'.';
                    if self.chain(1) {
                        return;
                    }
                }
                b'?' => {
                    let n = if self.at(1) == b'?' { 0 } else { 1 };
                    self.i += if n == 0 { 2 } else { 1 };
                    self.prev = b'?';
                    if self.chain(n) {
                        return;
                    }
                }
                b'=' | b'!' | b'~' | b'<' | b'>' | b'+' | b'-' | b'*' | b'%' | b'&' | b'|'
                | b'^' | b':' => {
                    if self.operator_run() {
                        return;
                    }
                }
                _ => {
                    self.i += 1;
                    self.prev = c;
                }
            }
        }
    }

    fn rest(&self) -> &[u8] {
        self.src.get(self.i..).unwrap_or(&[])
    }

    fn skip_line(&mut self) {
        self.i = memchr::memchr(b'\n', self.rest()).map_or(self.src.len(), |k| self.i + k);
    }

    fn skip_block_comment(&mut self) {
        self.i += 2;
        // Find `*/` as a `/` preceded by `*` inside the comment: a `memmem` search would build
        // a searcher per comment, which costs more than the search in JSDoc-heavy sources.
        let body = self.rest();
        let mut from = 0;
        while let Some(k) = body.get(from..).and_then(|r| memchr::memchr(b'/', r)) {
            let slash = from + k;
            if slash > 0 && body.get(slash - 1) == Some(&b'*') {
                self.i += slash + 1;
                return;
            }
            from = slash + 1;
        }
        self.i = self.src.len();
    }

    fn skip_string(&mut self, quote: u8) {
        self.i += 1;
        while let Some(k) = memchr::memchr3(quote, b'\\', b'\n', self.rest()) {
            self.i += k;
            match self.src[self.i] {
                b'\\' => self.i += 2,
                b'\n' => return,
                _ => {
                    self.i += 1;
                    return;
                }
            }
        }
        self.i = self.src.len();
    }

    fn skip_regex(&mut self) {
        self.i += 1;
        let mut class = false;
        while self.i < self.src.len() {
            match self.src[self.i] {
                b'\\' => self.i += 2,
                b'\n' => return,
                b'[' => {
                    class = true;
                    self.i += 1;
                }
                b']' => {
                    class = false;
                    self.i += 1;
                }
                b'/' if !class => {
                    self.i += 1;
                    while self.i < self.src.len() && is_ident(self.src[self.i]) {
                        self.i += 1;
                    }
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    /// Scan template text up to the closing backtick or a `${`. Returns true to stop.
    fn template_text(&mut self) -> bool {
        while let Some(k) = memchr::memchr3(b'`', b'\\', b'$', self.rest()) {
            self.i += k;
            match self.src[self.i] {
                b'\\' => self.i += 2,
                b'`' => {
                    self.i += 1;
                    self.prev = b'"';
                    return false;
                }
                _ if self.at(1) == b'{' => {
                    self.i += 2;
                    self.prev = b'{';
                    return self.open(true);
                }
                _ => self.i += 1,
            }
        }
        self.i = self.src.len();
        false
    }

    /// A run of operator characters. Counts assignments, arrows, `**`, and operators in
    /// prefix position (`!!!x`, `- -x`, JSX `<a><b>`), which recurse in the parser.
    fn operator_run(&mut self) -> bool {
        let unary_position = !(is_ident(self.prev) || matches!(self.prev, b')' | b']' | b'"'));
        let start = self.i;
        while self.i < self.src.len()
            && matches!(
                self.src[self.i],
                b'=' | b'!'
                    | b'~'
                    | b'<'
                    | b'>'
                    | b'+'
                    | b'-'
                    | b'*'
                    | b'%'
                    | b'&'
                    | b'|'
                    | b'^'
                    | b':'
            )
        {
            self.i += 1;
        }
        let run = &self.src[start..self.i];
        self.prev = run.last().copied().unwrap_or(b'=');
        let mut n: u32 = 0;
        if run.ends_with(b"=")
            && !matches!(run, b"==" | b"===" | b"!=" | b"!==" | b"<=" | b">=")
            && !run.ends_with(b"!==")
            && !run.ends_with(b"===")
        {
            n += 1;
        }
        n += run
            .windows(2)
            .filter(|w| *w == b"=>" || *w == b"**")
            .count() as u32;
        let prefix_ops = run
            .iter()
            .filter(|&&b| b == b'!' || b == b'~')
            .count()
            .saturating_sub(usize::from(run.ends_with(b"!=") || run.ends_with(b"!==")));
        n += prefix_ops as u32;
        // `+` and `-` recurse in prefix position (`- -x`, `=-x`); the first of a run is
        // binary when it follows an operand. Every `<` counts: JSX (`<a><b>`) and TypeScript
        // generics (`A<B<C>>`) nest through it, and comparison chains are short.
        let signs = run.iter().filter(|&&b| matches!(b, b'+' | b'-')).count() as u32;
        let binary_first = !unary_position && matches!(run.first(), Some(b'+' | b'-'));
        n += signs.saturating_sub(u32::from(binary_first));
        n += run.iter().filter(|&&b| b == b'<').count() as u32;
        n > 0 && self.chain(n)
    }

    /// The identifier or keyword `src[start..self.i]`.
    fn word(&mut self, start: usize) -> bool {
        let w = &self.src[start..self.i];
        let after_paren = self.prev == b')';
        self.prev = b'a';
        // Keywords are 2–10 lower-case letters; minified names mostly are not.
        if w.len() < 2 || w.len() > 10 || !w[0].is_ascii_lowercase() {
            return false;
        }
        // One match: `n` recursion steps, and whether `/` after the word starts a regex.
        let (n, regex_after) = match w {
            b"else" | b"new" | b"await" | b"typeof" | b"void" | b"delete" | b"yield" => (1, true),
            b"do" => (u32::from(after_paren), true),
            b"if" | b"for" | b"while" | b"with" => (u32::from(after_paren), false),
            b"return" | b"case" | b"in" | b"of" | b"throw" | b"instanceof" => (0, true),
            _ => return false,
        };
        if regex_after {
            self.prev = b'=';
        }
        n > 0 && self.chain(n)
    }
}

#[cfg(test)]
mod tests {
    use super::estimate;

    #[test]
    fn ordinary_code_is_shallow() {
        let src = br#"
            const a = require('x'); // ((((( in a comment
            function f(b) { return b ? g(b.c.d) : "(((((" + `${h({x: [1, 2]})}`; }
            if (a) { f(1); } else if (b) { f(2); } else { f(3); }
            const re = /[(]+/g; x = a / b / c;
        "#;
        assert!(estimate(src, 10_000) < 20, "{}", estimate(src, 10_000));
    }

    #[test]
    fn nesting_is_counted() {
        let parens = format!("x={}1{};", "(".repeat(5000), ")".repeat(5000));
        assert!(estimate(parens.as_bytes(), 100_000) >= 5000);
        let nots = format!("x={}1;", "!".repeat(5000));
        assert!(estimate(nots.as_bytes(), 100_000) >= 5000);
        let ternary = format!("x={}0;", "a?1:".repeat(5000));
        assert!(estimate(ternary.as_bytes(), 100_000) >= 5000);
        let elseif = format!("{}x;", "if(a){x()}else ".repeat(5000));
        assert!(estimate(elseif.as_bytes(), 100_000) >= 5000);
        let members = format!("x=a{};", ".b".repeat(5000));
        assert!(estimate(members.as_bytes(), 100_000) >= 5000);
        let calls = format!("x=f{};", "(a)".repeat(5000));
        assert!(estimate(calls.as_bytes(), 100_000) >= 5000);
        let tpl = format!("x={}{};", "`${".repeat(5000), "}`".repeat(5000));
        assert!(estimate(tpl.as_bytes(), 100_000) >= 5000);
        let neg = format!("x={}1;", "- ".repeat(5000));
        assert!(estimate(neg.as_bytes(), 100_000) >= 5000);
    }

    #[test]
    fn sequences_reset() {
        let seq = "a=b?c:d,".repeat(100_000);
        assert!(estimate(seq.as_bytes(), 10_000) < 10);
        let stmts = "x.y.z(a);".repeat(100_000);
        assert!(estimate(stmts.as_bytes(), 10_000) < 10);
    }

    #[test]
    fn block_comments_end_at_the_first_star_slash() {
        // `/*/` does not close the comment; the `(` after it is code, the ones inside are not.
        assert_eq!(estimate(b"/*/ ((( */ (x);", 100), 1);
        assert_eq!(estimate(b"/* a/b ** / */ (x);", 100), 1);
        assert_eq!(estimate(b"/*/(((", 100), 0);
        assert_eq!(estimate(b"/**/(x)", 100), 1);
    }

    #[test]
    fn stops_early() {
        let deep = "(".repeat(1_000_000);
        let e = estimate(deep.as_bytes(), 100);
        assert!(e > 100 && e < 200);
    }
}
