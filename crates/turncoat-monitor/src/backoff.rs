//! How long to leave a package alone after failed polls: exponential from a minute, capped at
//! six hours, with ±25 % jitter so that many packages failing together (a registry outage) do
//! not all come back in the same second; a registry's `Retry-After` is honoured as a floor.
//!
//! Sans-IO: the caller passes the jitter (a number in `[0, 1)` from any random source).

/// First delay after one failure.
pub const BASE_SECS: u64 = 60;
/// The longest delay backoff alone produces.
pub const MAX_SECS: u64 = 6 * 3_600;

/// Seconds to wait after `failures` consecutive failures (1 for the first).
pub fn delay_secs(failures: u32, retry_after: Option<u64>, jitter: f64) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    let base = BASE_SECS.saturating_mul(1u64 << doublings).min(MAX_SECS);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let jittered = (base as f64 * (0.75 + 0.5 * jitter)) as u64;
    jittered.max(retry_after.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_jitter_and_a_cap() {
        assert_eq!(delay_secs(1, None, 0.5), 60);
        assert_eq!(delay_secs(2, None, 0.5), 120);
        assert_eq!(delay_secs(3, None, 0.5), 240);
        // Jitter spreads ±25 %.
        assert_eq!(delay_secs(1, None, 0.0), 45);
        assert_eq!(delay_secs(1, None, 0.999_999), 74);
        // Capped, even after a thousand failures (no overflow).
        assert_eq!(delay_secs(1_000, None, 0.5), MAX_SECS);
        assert!(delay_secs(u32::MAX, None, 1.0) <= MAX_SECS * 5 / 4);
        // A nonsensical jitter is treated as the middle.
        assert_eq!(delay_secs(1, None, f64::NAN), 60);
    }

    #[test]
    fn retry_after_is_a_floor_not_a_ceiling() {
        assert_eq!(delay_secs(1, Some(600), 0.5), 600);
        assert_eq!(delay_secs(5, Some(1), 0.5), 960);
    }
}
