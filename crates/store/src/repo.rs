//! The repository traits services depend on. Implementations must pass the conformance suite in
//! `tests/conformance.rs`.

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, TokenHash, UserId};

use crate::credential_model::*;
use crate::email_model::*;
use crate::export_model::*;
use crate::library_model::*;
use crate::model::*;
use crate::oauth_model::*;
use crate::passkey_model::*;
use crate::user_data_model::*;
use crate::StoreResult;

/// Users, devices, the security log and pending sign-ins.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates a user; `StoreError::Conflict("username")` if the name is taken.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn count_admins(&self) -> StoreResult<i64>;
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()>;
    async fn set_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<()>;
    /// Atomically makes `change` unless it would leave no enabled admin. Concurrent changes
    /// (two admins demoting each other at once) never leave none, on one node or many.
    async fn change_user_guarded(
        &self,
        id: &UserId,
        change: GuardedChange,
    ) -> StoreResult<GuardOutcome>;
    async fn set_must_change_password(&self, id: &UserId, must: bool) -> StoreResult<()>;
    async fn set_limits(
        &self,
        id: &UserId,
        max_devices: Option<i64>,
        max_streams: Option<i64>,
    ) -> StoreResult<()>;

    /// Atomically reads the attempt counts under `keys` (`AttemptCount::ZERO` where there is
    /// none), lets `update` change them, and stores the result (a count back at zero is deleted).
    /// Calls sharing a key are serialised, on one node or many, so no two see the same counts.
    async fn update_attempts(
        &self,
        keys: &[&str],
        update: &mut AttemptUpdate<'_>,
    ) -> StoreResult<()>;
    /// Forgets the counts with nothing pending whose last failure is before `cutoff`.
    async fn forget_attempts(&self, cutoff: Timestamp) -> StoreResult<u64>;

    /// Atomically: optionally signs out `replace` (a live device of the same user), then admits
    /// `device` with its first credential only if fewer than `limit` live listed devices remain.
    /// Concurrent calls for one user never admit more than `limit`, on one node or many.
    async fn admit_device(
        &self,
        device: &NewDevice,
        credential: &NewCredential,
        limit: i64,
        live: Liveness,
        replace: Option<&Replace>,
    ) -> StoreResult<Admission>;
    async fn device_by_id(&self, id: &DeviceId) -> StoreResult<Option<Device>>;
    /// Whether this user ever had a device with this name, type and client (signed out or not).
    async fn known_device(
        &self,
        user: &UserId,
        name: &str,
        device_type: &str,
        client: &str,
    ) -> StoreResult<bool>;
    /// A user's live listed devices (app seats are not), most recently used first.
    async fn live_devices(&self, user: &UserId, live: Liveness) -> StoreResult<Vec<Device>>;
    async fn add_event(&self, event: &SecurityEvent) -> StoreResult<()>;
    /// Newest first; all users' events when `user` is `None`.
    async fn events(&self, user: Option<&UserId>, limit: i64) -> StoreResult<Vec<SecurityEvent>>;

    async fn put_pending(&self, pending: &PendingSignIn) -> StoreResult<()>;
    /// Removes and returns a pending sign-in that has not expired (single use).
    async fn take_pending(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>>;
}

/// Credentials, and revocation in every scope.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Issues a credential to an existing device; `Conflict("credential")` on a repeated hash.
    async fn add_credential(&self, credential: &NewCredential) -> StoreResult<()>;
    /// The credential with this hash, with its device and user, live or not.
    async fn credential_by_token(&self, hash: &TokenHash) -> StoreResult<Option<Presented>>;
    /// Records use of a credential and its device (time and address).
    async fn touch(
        &self,
        credential: &str,
        device: &DeviceId,
        now: Timestamp,
        ip: &str,
    ) -> StoreResult<()>;
    /// Revokes everything in `scope` that is not revoked yet, in one transaction: the devices,
    /// their credentials, the grants. Returns what it ended.
    async fn revoke(
        &self,
        scope: RevokeScope<'_>,
        reason: SignOutReason,
        by: Option<&DeviceId>,
        now: Timestamp,
    ) -> StoreResult<Revoked>;
    /// Which of these credentials are revoked, and why (for open streams).
    async fn revoked_credentials(&self, ids: &[String]) -> StoreResult<Vec<(String, Revocation)>>;
}

/// Apps, grants, and the codes of the OAuth flows.
#[async_trait]
pub trait OAuthStore: Send + Sync + 'static {
    async fn create_app(&self, app: &App) -> StoreResult<()>;
    async fn app(&self, client_id: &str) -> StoreResult<Option<App>>;
    /// The apps a user registered, by name.
    async fn apps_of(&self, owner: &UserId) -> StoreResult<Vec<App>>;
    /// Deletes an app of `owner` (revoke its grants first); false when there is none.
    async fn delete_app(&self, owner: &UserId, client_id: &str) -> StoreResult<bool>;
    /// In one transaction: finds the user's live grant to the app (widening its scopes) or makes
    /// one, and gives it a seat device when it has none.
    async fn approve(&self, approval: &Approval) -> StoreResult<Approved>;
    async fn grant(&self, id: &str) -> StoreResult<Option<Grant>>;
    /// A user's live grants with their apps, last use and devices, most recently used first.
    async fn grants_of(&self, user: &UserId, live: Liveness) -> StoreResult<Vec<GrantView>>;
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()>;
    /// Spends a code (single use; expired ones are unknown).
    async fn use_code(&self, hash: &TokenHash, now: Timestamp) -> StoreResult<CodeUse>;
    /// Issues credentials in one transaction; with `code`, records the refresh token among them
    /// as what the code issued.
    async fn issue(
        &self,
        code: Option<&TokenHash>,
        credentials: &[NewCredential],
    ) -> StoreResult<()>;
    /// Rotates a refresh token in one transaction: concurrent uses of one token admit one; a
    /// token used before revokes its whole grant.
    async fn rotate_refresh(&self, refresh: &Refresh, now: Timestamp) -> StoreResult<Rotation>;

    /// Records a device-authorization request; `Conflict("user_code")` if its user code is taken.
    async fn put_device_code(&self, code: &DeviceCode) -> StoreResult<()>;
    /// The pending, unexpired request with this user code.
    async fn pending_device_code(
        &self,
        user_code: &str,
        now: Timestamp,
    ) -> StoreResult<Option<DeviceCode>>;
    /// Answers a pending request as `user`, in one transaction: on approval the device is
    /// admitted under the limit exactly as a sign-in is (concurrent approvals for one account
    /// never admit more than the limit).
    async fn decide_device_code(
        &self,
        user: &UserId,
        user_code: &str,
        decision: &DeviceDecision,
        now: Timestamp,
    ) -> StoreResult<Decided>;
    /// A device's poll of its request (`client_id` must be the app it was issued to).
    async fn poll_device_code(
        &self,
        hash: &TokenHash,
        client_id: &str,
        now: Timestamp,
    ) -> StoreResult<Poll>;
}

/// The scanned library.
#[async_trait]
pub trait LibraryStore: Send + Sync + 'static {
    /// Every track, for building the in-memory catalog.
    async fn all_tracks(&self) -> StoreResult<Vec<TrackRecord>>;
    /// Path, size and modification time of every track, for incremental scans.
    async fn file_index(&self) -> StoreResult<Vec<FileEntry>>;
    /// Applies one scan's changes atomically and returns the library's new version.
    async fn apply_scan(&self, changes: &ScanChanges) -> StoreResult<i64>;
    /// Goes up by one with every applied scan (whichever process or node applied it).
    async fn library_version(&self) -> StoreResult<i64>;
    async fn scan_problems(&self) -> StoreResult<Vec<ScanProblem>>;
}

/// Users' playlists.
#[async_trait]
pub trait PlaylistStore: Send + Sync + 'static {
    async fn create_playlist(&self, playlist: &Playlist) -> StoreResult<()>;
    /// A user's playlists without their tracks, by name.
    async fn playlists(&self, user: &UserId) -> StoreResult<Vec<Playlist>>;
    /// One playlist with its tracks, if it belongs to `user`.
    async fn playlist(&self, user: &UserId, id: &str) -> StoreResult<Option<Playlist>>;
    /// Renames and replaces the track list; false if there is no such playlist of `user`.
    async fn update_playlist(
        &self,
        user: &UserId,
        id: &str,
        name: &str,
        tracks: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn delete_playlist(&self, user: &UserId, id: &str) -> StoreResult<bool>;
}

/// Stream slots: leases that limit simultaneous playback per user.
#[async_trait]
pub trait StreamStore: Send + Sync + 'static {
    /// Atomically grants a slot (or refreshes the device's own), honouring `limit` and an optional
    /// takeover. Concurrent calls for one user never grant more than `limit`.
    async fn acquire_slot(&self, req: &SlotRequest) -> StoreResult<SlotOutcome>;
    /// Moves the heartbeat of these devices' slots to `now`.
    async fn refresh_slots(&self, devices: &[DeviceId], now: Timestamp) -> StoreResult<()>;
    /// Gives up a device's slot; returns the stop notice a takeover left, which stays until the
    /// device is granted a slot again.
    async fn release_slot(
        &self,
        device: &DeviceId,
    ) -> StoreResult<Option<(SignOutReason, Option<DeviceId>)>>;
    /// A user's live slots (fresh heartbeat, device not signed out), oldest first.
    async fn slots(&self, user: &UserId, stale_before: Timestamp) -> StoreResult<Vec<Slot>>;
    /// For open streams: whether each device was signed out or had its playback taken over.
    async fn stream_status(&self, devices: &[DeviceId]) -> StoreResult<Vec<StreamStatus>>;
}

/// Everything Clef stores.
/// Offline exports and their files.
#[async_trait]
pub trait ExportStore: Send + Sync + 'static {
    /// Records a new job with its files, all pending, in one transaction.
    async fn create_export(&self, job: &ExportJob, files: &[ExportFile]) -> StoreResult<()>;
    /// The user's exports, newest first.
    async fn exports(&self, user: &UserId) -> StoreResult<Vec<ExportJob>>;
    /// One of the user's exports with its files in order; `None` when it is not theirs.
    async fn export(
        &self,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<(ExportJob, Vec<ExportFile>)>>;
    /// The bytes of every finished file in the user's exports (what counts against a quota).
    async fn exported_bytes(&self, user: &UserId) -> StoreResult<i64>;
    /// Every running export of every user (to resume after a restart).
    async fn running_exports(&self) -> StoreResult<Vec<ExportJob>>;
    /// Whether an export is still running, has ended (and how), or is gone: what a node running
    /// it checks to notice a cancel made on another node.
    async fn export_state(&self, id: &str) -> StoreResult<Option<ExportState>>;
    /// Marks one file done (with its size and where it was saved) or failed (with the reason).
    async fn set_file_state(
        &self,
        export_id: &str,
        position: i64,
        outcome: FileOutcome<'_>,
    ) -> StoreResult<()>;
    /// Ends a running export; false when it had already ended (a cancel won the race).
    async fn end_export(
        &self,
        id: &str,
        state: ExportState,
        at: Timestamp,
        error: Option<&str>,
    ) -> StoreResult<bool>;
    /// Removes an ended export from the user's history (its files stay on disk); false when it
    /// is not the user's or still running.
    async fn delete_export(&self, user: &UserId, id: &str) -> StoreResult<bool>;
}

/// What Subsonic token login needs: app passwords still sealed, and the salts already met.
#[async_trait]
pub trait SubsonicStore: Send + Sync + 'static {
    /// The app passwords of the user so named that are neither revoked nor expired, on devices
    /// that are not, each with its credential, device and user (one statement: token login is
    /// on every request of a Subsonic app).
    async fn sealed_app_passwords(
        &self,
        username: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedSecret>>;
    /// Records `salt` of `user` as used for `target`, in one statement that two nodes cannot
    /// both win: says whether it is new, was met before for the same target, or is a replay.
    async fn use_salt(
        &self,
        user: &UserId,
        salt: &str,
        target: &str,
        now: Timestamp,
    ) -> StoreResult<SaltUse>;
    /// Forgets salts met before `cutoff`.
    async fn forget_salts(&self, cutoff: Timestamp) -> StoreResult<u64>;
    /// Names the app a Subsonic device uses (its `c`), as shown on the Devices page.
    async fn set_device_client(&self, device: &DeviceId, client: &str) -> StoreResult<()>;
}

/// What each user keeps about the music: stars, ratings, plays, now playing, the play queue.
#[async_trait]
pub trait UserDataStore: Send + Sync + 'static {
    /// Stars `items` at `at`, or unstars them when `at` is `None`, in one transaction.
    async fn set_starred(
        &self,
        user: &UserId,
        items: &[ItemRef<'_>],
        at: Option<Timestamp>,
    ) -> StoreResult<()>;
    /// Rates an item 1 to 5, or removes its rating with 0.
    async fn set_rating(&self, user: &UserId, item: ItemRef<'_>, rating: i64) -> StoreResult<()>;
    /// Counts one play of each of `items` at `at`, in one transaction; concurrent plays all
    /// count, and "last played" never goes back in time.
    async fn record_plays(
        &self,
        user: &UserId,
        items: &[ItemRef<'_>],
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Everything the user annotated.
    async fn annotations(&self, user: &UserId) -> StoreResult<Vec<Annotation>>;
    /// Records what a device of `user` is playing now (one entry per device).
    async fn set_now_playing(
        &self,
        user: &UserId,
        device: &DeviceId,
        track_id: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// What the user's live devices said they were playing since `since`, newest first.
    async fn now_playing(&self, user: &UserId, since: Timestamp) -> StoreResult<Vec<NowPlaying>>;
    /// Replaces the user's play queue; an empty queue removes it.
    async fn save_play_queue(&self, user: &UserId, queue: &PlayQueue) -> StoreResult<()>;
    async fn play_queue(&self, user: &UserId) -> StoreResult<Option<PlayQueue>>;
}

/// E-mail addresses and the single-use links mailed to them.
#[async_trait]
pub trait EmailStore: Send + Sync + 'static {
    /// Sets or clears a user's address; `Conflict("email")` when another user has it (letter
    /// case aside).
    async fn set_email(&self, user: &UserId, email: Option<&str>) -> StoreResult<()>;
    /// The user with this address, letter case aside.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn set_notify_new_device(&self, user: &UserId, on: bool) -> StoreResult<()>;
    /// Stores a link and, in the same transaction, forgets every other unused link of the same
    /// user and purpose: a newer link supersedes the older ones.
    async fn put_email_link(&self, link: &EmailLink) -> StoreResult<()>;
    /// The link with this hash and purpose if it is unused and unexpired (it stays unused).
    async fn email_link(
        &self,
        hash: &TokenHash,
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<EmailLink>>;
    /// Uses a confirmation link and makes its address the user's, in one transaction; `None`
    /// when the link is not valid, `Conflict("email")` (and the link unused) when another user
    /// took the address meanwhile.
    async fn confirm_email(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<EmailLink>>;
    /// Uses a reset link, sets the password hash (clearing `must_change_password`), revokes
    /// every device, credential and app grant of the user with the reason `password_reset` and
    /// deletes their passkeys and waiting sign-ins, all in one transaction; `None` when the link is used, expired, superseded or unknown. Of two
    /// concurrent uses, one wins.
    async fn reset_password_by_link(
        &self,
        hash: &TokenHash,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(EmailLink, Revoked)>>;
}

/// Two-step sign-in: the authenticator key, recovery codes and sign-in challenges.
#[async_trait]
pub trait TwoStepStore: Send + Sync + 'static {
    async fn totp_state(&self, user: &UserId) -> StoreResult<Option<TotpState>>;
    /// Stores a new key waiting for its first code (two-step sign-in stays as it was until then:
    /// a key already enabled is not replaced).
    async fn begin_totp(&self, user: &UserId, sealed: &str) -> StoreResult<bool>;
    /// Turns two-step sign-in on with the waiting key, the step its first code matched, and
    /// these recovery codes (replacing any), in one transaction; false when no key is waiting.
    async fn enable_totp(
        &self,
        user: &UserId,
        now: Timestamp,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool>;
    /// Turns two-step sign-in off: the key and the recovery codes are deleted.
    async fn disable_totp(&self, user: &UserId) -> StoreResult<()>;
    /// Records that a code of `step` was accepted, only if no code of that step or a later one
    /// was: true for the one caller that may accept it, on one node or many.
    async fn use_totp_step(&self, user: &UserId, step: i64) -> StoreResult<bool>;
    /// Uses a recovery code once: true for the one caller that used it.
    async fn use_recovery_code(
        &self,
        user: &UserId,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn recovery_codes_left(&self, user: &UserId) -> StoreResult<i64>;
    /// Replaces the recovery codes (when two-step sign-in is on).
    async fn replace_recovery_codes(&self, user: &UserId, hashes: &[String]) -> StoreResult<()>;
    async fn put_challenge(&self, challenge: &SignInChallenge) -> StoreResult<()>;
    /// The unexpired challenge with this hash.
    async fn challenge(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<SignInChallenge>>;
    /// Counts a wrong code against the challenge; returns the failures so far.
    async fn fail_challenge(&self, hash: &TokenHash) -> StoreResult<i64>;
    /// Removes and returns an unexpired challenge (single use).
    async fn take_challenge(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<SignInChallenge>>;
}

/// Passkeys, and the WebAuthn ceremonies that make and use them.
#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// Adds a passkey; `Conflict("passkey")` when its credential id is registered already (to
    /// this account or another).
    async fn add_passkey(&self, passkey: &StoredPasskey) -> StoreResult<()>;
    /// A user's passkeys, oldest first.
    async fn passkeys(&self, user: &UserId) -> StoreResult<Vec<StoredPasskey>>;
    /// The passkey with this credential id, whoever's it is.
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>>;
    /// Removes a passkey of `user` and returns it; `None` when `user` has no passkey `id`.
    async fn remove_passkey(&self, user: &UserId, id: &str) -> StoreResult<Option<StoredPasskey>>;
    /// Records a use: the credential as the use updated it (its counter) and when. False when
    /// the passkey is gone.
    async fn use_passkey(&self, id: &str, passkey: &str, at: Timestamp) -> StoreResult<bool>;
    /// Stores a ceremony (and forgets those long expired).
    async fn put_ceremony(&self, ceremony: &WebauthnCeremony) -> StoreResult<()>;
    /// Removes and returns an unexpired ceremony: single use, and of concurrent takes, on one
    /// node or many, exactly one gets it.
    async fn take_ceremony(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<WebauthnCeremony>>;
}

pub trait Store:
    AccountStore
    + CredentialStore
    + EmailStore
    + TwoStepStore
    + PasskeyStore
    + OAuthStore
    + SubsonicStore
    + UserDataStore
    + LibraryStore
    + PlaylistStore
    + StreamStore
    + ExportStore
{
}
impl<T> Store for T where
    T: AccountStore
        + CredentialStore
        + EmailStore
        + TwoStepStore
        + PasskeyStore
        + OAuthStore
        + SubsonicStore
        + UserDataStore
        + LibraryStore
        + PlaylistStore
        + StreamStore
        + ExportStore
{
}
