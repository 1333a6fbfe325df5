//! argon2id hashing and verification in memory a hashing thread keeps: one block of the
//! configured cost, allocated once and reused for every hash, so memory stays at
//! (threads x cost) instead of a fresh allocation per hash that glibc's arenas keep around.
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use super::{failed, HashError};

pub(super) const ALGORITHM: Algorithm = Algorithm::Argon2id;
pub(super) const VERSION: Version = Version::V0x13;

/// One hashing thread's argon2 memory, allocated on its first hash and reused for every
/// later one.
pub(super) struct Scratch {
    blocks: Vec<Block>,
    count: usize,
}

impl Scratch {
    pub(super) fn new(count: usize) -> Self {
        Self {
            blocks: Vec::new(),
            count,
        }
    }

    /// Memory for a hash needing `count` blocks; `None` if this one is bigger than the
    /// configured cost (a hash stored under an older, dearer cost), which then allocates
    /// its own.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if count > self.count {
            return None;
        }
        if self.blocks.is_empty() {
            self.blocks = vec![Block::new(); self.count];
        }
        self.blocks.get_mut(..count)
    }
}

/// A new argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), computed in the
/// thread's own memory.
pub(super) fn hash_argon2(
    argon2: &Argon2<'_>,
    scratch: &mut Scratch,
    password: &[u8],
    salt: &SaltString,
) -> Result<String, HashError> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
    let params = argon2.params();
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = out
        .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or_else(|| failed("argon2 output length"))?;
    match scratch.blocks(params.block_count()) {
        Some(blocks) => argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks),
        None => argon2.hash_password_into(password, salt_bytes, out),
    }
    .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the argon2 PHC string `stored`, under the algorithm, version
/// and cost written in it (so hashes from an older cost still verify), compared in
/// constant time. Anything unparsable never matches.
pub(super) fn verify_argon2(scratch: &mut Scratch, password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = [0u8; Output::MAX_LENGTH];
    let Some(computed) = computed.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let done = match scratch.blocks(argon2.params().block_count()) {
        Some(blocks) => {
            argon2.hash_password_into_with_memory(password, salt_bytes, computed, blocks)
        }
        None => argon2.hash_password_into(password, salt_bytes, computed),
    };
    done.is_ok() && bool::from(computed.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::rand_core::OsRng;
    use argon2::PasswordHasher as _;

    #[test]
    fn hashes_in_reused_memory_are_the_ones_argon2_makes() {
        let argon2 = Argon2::new(ALGORITHM, VERSION, Params::new(64, 1, 1, None).unwrap());
        let mut scratch = Scratch::new(argon2.params().block_count());
        for password in ["first", "second", ""] {
            let salt = SaltString::generate(&mut OsRng);
            let ours = hash_argon2(&argon2, &mut scratch, password.as_bytes(), &salt).unwrap();
            let theirs = argon2.hash_password(password.as_bytes(), &salt).unwrap();
            assert_eq!(ours, theirs.to_string());
            assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{ours}");
        }
    }

    #[test]
    fn hashes_of_other_costs_algorithms_and_versions_verify() {
        // Configured for m=64: one cheaper (fits the thread's memory), one dearer (does
        // not), and the other argon2 variants and the old version.
        let mut scratch = Scratch::new(Params::new(64, 1, 1, None).unwrap().block_count());
        for (algorithm, version, m, t, p) in [
            (Algorithm::Argon2id, Version::V0x13, 32, 1, 1),
            (Algorithm::Argon2id, Version::V0x13, 64, 1, 1),
            (Algorithm::Argon2id, Version::V0x13, 1024, 2, 2),
            (Algorithm::Argon2i, Version::V0x13, 64, 2, 1),
            (Algorithm::Argon2d, Version::V0x10, 64, 3, 1),
        ] {
            let argon2 = Argon2::new(algorithm, version, Params::new(m, t, p, None).unwrap());
            let salt = SaltString::generate(&mut OsRng);
            let stored = argon2.hash_password(b"secret", &salt).unwrap().to_string();
            assert!(verify_argon2(&mut scratch, b"secret", &stored), "{stored}");
            assert!(!verify_argon2(&mut scratch, b"Secret", &stored), "{stored}");
        }
        for garbage in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
            "plain",
        ] {
            assert!(!verify_argon2(&mut scratch, b"", garbage), "{garbage}");
        }
    }
}
