//! The bundled demo: the seed scenario (a trojanized patch release of `secure-data-sanitizer`
//! next to a benign update), embedded in the binary so `turncoat demo` works offline from any
//! directory.

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::scenario::{Materialized, ScenarioError, Source, materialize};

static SEED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/seed");

/// Write the seed scenario's registry and lockfiles below `out`.
pub fn materialize_seed(out: &Path) -> Result<Materialized, ScenarioError> {
    materialize(&Source::Embedded(&SEED), out)
}
