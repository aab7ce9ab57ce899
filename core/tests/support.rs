use chrono::{DateTime, TimeZone, Utc};
use gatehouse_core::model::{IssuedCode, UserId, UserView};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{
    AcceptInput, Clock, Directory, ErrorCode, InviteOutcome, InviteRequest, Invitee, ManualClock,
    SessionId, SetupInput,
};
use std::sync::Arc;

pub const OWNER_EMAIL: &str = "Olivia.Owner@Example.com";
pub const OWNER_PASSWORD: &str = "correct horse battery staple 7";
pub const MEMBER_PASSWORD: &str = "plum tractor lantern quietly 4";

/// A directory on a fresh temporary store with a clock the test moves. Every invariant is
/// checked when the directory closes (see [`Checked`]), so each test ends with `verify()`.
pub struct Org {
    pub dir: Checked,
    pub clock: Arc<ManualClock>,
    pub owner: Option<SessionId>,
    // Dropped last: the store's files live here.
    pub tmp: tempfile::TempDir,
}

/// A user who accepted an invitation and is signed in.
pub struct Member {
    pub id: UserId,
    pub session: SessionId,
}

impl Org {
    /// Not set up yet.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()));
        let dir = Directory::open(tmp.path(), clock.clone()).expect("open store");
        Org { dir: dir.into(), clock, owner: None, tmp }
    }

    /// Not set up yet, with its keys in `keys` instead of the system's credential store.
    pub fn with_keys(keys: Arc<Keys>) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()));
        let dir = Directory::open_with_keys(tmp.path(), clock.clone(), keys).expect("open store");
        Org { dir: dir.into(), clock, owner: None, tmp }
    }

    /// Set up, with Olivia signed in as the Owner.
    pub fn with_owner(mut self) -> Self {
        let signed_in = self.dir.setup(setup_input()).expect("setup");
        self.owner = Some(signed_in.session);
        self
    }

    pub fn owner(&self) -> SessionId {
        self.owner.expect("org set up with an owner")
    }

    /// Moves the clock on by `by`; the owner, whose session went idle, signs in again.
    pub fn later(&mut self, by: chrono::Duration) {
        self.clock.advance(by);
        self.owner =
            Some(self.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).expect("owner signs in").session);
    }

    pub fn owner_id(&self) -> UserId {
        self.dir.current_session(self.owner()).expect("owner signed in").user.id
    }

    /// Invites `email` with `roles` as the owner; returns the code.
    pub fn invite(&self, email: &str, roles: &[&str]) -> IssuedCode {
        self.invite_as(self.owner(), email, roles).expect("invite")
    }

    pub fn invite_as(
        &self,
        by: SessionId,
        email: &str,
        roles: &[&str],
    ) -> Result<IssuedCode, ErrorCode> {
        let request = InviteRequest {
            invitees: vec![Invitee { email: email.into(), name: None }],
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        };
        match self.dir.invite_users(by, request).map_err(|e| e.code())?.remove(0) {
            InviteOutcome::Invited { issued, .. } => Ok(issued),
            InviteOutcome::Refused { error, .. } => Err(error.code),
        }
    }

    pub fn accept(&self, issued: &IssuedCode, name: &str) -> Member {
        let signed_in = self
            .dir
            .accept_invitation(AcceptInput {
                email: issued.email.clone(),
                code: issued.code.clone(),
                name: name.into(),
                password: MEMBER_PASSWORD.into(),
            })
            .expect("accept");
        Member { id: signed_in.info.user.id, session: signed_in.session }
    }

    /// An Active, signed-in member with `roles`, invited by the owner.
    pub fn member(&self, email: &str, roles: &[&str]) -> Member {
        let issued = self.invite(email, roles);
        self.accept(&issued, "Member")
    }

    pub fn user(&self, id: UserId) -> UserView {
        self.dir.get_user(self.owner(), id).expect("user")
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Closes the store and opens it again from disk, as a restart of the app would.
    pub fn reopen(self) -> Self {
        let Org { dir, clock, tmp, .. } = self;
        drop(dir);
        let dir = Directory::open_settled(tmp.path(), clock.clone()).expect("reopen store");
        Org { dir: dir.into(), clock, owner: None, tmp }
    }

    /// Closes the store and opens it with `keys`, as a new run of the app whose keys come
    /// afresh from its credential store; the Owner signs in again.
    pub fn restart(self, keys: Arc<Keys>) -> Self {
        let Org { dir, clock, tmp, .. } = self;
        drop(dir);
        let dir = Directory::open_with_keys(tmp.path(), clock.clone(), keys).expect("reopen");
        let owner = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).expect("owner signs in").session;
        Org { dir: dir.into(), clock, owner: Some(owner), tmp }
    }

    /// Every invariant holds now (they are checked again when the directory closes).
    pub fn verify(&self) {
        verify(&self.dir);
    }
}

fn verify(dir: &Directory) {
    let integrity = dir.verify().expect("verify runs");
    assert!(integrity.is_intact(), "store invariants broken: {:?}", integrity.problems);
}

/// A directory that re-checks every store invariant and the audit chain when it is dropped
/// (unless the test is already failing), as Kanidm's test harness ends every test.
pub struct Checked(Option<Directory>);

impl From<Directory> for Checked {
    fn from(dir: Directory) -> Self {
        Checked(Some(dir))
    }
}

impl std::ops::Deref for Checked {
    type Target = Directory;
    fn deref(&self) -> &Directory {
        self.0.as_ref().expect("the directory is open")
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            if !std::thread::panicking() {
                verify(&dir);
            }
        }
    }
}

/// Ivy accepting `code` sent to `email`, with the members' password.
pub fn accept_input(email: &str, code: &str) -> AcceptInput {
    AcceptInput {
        email: email.into(),
        code: code.into(),
        name: "Ivy Invitee".into(),
        password: MEMBER_PASSWORD.into(),
    }
}

pub fn setup_input() -> SetupInput {
    SetupInput {
        organization: "Acme Payments".into(),
        name: "Olivia Owner".into(),
        email: OWNER_EMAIL.into(),
        password: OWNER_PASSWORD.into(),
    }
}

/// The sled database at `path`, opened directly (to write a record as an older version did).
/// sled lets go of its file lock from a background thread after the store is dropped, so a
/// busy machine may still hold it for a moment: retried for up to ten seconds.
pub fn open_sled(path: &std::path::Path) -> sled::Db {
    let mut tries = 0;
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) if tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open the store's database: {e}"),
        }
    }
}
