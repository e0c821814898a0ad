//! Password hashing with argon2id and a server-side pepper, run off the async runtime and
//! bounded so a burst of sign-ins cannot starve other requests.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

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

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    pepper: Arc<Vec<u8>>,
    params: HashParams,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account does not exist so that
    /// unknown and known accounts cost the same.
    dummy: Arc<String>,
    /// Passwords checked since start (a figure for the throttle's tests and for operators).
    checked: Arc<std::sync::atomic::AtomicU64>,
}

impl PasswordHasher {
    pub fn new(pepper: Vec<u8>, params: HashParams, concurrency: usize) -> AccountsResult<Self> {
        let mut h = PasswordHasher {
            pepper: Arc::new(pepper),
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::new(String::new()),
            checked: Arc::default(),
        };
        let random = SaltString::generate(&mut OsRng);
        h.dummy = Arc::new(h.hash_now(random.as_str())?);
        Ok(h)
    }

    fn argon(&self) -> AccountsResult<Argon2<'_>> {
        let p = Params::new(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            None,
        )
        .map_err(|e| AccountsError::Internal(format!("argon2 parameters: {e}")))?;
        Argon2::new_with_secret(&self.pepper, Algorithm::Argon2id, Version::V0x13, p)
            .map_err(|e| AccountsError::Internal(format!("argon2 pepper: {e}")))
    }

    fn hash_now(&self, password: &str) -> AccountsResult<String> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(self
            .argon()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| AccountsError::Internal(format!("hashing: {e}")))?
            .to_string())
    }

    fn verify_now(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        match self.argon() {
            // The stored hash carries its own cost parameters; the pepper comes from us.
            Ok(a) => a.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    /// How many passwords have been checked since start.
    pub fn checked(&self) -> u64 {
        self.checked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a new password on the blocking pool.
    pub async fn hash(&self, password: String) -> AccountsResult<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AccountsError::Internal(e.to_string()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.hash_now(&password))
            .await
            .map_err(|e| AccountsError::Internal(e.to_string()))?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no account, so
    /// both cost one full hash.
    pub async fn verify(&self, password: String, phc: Option<String>) -> AccountsResult<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AccountsError::Internal(e.to_string()))?;
        self.checked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let me = self.clone();
        tokio::task::spawn_blocking(move || match phc {
            Some(phc) => me.verify_now(&password, &phc),
            None => {
                me.verify_now(&password, &me.dummy);
                false
            }
        })
        .await
        .map_err(|e| AccountsError::Internal(e.to_string()))
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
}
