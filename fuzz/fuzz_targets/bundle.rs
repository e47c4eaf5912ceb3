//! Any bytes given to the Sigstore bundle / npm attestations / key and trust-root readers must
//! return a typed result, never panic or hang.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use turncoat_attest::{Keys, TrustRoot, verify_attestations, verify_bundle};

// The embedded keys are a constant checked by turncoat-attest's tests: failing to load them is a
// broken build, not an input the fuzzer found.
static KEYS: LazyLock<Keys> =
    LazyLock::new(|| Keys::embedded().expect("the embedded npm keys load"));
static ROOT: LazyLock<TrustRoot> = LazyLock::new(TrustRoot::embedded);

fuzz_target!(|data: &[u8]| {
    let _ = verify_bundle(data, &KEYS, &ROOT);
    let _ = verify_attestations(
        "@scope/pkg",
        "1.0.0",
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
        data,
        &KEYS,
        &ROOT,
    );
    let _ = Keys::from_json(data);
    let _ = TrustRoot::from_json(data);
});
