//! The build identity workers and clients of a cluster pool shake hands
//! on.
//!
//! A local child proves it runs its parent's program by the executable's
//! file identity (device, inode, modification time); on another machine
//! that means nothing. There, the identity is a hash of the executable's
//! bytes and of its code layout (the distance between two of brigade's
//! functions, as in [`function`](super::function)): two machines that run
//! byte-identical files name every function by the same offset, and a
//! worker whose identity differs refuses the task instead of guessing.
//!
//! The hash is not a security device (anyone who can write to the broker
//! can write any identity; see the security notes of
//! [`cluster`](super::cluster)): it keeps honest mistakes, such as a worker
//! left running an older build, from running the wrong function.
//!
//! [`BUILD_SALT_ENV`] mixes a chosen text into the identity, on both
//! sides: deployments that share a broker and a namespace but must not
//! share work can set different salts. A salt can only make identities
//! differ; it cannot make two different executables match.
//!
//! ```
//! let id = brigade::process::build_identity();
//! assert_eq!(id.len(), 32);
//! assert_eq!(id, brigade::process::build_identity());
//! ```

use std::io::Read;
use std::sync::OnceLock;

use super::function::layout_fingerprint;

/// The environment variable whose value is mixed into the build identity
/// (on clients and workers alike), to keep deployments apart.
pub const BUILD_SALT_ENV: &str = "BRIGADE_BUILD_SALT";

/// This program's build identity: 32 hex digits, the same in every process
/// started from the same executable bytes with the same
/// [`BUILD_SALT_ENV`]. Computed once (it reads the executable).
pub fn build_identity() -> String {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let salt = std::env::var(BUILD_SALT_ENV).unwrap_or_default();
        compute(&salt).unwrap_or_else(|e| format!("unreadable-executable-{}", e.kind()))
    })
    .clone()
}

/// Two lanes of a multiply-rotate hash over the file, 8 bytes at a time,
/// then the layout and the salt.
fn compute(salt: &str) -> std::io::Result<String> {
    let mut file = std::fs::File::open("/proc/self/exe")?;
    let mut lanes = Lanes::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total: u64 = 0;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        lanes.feed(&buffer[..n]);
    }
    lanes.word(total);
    lanes.word(layout_fingerprint() as u64);
    lanes.feed(salt.as_bytes());
    lanes.word(salt.len() as u64);
    Ok(format!("{:016x}{:016x}", lanes.a, lanes.b))
}

struct Lanes {
    a: u64,
    b: u64,
}

impl Lanes {
    fn new() -> Lanes {
        Lanes {
            a: 0x243f_6a88_85a3_08d3,
            b: 0x1319_8a2e_0370_7344,
        }
    }

    fn word(&mut self, w: u64) {
        self.a = (self.a ^ w)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
        self.b = (self.b.rotate_left(17) ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd);
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        if !rest.is_empty() {
            tail[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(tail) ^ (rest.len() as u64) << 56);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_salt_changes_the_identity() {
        assert_ne!(compute("").unwrap(), compute("other").unwrap());
        assert_eq!(compute("x").unwrap(), compute("x").unwrap());
    }
}
