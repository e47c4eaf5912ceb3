//! A strict JSON reader (and the JSONC dialect of `bun.lock`) that records line numbers.
//!
//! It is iterative, so hostile nesting cannot overflow the stack: depth beyond
//! `max_depth` is an error. JSONC mode additionally accepts `//` and `/* */` comments and
//! trailing commas, which is what Bun writes and reads.

use std::borrow::Cow;

use crate::tree::{Entry, KeySet, Node, Value};

/// A syntax error at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonOptions {
    pub max_depth: usize,
    pub jsonc: bool,
}

enum Frame<'a> {
    Seq {
        line: u32,
        items: Vec<Node<'a>>,
    },
    Map {
        line: u32,
        entries: Vec<Entry<'a>>,
        keys: KeySet<'a>,
        pending: Option<(Cow<'a, str>, u32)>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value; `close` says whether `]` may close the current list here.
    Value {
        close: bool,
    },
    /// A key; `close` says whether `}` may close the current object here.
    Key {
        close: bool,
    },
    CommaOrClose,
}

struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    opts: JsonOptions,
}

/// Parse one JSON document. Trailing content other than whitespace is an error.
pub(crate) fn parse(src: &str, opts: JsonOptions) -> Result<Node<'_>, SyntaxError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut r = Reader {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        opts,
    };
    r.run()
}

impl<'a> Reader<'a> {
    fn err(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), SyntaxError> {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.opts.jsonc => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    Some(b'*') => {
                        self.pos += 2;
                        loop {
                            match self.peek() {
                                None => return Err(self.err("unterminated comment")),
                                Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                    self.pos += 2;
                                    break;
                                }
                                Some(c) => {
                                    if c == b'\n' {
                                        self.line += 1;
                                    }
                                    self.pos += 1;
                                }
                            }
                        }
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    fn run(&mut self) -> Result<Node<'a>, SyntaxError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut expect = Expect::Value { close: false };
        loop {
            self.skip_ws()?;
            let line = self.line;
            let Some(c) = self.peek() else {
                return Err(self.err("unexpected end of input"));
            };
            let done: Option<Node<'a>> = match expect {
                Expect::Value { close } => {
                    if close && c == b']' {
                        self.pos += 1;
                        Some(close_frame(&mut stack))
                    } else {
                        match c {
                            b'{' | b'[' => {
                                if stack.len() >= self.opts.max_depth {
                                    return Err(self.err(format!(
                                        "nesting deeper than {} levels",
                                        self.opts.max_depth
                                    )));
                                }
                                self.pos += 1;
                                if c == b'{' {
                                    stack.push(Frame::Map {
                                        line,
                                        entries: Vec::new(),
                                        keys: KeySet::new(),
                                        pending: None,
                                    });
                                    expect = Expect::Key { close: true };
                                } else {
                                    stack.push(Frame::Seq {
                                        line,
                                        items: Vec::new(),
                                    });
                                    expect = Expect::Value { close: true };
                                }
                                None
                            }
                            b'"' => Some(Node::new(line, Value::Str(self.string()?))),
                            b't' => Some(Node::new(line, self.literal("true", Value::Bool(true))?)),
                            b'f' => {
                                Some(Node::new(line, self.literal("false", Value::Bool(false))?))
                            }
                            b'n' => Some(Node::new(line, self.literal("null", Value::Null)?)),
                            b'-' | b'0'..=b'9' => Some(Node::new(line, self.number()?)),
                            _ => return Err(self.err(format!("unexpected {}", describe(c)))),
                        }
                    }
                }
                Expect::Key { close } => {
                    if close && c == b'}' {
                        self.pos += 1;
                        Some(close_frame(&mut stack))
                    } else if c == b'"' {
                        let key = self.string()?;
                        self.skip_ws()?;
                        if self.peek() != Some(b':') {
                            return Err(self.err("expected ':' after an object key"));
                        }
                        self.pos += 1;
                        if let Some(Frame::Map {
                            entries,
                            keys,
                            pending,
                            ..
                        }) = stack.last_mut()
                        {
                            if !keys.insert(entries, &key) {
                                return Err(self.err(format!("duplicate key {key:?}")));
                            }
                            *pending = Some((key, line));
                        }
                        expect = Expect::Value { close: false };
                        None
                    } else {
                        return Err(
                            self.err(format!("expected an object key, found {}", describe(c)))
                        );
                    }
                }
                Expect::CommaOrClose => {
                    let in_map = matches!(stack.last(), Some(Frame::Map { .. }));
                    match c {
                        b',' => {
                            self.pos += 1;
                            let close = self.opts.jsonc;
                            expect = if in_map {
                                Expect::Key { close }
                            } else {
                                Expect::Value { close }
                            };
                            None
                        }
                        b'}' if in_map => {
                            self.pos += 1;
                            Some(close_frame(&mut stack))
                        }
                        b']' if !in_map => {
                            self.pos += 1;
                            Some(close_frame(&mut stack))
                        }
                        _ => {
                            return Err(self.err(format!(
                                "expected ',' or a closing bracket, found {}",
                                describe(c)
                            )));
                        }
                    }
                }
            };
            if let Some(node) = done {
                match stack.last_mut() {
                    None => {
                        self.skip_ws()?;
                        if let Some(c) = self.peek() {
                            return Err(self.err(format!(
                                "unexpected {} after the JSON document",
                                describe(c)
                            )));
                        }
                        return Ok(node);
                    }
                    Some(Frame::Seq { items, .. }) => items.push(node),
                    Some(Frame::Map {
                        entries, pending, ..
                    }) => {
                        // A value is only ever read after a key in a map.
                        let (key, line) = pending.take().unwrap_or_default();
                        entries.push(Entry { key, line, node });
                    }
                }
                expect = Expect::CommaOrClose;
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value<'a>) -> Result<Value<'a>, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn number(&mut self) -> Result<Value<'a>, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        self.digits();
        let int = &self.bytes[int_start..self.pos];
        if int.is_empty() || (int.len() > 1 && int[0] == b'0') {
            return Err(self.err("invalid number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(Value::Num(&self.src[start..self.pos]))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads a string starting at the opening quote; borrowed unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes.
        self.pos += plain_run(self.bytes.get(start..).unwrap_or_default());
        match self.peek() {
            Some(b'"') => {
                let s = &self.src[start..self.pos];
                self.pos += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(0..=0x1f) => return Err(self.err("control character in string")),
            // An escape, or the end of input (reported below).
            _ => {}
        }
        let mut out = String::from(&self.src[start..self.pos]);
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    // Lone surrogates cannot live in a Rust string.
                                    out.push('\u{fffd}');
                                    char::from_u32(lo)
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    }
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => {
                    // Copy a run of plain characters at once (char boundaries: the run
                    // stops only at ASCII bytes).
                    let run = self.pos;
                    self.pos += plain_run(self.bytes.get(run..).unwrap_or_default());
                    out.push_str(&self.src[run..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let Some(h) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err(self.err("truncated \\u escape"));
        };
        let mut v = 0u32;
        for &d in h {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }
}

/// How many bytes of `bytes` come before the first `"`, `\\` or control character: the
/// string scan, eight bytes at a time (the classic "has a zero / has a byte less than"
/// word tricks; exact, with bytes ≥ 0x80 never matching).
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = has_zero(w ^ (ONES * u64::from(b'"')))
            | has_zero(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if hits != 0 {
            break;
        }
        n += 8;
    }
    let tail = bytes.get(n..).unwrap_or_default();
    n + tail.iter().position(|&b| special(b)).unwrap_or(tail.len())
}

fn close_frame<'a>(stack: &mut Vec<Frame<'a>>) -> Node<'a> {
    match stack.pop() {
        Some(Frame::Seq { line, items }) => Node::new(line, Value::Seq(items)),
        Some(Frame::Map { line, entries, .. }) => Node::new(line, Value::Map(entries)),
        None => Node::new(0, Value::Null),
    }
}

fn describe(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}'", c as char)
    } else {
        format!("byte 0x{c:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: JsonOptions = JsonOptions {
        max_depth: 64,
        jsonc: false,
    };
    const JSONC: JsonOptions = JsonOptions {
        max_depth: 64,
        jsonc: true,
    };

    #[test]
    fn lines_and_values() {
        let n = parse(
            "{\n \"a\": [1, -2.5e3, true, null],\n \"b\": \"x\\u00e9\\n\"\n}",
            STRICT,
        )
        .unwrap();
        assert_eq!(n.entries()[0].line, 2);
        assert_eq!(n.entries()[1].line, 3);
        assert_eq!(n.get("b").unwrap().as_str(), Some("xé\n"));
        assert_eq!(n.get("a").unwrap().items().len(), 4);
        assert_eq!(n.get("a").unwrap().items()[1].as_text(), Some("-2.5e3"));
    }

    #[test]
    fn plain_run_stops_at_the_first_special_byte() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(b.len())
        };
        let mut text: Vec<u8> = "sha512-AbC+/=é😀~\x7f".bytes().cycle().take(40).collect();
        for at in 0..text.len() {
            for special in [b'"', b'\\', b'\n', 0, 0x1f] {
                let saved = text[at];
                text[at] = special;
                for start in 0..9 {
                    assert_eq!(plain_run(&text[start..]), naive(&text[start..]));
                }
                text[at] = saved;
            }
        }
        assert_eq!(plain_run(&text), text.len());
        assert_eq!(plain_run(b""), 0);
    }

    #[test]
    fn surrogate_pairs() {
        let n = parse(r#""\ud83d\ude00""#, STRICT).unwrap();
        assert_eq!(n.as_str(), Some("😀"));
        let n = parse(r#""\ud83d""#, STRICT).unwrap();
        assert_eq!(n.as_str(), Some("\u{fffd}"));
    }

    #[test]
    fn rejects_bad_json() {
        for bad in [
            "",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1 2",
            "\"a\nb\"",
            "nul",
            "{\"a\":1,\"a\":2}",
            "[\"\\x\"]",
            "{1:2}",
            "this is not json!",
        ] {
            assert!(parse(bad, STRICT).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn jsonc_accepts_trailing_commas_and_comments() {
        let n = parse("// c\n{\"a\": [1, 2,], /* x\n */ \"b\": {},}", JSONC).unwrap();
        assert_eq!(n.get("a").unwrap().items().len(), 2);
        assert_eq!(n.entries()[1].line, 3);
        assert!(parse("[,]", JSONC).is_err());
        assert!(parse("{,}", JSONC).is_err());
    }

    #[test]
    fn depth_is_capped() {
        let deep = "[".repeat(100_000);
        let e = parse(&deep, STRICT).unwrap_err();
        assert!(e.message.contains("nesting"), "{e:?}");
        let ok = format!("{}{}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&ok, STRICT).is_ok());
    }

    #[test]
    fn many_keys_duplicate_detected() {
        let mut s = String::from("{");
        for i in 0..40 {
            s.push_str(&format!("\"k{i}\":1,"));
        }
        s.push_str("\"k3\":2}");
        assert!(parse(&s, STRICT).unwrap_err().message.contains("duplicate"));
    }
}
