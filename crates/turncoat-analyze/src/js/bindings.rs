//! What the names of a file hold, per function scope: a constant string, a value built at run
//! time, a choice between constants, key material.
//!
//! Minified bundles reuse one-letter names in every function. Keyed by name alone, a `C` bound
//! to a template in one function made `fetch(C)` in every other function "computed". Keyed by
//! scope, each function's declarations and parameters shadow the outer ones until the function
//! ends, and a plain declaration (`const C = endpoint()`) shadows as surely as a constant one.
//! A later declaration in the *same* scope replaces the earlier one from that point of the walk
//! on, as the value does at run time; one in a nested function never reaches back out, so a
//! name cannot be laundered by re-declaring it in dead code elsewhere.
//!
//! Scopes are functions (declarations, expressions, arrows), not blocks: `var` is function
//! scoped, and treating a block's `let` as the function's errs towards remembering more.
//! Hand-written because the walker needs it in one pass while it visits; the semantic model
//! (`super::flow`) costs a second parse and is kept for the files where the environment escapes.

use std::collections::HashMap;

/// Most bindings remembered per file (a hostile file cannot grow the tables without bound).
const MAX_BINDINGS: usize = 200_000;

/// What one binding holds, as far as the walker can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Binding {
    /// The constant string it holds (folded from literals and other constants).
    pub value: Option<String>,
    /// Built at run time from something that does not fold (a decoder of data, a template or
    /// concatenation with variable parts).
    pub computed: bool,
    /// The constant strings a choice can evaluate to (`cond ? 'https://a' : 'https://b'`).
    pub alternatives: Vec<String>,
    /// Built from key material (`const body = JSON.stringify({ privateKey })`).
    pub key: bool,
}

impl Binding {
    fn is_plain(&self) -> bool {
        *self == Binding::default()
    }
}

/// Something that names constant strings (for [`super::fold`]).
pub(crate) trait Consts {
    fn constant(&self, name: &str) -> Option<&str>;
}

impl Consts for HashMap<String, String> {
    fn constant(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// The bindings of a file, one table per function scope, innermost last.
#[derive(Debug)]
pub(crate) struct Bindings {
    scopes: Vec<HashMap<String, Binding>>,
    entries: usize,
    /// Whether any binding holds anything (a file of plain bindings skips every lookup).
    any: bool,
}

impl Default for Bindings {
    fn default() -> Bindings {
        Bindings {
            scopes: vec![HashMap::new()],
            entries: 0,
            any: false,
        }
    }
}

impl Consts for Bindings {
    fn constant(&self, name: &str) -> Option<&str> {
        self.get(name)?.value.as_deref()
    }
}

impl Bindings {
    /// The binding `name` resolves to where the walk is.
    pub(crate) fn get(&self, name: &str) -> Option<&Binding> {
        if !self.any {
            return None;
        }
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    pub(crate) fn computed(&self, name: &str) -> bool {
        self.get(name).is_some_and(|b| b.computed)
    }

    pub(crate) fn key(&self, name: &str) -> bool {
        self.get(name).is_some_and(|b| b.key)
    }

    pub(crate) fn alternatives(&self, name: &str) -> &[String] {
        self.get(name).map_or(&[], |b| b.alternatives.as_slice())
    }

    /// Declare `name` in the current scope. A plain binding is recorded only when it shadows
    /// something (so files of plain names cost nothing).
    pub(crate) fn declare(&mut self, name: &str, binding: Binding) {
        let plain = binding.is_plain();
        if plain && self.get(name).is_none() {
            return;
        }
        let Some(scope) = self.scopes.last_mut() else {
            return;
        };
        if !scope.contains_key(name) {
            if self.entries >= MAX_BINDINGS {
                return;
            }
            self.entries += 1;
        }
        self.any |= !plain;
        scope.insert(name.to_string(), binding);
    }

    pub(crate) fn enter(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub(crate) fn leave(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn computed() -> Binding {
        Binding {
            computed: true,
            ..Binding::default()
        }
    }

    #[test]
    fn inner_declarations_and_parameters_shadow_until_the_function_ends() {
        let mut b = Bindings::default();
        b.declare("C", computed());
        b.enter();
        assert!(b.computed("C"));
        b.declare("C", Binding::default());
        assert!(!b.computed("C"));
        b.leave();
        assert!(b.computed("C"));
    }

    #[test]
    fn a_name_cannot_be_laundered_from_a_nested_function() {
        let mut b = Bindings::default();
        b.declare("u", computed());
        b.enter();
        b.declare("u", Binding::default());
        b.leave();
        b.enter();
        assert!(
            b.computed("u"),
            "a sibling function still sees the outer binding"
        );
        b.leave();
    }

    #[test]
    fn a_later_declaration_in_the_same_scope_replaces_the_earlier() {
        let mut b = Bindings::default();
        b.declare(
            "u",
            Binding {
                value: Some("https://a.example".into()),
                ..Binding::default()
            },
        );
        assert_eq!(b.constant("u"), Some("https://a.example"));
        b.declare("u", computed());
        assert_eq!(b.constant("u"), None);
        assert!(b.computed("u"));
    }

    #[test]
    fn plain_files_store_nothing() {
        let mut b = Bindings::default();
        for i in 0..1000 {
            b.declare(&format!("v{i}"), Binding::default());
        }
        assert_eq!(b.entries, 0);
        assert!(b.get("v1").is_none());
    }
}
