//! Password hashing with argon2id and a server-side pepper, on a few threads of its own.
//!
//! Each hashing thread keeps its argon2 working memory (19 MiB at the default cost) and reuses
//! it for every hash, instead of allocating it anew on whichever thread of the blocking pool runs
//! the job: there, each thread's allocator arena kept its own freed copy, and a mixed load held
//! hundreds of megabytes. The threads also bound how many hashes run at once, so a burst of
//! sign-ins cannot starve other requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::error::{AccountsError, AccountsResult};

/// argon2id cost: memory in KiB, passes, lanes. Defaults meet OWASP's 19 MiB / 2 passes.
#[derive(Debug, Clone, Copy)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Work for a hashing thread, with where to send the answer.
enum Job {
    Hash(String, oneshot::Sender<AccountsResult<String>>),
    Verify(String, String, oneshot::Sender<bool>),
}

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// A hash of a random password, verified against when the account does not exist so that
    /// unknown and known accounts cost the same.
    dummy: Arc<String>,
    /// Passwords checked since start (a figure for the throttle's tests and for operators).
    checked: Arc<AtomicU64>,
}

/// What each hashing thread holds.
struct Worker {
    pepper: Arc<Vec<u8>>,
    params: HashParams,
    /// The argon2 working memory, kept between hashes.
    blocks: Vec<Block>,
}

impl PasswordHasher {
    /// Starts `concurrency` hashing threads; they end when the last clone of this is dropped.
    pub fn new(pepper: Vec<u8>, params: HashParams, concurrency: usize) -> AccountsResult<Self> {
        let pepper = Arc::new(pepper);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut first = Worker {
            pepper: pepper.clone(),
            params,
            blocks: Vec::new(),
        };
        let random = SaltString::generate(&mut OsRng);
        let dummy = first.hash(random.as_str())?;
        for i in 0..concurrency.max(1) {
            let queue = queue.clone();
            let mut worker = Worker {
                pepper: pepper.clone(),
                params,
                blocks: Vec::new(),
            };
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(Job::Hash(password, reply)) => {
                            let _ = reply.send(worker.hash(&password));
                        }
                        Ok(Job::Verify(password, phc, reply)) => {
                            let _ = reply.send(worker.verify(&password, &phc));
                        }
                        // Every sender is gone: nothing more will come.
                        Err(_) => return,
                    }
                })
                .map_err(|e| AccountsError::Internal(format!("starting a hashing thread: {e}")))?;
        }
        Ok(PasswordHasher {
            jobs,
            dummy: Arc::new(dummy),
            checked: Arc::default(),
        })
    }

    /// How many passwords have been checked since start.
    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    /// Hashes a new password on a hashing thread.
    pub async fn hash(&self, password: String) -> AccountsResult<String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Hash(password, reply))
            .map_err(|_| AccountsError::Internal("the hashing threads are gone".into()))?;
        answer
            .await
            .map_err(|_| AccountsError::Internal("a hashing thread stopped".into()))?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no account, so
    /// both cost one full hash.
    pub async fn verify(&self, password: String, phc: Option<String>) -> AccountsResult<bool> {
        self.checked.fetch_add(1, Ordering::Relaxed);
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.as_ref().clone());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Verify(password, phc, reply))
            .map_err(|_| AccountsError::Internal("the hashing threads are gone".into()))?;
        let ok = answer
            .await
            .map_err(|_| AccountsError::Internal("a hashing thread stopped".into()))?;
        Ok(ok && known)
    }
}

impl Worker {
    /// The working memory for `params`, grown (never shrunk) as needed.
    fn memory(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.blocks.len() < n {
            self.blocks.resize(n, Block::default());
        }
        &mut self.blocks[..n]
    }

    fn hash(&mut self, password: &str) -> AccountsResult<String> {
        let p = self.params;
        let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
            .map_err(|e| AccountsError::Internal(format!("argon2 parameters: {e}")))?;
        let salt = SaltString::generate(&mut OsRng);
        let mut raw_salt = [0u8; 64];
        let raw_salt = salt
            .decode_b64(&mut raw_salt)
            .map_err(|e| AccountsError::Internal(format!("salt: {e}")))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let pepper = self.pepper.clone();
        let argon =
            Argon2::new_with_secret(&pepper, Algorithm::Argon2id, Version::V0x13, params.clone())
                .map_err(|e| AccountsError::Internal(format!("argon2 pepper: {e}")))?;
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                raw_salt,
                &mut out,
                self.memory(&params),
            )
            .map_err(|e| AccountsError::Internal(format!("hashing: {e}")))?;
        let output =
            Output::new(&out).map_err(|e| AccountsError::Internal(format!("hash: {e}")))?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${output}",
            p.memory_kib,
            p.iterations,
            p.parallelism,
            salt.as_str()
        ))
    }

    /// Checks `password` against a stored PHC string; anything unreadable is a mismatch.
    fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return false;
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let Ok(version) = Version::try_from(parsed.version.unwrap_or(0x13)) else {
            return false;
        };
        // The stored hash carries its own cost; the pepper comes from us.
        let Ok(stored) = Params::try_from(&parsed) else {
            return false;
        };
        let Ok(params) = Params::new(
            stored.m_cost(),
            stored.t_cost(),
            stored.p_cost(),
            Some(expected.len()),
        ) else {
            return false;
        };
        let mut raw_salt = [0u8; 64];
        let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let pepper = self.pepper.clone();
        let Ok(argon) =
            Argon2::new_with_secret(&pepper, Algorithm::Argon2id, version, params.clone())
        else {
            return false;
        };
        if argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                raw_salt,
                &mut out,
                self.memory(&params),
            )
            .is_err()
        {
            return false;
        }
        out.as_slice().ct_eq(expected.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_cost_and_need_the_pepper() {
        let h = PasswordHasher::new(b"pepper-one".to_vec(), HashParams::default(), 1).unwrap();
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h
            .verify("correct horse".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!h
            .verify("wrong horse".into(), Some(phc.clone()))
            .await
            .unwrap());
        let other = PasswordHasher::new(b"pepper-two".to_vec(), HashParams::default(), 1).unwrap();
        assert!(!other
            .verify("correct horse".into(), Some(phc))
            .await
            .unwrap());
        assert!(!h.verify("anything".into(), None).await.unwrap());
    }

    /// Hashes stored by earlier releases (made through argon2's own `PasswordHasher`) still
    /// verify, at their own cost.
    #[tokio::test]
    async fn hashes_from_earlier_releases_still_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let pepper = b"pepper-one".to_vec();
        let params = Params::new(8 * 1024, 3, 1, None).unwrap();
        let argon =
            Argon2::new_with_secret(&pepper, Algorithm::Argon2id, Version::V0x13, params).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let old = argon
            .hash_password(b"an old passphrase", &salt)
            .unwrap()
            .to_string();
        let h = PasswordHasher::new(pepper, HashParams::default(), 2).unwrap();
        assert!(h
            .verify("an old passphrase".into(), Some(old.clone()))
            .await
            .unwrap());
        assert!(!h
            .verify("a new passphrase".into(), Some(old))
            .await
            .unwrap());
    }
}
