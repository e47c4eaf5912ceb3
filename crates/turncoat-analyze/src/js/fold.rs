//! Constant folding of strings: what a module name, a property name or a URL built from
//! constants evaluates to.
//!
//! Payloads hide names by building them: `'child_' + 'process'`, `['ex', 'ec'].join('')`,
//! `String.fromCharCode(100, 110, 115)`, `atob('ZG5z')`, `Buffer.from('ZG5z', 'base64')
//! .toString()`, a template with constant parts, or a `const` holding one of those. [`fold`]
//! evaluates exactly those forms (no general interpreter: anything else is `None`), bounded in
//! depth and output length so a hostile file cannot make it expensive.

use base64::Engine as _;
use oxc_ast::ast::*;

use super::bindings::Consts;

/// Longest folded string.
pub(crate) const MAX_FOLDED: usize = 4096;
/// Deepest expression folded.
const MAX_DEPTH: u32 = 24;

/// The string `e` evaluates to, when it is built from constants only. `consts` are `const`
/// bindings of the file already folded (by name, in source order).
pub(crate) fn fold(e: &Expression<'_>, consts: &dyn Consts) -> Option<String> {
    fold_at(e, consts, MAX_DEPTH)
}

/// Whether `e` *builds* a string (concatenation, a template with substitutions, a decoder or
/// a join), as opposed to naming one (a literal, a variable, a property).
pub(crate) fn is_built(e: &Expression<'_>) -> bool {
    match e.get_inner_expression() {
        Expression::BinaryExpression(b) => b.operator == BinaryOperator::Addition,
        Expression::TemplateLiteral(t) => !t.expressions.is_empty(),
        Expression::CallExpression(c) => decoder(c).is_some() || join_of(c).is_some(),
        _ => false,
    }
}

fn fold_at(e: &Expression<'_>, consts: &dyn Consts, depth: u32) -> Option<String> {
    let depth = depth.checked_sub(1)?;
    let out = match e.get_inner_expression() {
        Expression::StringLiteral(s) => s.value.to_string(),
        Expression::NumericLiteral(n) if n.value.fract() == 0.0 && n.value.abs() < 1e15 => {
            format!("{}", n.value as i64)
        }
        Expression::TemplateLiteral(t) => {
            let mut s = String::new();
            for (i, q) in t.quasis.iter().enumerate() {
                s.push_str(q.value.cooked.unwrap_or(q.value.raw).as_str());
                if let Some(x) = t.expressions.get(i) {
                    s.push_str(&fold_at(x, consts, depth)?);
                }
                if s.len() > MAX_FOLDED {
                    return None;
                }
            }
            s
        }
        Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
            // Left-deep chains (`a + b + c …`) are walked iteratively.
            let mut parts = vec![&b.right];
            let mut left = &b.left;
            while let Expression::BinaryExpression(l) = left.get_inner_expression()
                && l.operator == BinaryOperator::Addition
            {
                parts.push(&l.right);
                left = &l.left;
                if parts.len() > 256 {
                    return None;
                }
            }
            let mut s = fold_at(left, consts, depth)?;
            for p in parts.iter().rev() {
                s.push_str(&fold_at(p, consts, depth)?);
                if s.len() > MAX_FOLDED {
                    return None;
                }
            }
            s
        }
        Expression::Identifier(id) => consts.constant(id.name.as_str())?.to_string(),
        Expression::CallExpression(c) => fold_call(c, consts, depth)?,
        _ => return None,
    };
    (out.len() <= MAX_FOLDED).then_some(out)
}

fn fold_call(c: &CallExpression<'_>, consts: &dyn Consts, depth: u32) -> Option<String> {
    if let Some((kind, arg)) = decoder(c) {
        return match kind {
            Decoder::Base64 => base64_text(&fold_at(arg?, consts, depth)?),
            Decoder::FromCharCode => {
                let mut s = String::new();
                for a in &c.arguments {
                    let n = match a.as_expression()?.get_inner_expression() {
                        Expression::NumericLiteral(n) => n.value,
                        _ => return None,
                    };
                    s.push(char::from_u32(n as u32)?);
                }
                Some(s)
            }
            Decoder::Hex => hex_text(&fold_at(arg?, consts, depth)?),
        };
    }
    if let Some((elements, sep)) = join_of(c) {
        let sep = match sep {
            Some(s) => fold_at(s, consts, depth)?,
            None => ",".to_string(),
        };
        let mut parts = Vec::with_capacity(elements.len());
        for el in elements {
            parts.push(fold_at(el.as_expression()?, consts, depth)?);
        }
        return Some(parts.join(&sep));
    }
    // `'x'.concat(…)`, `s.split('').reverse().join('')` is a join of a reverse: folded via
    // `join_of` only when the array is literal; `.toString()` passes its object through.
    let m = c.callee.as_member_expression()?;
    match m.static_property_name()? {
        "toString" if c.arguments.is_empty() => fold_at(m.object(), consts, depth),
        "concat" => {
            let mut s = fold_at(m.object(), consts, depth)?;
            for a in &c.arguments {
                s.push_str(&fold_at(a.as_expression()?, consts, depth)?);
            }
            Some(s)
        }
        _ => None,
    }
}

enum Decoder {
    Base64,
    Hex,
    FromCharCode,
}

/// `atob(x)`, `Buffer.from(x, 'base64'|'hex')` (with or without `.toString()` around it),
/// `String.fromCharCode(…)`: the decoder and its input.
fn decoder<'e, 'a>(c: &'e CallExpression<'a>) -> Option<(Decoder, Option<&'e Expression<'a>>)> {
    let callee = c.callee.get_inner_expression();
    let first = c.arguments.first().and_then(Argument::as_expression);
    if callee.is_specific_id("atob") {
        return Some((Decoder::Base64, first));
    }
    if callee.is_specific_member_access("String", "fromCharCode") {
        return Some((Decoder::FromCharCode, None));
    }
    if callee.is_specific_member_access("Buffer", "from") {
        let enc = c.arguments.get(1).and_then(Argument::as_expression)?;
        return match enc.get_inner_expression() {
            Expression::StringLiteral(s) if matches!(s.value.as_str(), "base64" | "base64url") => {
                Some((Decoder::Base64, first))
            }
            Expression::StringLiteral(s) if s.value == "hex" => Some((Decoder::Hex, first)),
            _ => None,
        };
    }
    // `Buffer.from(x, 'base64').toString()` / `.toString('utf8')`
    if let Some(m) = callee.as_member_expression()
        && m.static_property_name() == Some("toString")
        && let Expression::CallExpression(inner) = m.object().get_inner_expression()
    {
        return decoder(inner);
    }
    None
}

/// `[a, b].join(sep)`: the elements and the separator.
fn join_of<'e, 'a>(
    c: &'e CallExpression<'a>,
) -> Option<(&'e [ArrayExpressionElement<'a>], Option<&'e Expression<'a>>)> {
    let m = c.callee.as_member_expression()?;
    if m.static_property_name()? != "join" {
        return None;
    }
    let Expression::ArrayExpression(a) = m.object().get_inner_expression() else {
        return None;
    };
    if a.elements.len() > 256 {
        return None;
    }
    Some((
        a.elements.as_slice(),
        c.arguments.first().and_then(Argument::as_expression),
    ))
}

fn base64_text(s: &str) -> Option<String> {
    let t = s.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn hex_text(s: &str) -> Option<String> {
    String::from_utf8(hex::decode(s.trim()).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use oxc_allocator::Allocator;
    use oxc_parser::Parser;
    use oxc_span::SourceType;

    use super::*;

    fn fold_src(src: &str) -> Option<String> {
        let alloc = Allocator::default();
        let ret = Parser::new(&alloc, src, SourceType::cjs()).parse();
        let Some(Statement::ExpressionStatement(s)) = ret.program.body.first() else {
            panic!("not an expression: {src}");
        };
        fold(
            &s.expression,
            &std::collections::HashMap::<String, String>::new(),
        )
    }

    #[test]
    fn constant_forms_fold() {
        for (src, want) in [
            ("'child_' + 'process'", "child_process"),
            ("['ex', 'ec'].join('')", "exec"),
            ("['a', 'b', 'c'].join()", "a,b,c"),
            ("String.fromCharCode(100, 110, 115)", "dns"),
            ("atob('ZG5z')", "dns"),
            ("Buffer.from('ZG5z', 'base64').toString()", "dns"),
            ("Buffer.from('646e73', 'hex').toString('utf8')", "dns"),
            (
                "`https://${'col' + 'lect'}.evil.example/x`",
                "https://collect.evil.example/x",
            ),
            ("'a'.concat('b', 'c')", "abc"),
            (
                "'h' + 'ttp' + 's://x.example:' + 443",
                "https://x.example:443",
            ),
        ] {
            assert_eq!(fold_src(src).as_deref(), Some(want), "{src}");
        }
    }

    #[test]
    fn anything_else_does_not() {
        for src in [
            "x + 'a'",
            "atob(x)",
            "f('a')",
            "[a, 'b'].join('')",
            "`${x}.example`",
        ] {
            assert_eq!(fold_src(src), None, "{src}");
        }
    }
}
