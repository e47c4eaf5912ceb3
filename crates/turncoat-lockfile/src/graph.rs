//! Reachability over the dependency graph, for formats that do not write dev/optional
//! flags per package (pnpm v9, Bun): a package is `dev` when only development roots reach
//! it, and `optional` when every path to it crosses an optional edge.

use crate::model::DepKind;

/// Per-node flags computed from the roots.
pub(crate) struct Flags {
    pub dev: Vec<bool>,
    pub optional: Vec<bool>,
}

/// `edges[i]` lists `(target, optional_edge)`; `roots` lists `(node, kind)`.
pub(crate) fn flags(n: usize, edges: &[Vec<(usize, bool)>], roots: &[(usize, DepKind)]) -> Flags {
    let prod = walk(
        n,
        edges,
        roots.iter().filter(|r| r.1 != DepKind::Dev).map(|r| r.0),
        true,
    );
    let dev = walk(
        n,
        edges,
        roots.iter().filter(|r| r.1 == DepKind::Dev).map(|r| r.0),
        true,
    );
    let required = walk(
        n,
        edges,
        roots
            .iter()
            .filter(|r| r.1 != DepKind::Optional)
            .map(|r| r.0),
        false,
    );
    Flags {
        dev: (0..n).map(|i| dev[i] && !prod[i]).collect(),
        optional: (0..n)
            .map(|i| (prod[i] || dev[i]) && !required[i])
            .collect(),
    }
}

fn walk(
    n: usize,
    edges: &[Vec<(usize, bool)>],
    roots: impl Iterator<Item = usize>,
    follow_optional: bool,
) -> Vec<bool> {
    let mut seen = vec![false; n];
    let mut queue: Vec<usize> = Vec::new();
    for r in roots {
        if r < n && !seen[r] {
            seen[r] = true;
            queue.push(r);
        }
    }
    while let Some(i) = queue.pop() {
        for &(t, optional) in edges.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            if t < n && !seen[t] && (follow_optional || !optional) {
                seen[t] = true;
                queue.push(t);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_and_optional() {
        // 0 prod -> 1; 2 dev -> 1, 3; 4 optional -> 5; 0 -optional-> 6
        let edges = vec![
            vec![(1, false), (6, true)],
            vec![],
            vec![(1, false), (3, false)],
            vec![],
            vec![(5, false)],
            vec![],
            vec![],
        ];
        let f = flags(
            7,
            &edges,
            &[
                (0, DepKind::Prod),
                (2, DepKind::Dev),
                (4, DepKind::Optional),
            ],
        );
        assert_eq!(f.dev, vec![false, false, true, true, false, false, false]);
        assert_eq!(
            f.optional,
            vec![false, false, false, false, true, true, true]
        );
    }
}
