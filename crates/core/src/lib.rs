//! Clef's shared vocabulary: time and randomness as injectable services, ids, secret tokens and
//! validated input types. Nothing here performs I/O beyond asking the OS for random bytes.

mod clock;
mod email;
mod ids;
mod input;
mod scope;
mod token;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use email::{mask as mask_email, EmailAddress};
pub use ids::{DeviceId, UserId};
pub use input::{DeviceName, DeviceType, InputError, Password, Username};
pub use scope::{Access, Scope, ScopeSet, UnknownScope};
pub use token::{OsRandom, Random, SecretToken, TokenHash};
