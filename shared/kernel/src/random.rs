//! Cryptographically secure randomness for nonces, ids and secrets.
//!
//! One ChaCha-based generator per thread, seeded from the operating system (on wasm32: from the
//! Worker's `crypto.getRandomValues`). A per-call system call would cost more than the AES-GCM
//! seal it feeds.

use rand::Rng;

/// Fills `buf` with secure random bytes.
pub fn fill(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}

/// `N` secure random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}
