//! Subresource Integrity (`sha512-<base64>`), as npm writes it in lockfiles and packuments.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Digest as _;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IntegrityError {
    #[error("integrity string is empty")]
    Empty,
    #[error(
        "integrity string has no hash of a supported algorithm (sha1, sha256, sha384, sha512): {0:?}"
    )]
    NoSupportedHash(String),
    #[error("integrity hash for {algorithm} is not valid base64 of the right length")]
    BadDigest { algorithm: Algorithm },
    #[error("content does not match integrity: expected {expected}, got {actual}")]
    Mismatch { expected: String, actual: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `algo-base64` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hash {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

impl Hash {
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algorithm, STANDARD.encode(&self.digest))
    }

    pub fn hex(&self) -> String {
        hex::encode(&self.digest)
    }
}

/// A parsed SRI string: one or more hashes. Unknown algorithms and options (`?foo`) are ignored,
/// as the SRI spec asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Integrity {
    pub hashes: Vec<Hash>,
}

impl Integrity {
    pub fn parse(s: &str) -> Result<Integrity, IntegrityError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(IntegrityError::Empty);
        }
        let mut hashes = Vec::new();
        for token in s.split_ascii_whitespace() {
            let Some((algo, rest)) = token.split_once('-') else {
                continue;
            };
            let Some(algorithm) = Algorithm::parse(algo) else {
                continue;
            };
            let b64 = rest.split('?').next().unwrap_or_default();
            let digest = STANDARD
                .decode(b64)
                .map_err(|_| IntegrityError::BadDigest { algorithm })?;
            if digest.len() != algorithm.digest_len() {
                return Err(IntegrityError::BadDigest { algorithm });
            }
            hashes.push(Hash { algorithm, digest });
        }
        if hashes.is_empty() {
            return Err(IntegrityError::NoSupportedHash(
                s.chars().take(80).collect::<String>(),
            ));
        }
        Ok(Integrity { hashes })
    }

    /// From a legacy hex sha1 `shasum`.
    pub fn from_sha1_hex(hex_str: &str) -> Option<Integrity> {
        let digest = hex::decode(hex_str.trim()).ok()?;
        (digest.len() == 20).then(|| Integrity {
            hashes: vec![Hash {
                algorithm: Algorithm::Sha1,
                digest,
            }],
        })
    }

    /// The strongest hash present; verification uses only this one, as npm does.
    pub fn strongest(&self) -> &Hash {
        // `parse` never builds an empty list.
        self.hashes
            .iter()
            .max_by_key(|h| h.algorithm)
            .unwrap_or(&self.hashes[0])
    }

    /// True when the only hashes are sha1.
    pub fn is_weak(&self) -> bool {
        self.hashes.iter().all(|h| h.algorithm == Algorithm::Sha1)
    }

    /// A stable file-name-safe key for content-addressed storage (`sha512-<hex>`).
    pub fn cache_key(&self) -> String {
        let h = self.strongest();
        format!("{}-{}", h.algorithm, h.hex())
    }

    pub fn checker(&self) -> IntegrityChecker {
        IntegrityChecker::new(self.strongest().algorithm)
    }

    /// Verify a whole buffer.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), IntegrityError> {
        let mut c = self.checker();
        c.update(bytes);
        c.finish(self)
    }

    /// sha512 SRI of `bytes` (what npm writes for new packages).
    pub fn sha512_of(bytes: &[u8]) -> Integrity {
        let mut c = IntegrityChecker::new(Algorithm::Sha512);
        c.update(bytes);
        Integrity {
            hashes: vec![c.result()],
        }
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.hashes.iter().map(Hash::to_sri).collect();
        f.write_str(&parts.join(" "))
    }
}

/// Streaming hasher: feed chunks while downloading, then check.
pub struct IntegrityChecker {
    inner: Hasher,
}

enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl IntegrityChecker {
    pub fn new(algorithm: Algorithm) -> Self {
        let inner = match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        };
        IntegrityChecker { inner }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.inner {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub fn result(self) -> Hash {
        let (algorithm, digest) = match self.inner {
            Hasher::Sha1(h) => (Algorithm::Sha1, h.finalize().to_vec()),
            Hasher::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            Hasher::Sha384(h) => (Algorithm::Sha384, h.finalize().to_vec()),
            Hasher::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        Hash { algorithm, digest }
    }

    /// Compare with the strongest hash of `expected`.
    pub fn finish(self, expected: &Integrity) -> Result<(), IntegrityError> {
        let want = expected.strongest();
        let got = self.result();
        // Constant time is not needed: the expected digest is public.
        if got.algorithm == want.algorithm && got.digest == want.digest {
            Ok(())
        } else {
            Err(IntegrityError::Mismatch {
                expected: want.to_sri(),
                actual: got.to_sri(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multiple_and_picks_strongest() {
        let body = b"hello";
        let i512 = Integrity::sha512_of(body);
        let sha1 = Integrity::from_sha1_hex("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d").unwrap();
        let both = Integrity::parse(&format!("{} {}?opt", sha1, i512)).unwrap();
        assert_eq!(both.hashes.len(), 2);
        assert_eq!(both.strongest().algorithm, Algorithm::Sha512);
        assert!(both.verify(body).is_ok());
        assert!(!both.is_weak());
        assert!(sha1.is_weak());
        assert!(sha1.verify(body).is_ok());
    }

    #[test]
    fn mismatch_and_bad_input() {
        let i = Integrity::sha512_of(b"a");
        assert!(matches!(
            i.verify(b"b"),
            Err(IntegrityError::Mismatch { .. })
        ));
        assert_eq!(Integrity::parse(""), Err(IntegrityError::Empty));
        assert!(matches!(
            Integrity::parse("md5-abc"),
            Err(IntegrityError::NoSupportedHash(_))
        ));
        assert!(matches!(
            Integrity::parse("sha512-!!!"),
            Err(IntegrityError::BadDigest { .. })
        ));
        assert!(matches!(
            Integrity::parse("sha512-YQ=="),
            Err(IntegrityError::BadDigest { .. })
        ));
        assert!(i.cache_key().starts_with("sha512-"));
        assert_eq!(i.cache_key().len(), "sha512-".len() + 128);
    }

    #[test]
    fn roundtrips_display() {
        let i = Integrity::sha512_of(b"x");
        assert_eq!(Integrity::parse(&i.to_string()).unwrap(), i);
    }
}
