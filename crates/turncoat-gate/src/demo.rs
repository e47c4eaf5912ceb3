//! The bundled demo: the seed scenario (a trojanized patch release of `secure-data-sanitizer`
//! next to a benign update), embedded in the binary so `turncoat demo` works offline from any
//! directory.

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::scenario::{Materialized, ScenarioError, Source, materialize};

static SEED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/seed");

/// The PyPI half (built by `scripts/make-pypi-demo.py`): a directory index with
/// `humanize-lite` 2.4.0 → 2.4.1 (a ctx-style takeover: AWS keys from the environment sent at
/// import to a `.invalid` host) and `tinyfmt` 1.0.0 → 1.0.1 (benign), and the two
/// `requirements.txt` of the pull request.
static PYPI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/pypi");

/// Where the PyPI demo was written.
pub struct PypiDemo {
    /// `file://…/simple/`
    pub index_url: String,
    pub base_lockfile: std::path::PathBuf,
    pub head_lockfile: std::path::PathBuf,
    /// (project, expected verdict)
    pub expect: Vec<(&'static str, &'static str)>,
}

/// Write the PyPI demo below `out`.
pub fn materialize_pypi(out: &Path) -> std::io::Result<PypiDemo> {
    std::fs::create_dir_all(out)?;
    PYPI.extract(out)?;
    let root = out.canonicalize()?;
    Ok(PypiDemo {
        index_url: format!("file://{}/simple/", root.display()),
        base_lockfile: root.join("base/requirements.txt"),
        head_lockfile: root.join("head/requirements.txt"),
        expect: vec![("humanize-lite", "block"), ("tinyfmt", "pass")],
    })
}

/// Write the seed scenario's registry and lockfiles below `out`.
pub fn materialize_seed(out: &Path) -> Result<Materialized, ScenarioError> {
    materialize(&Source::Embedded(&SEED), out)
}
