use chrono::{DateTime, TimeZone, Utc};
use gatehouse_core::{Clock, Directory, ManualClock, SessionId, SetupInput};
use std::sync::Arc;

pub const OWNER_EMAIL: &str = "Olivia.Owner@Example.com";
pub const OWNER_PASSWORD: &str = "correct horse battery staple";

/// A directory on a fresh temporary store with a clock the test moves.
pub struct Org {
    pub dir: Directory,
    pub clock: Arc<ManualClock>,
    pub owner: Option<SessionId>,
    // Dropped last: the store's files live here.
    pub tmp: tempfile::TempDir,
}

impl Org {
    /// Not set up yet.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()));
        let dir = Directory::open(tmp.path(), clock.clone()).expect("open store");
        Org { dir, clock, owner: None, tmp }
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

    /// Closes the store and opens it again from disk, as a restart of the app would.
    pub fn reopen(self) -> Self {
        let Org { dir, clock, tmp, .. } = self;
        drop(dir);
        let dir = Directory::open(tmp.path(), clock.clone()).expect("reopen store");
        Org { dir, clock, owner: None, tmp }
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Every invariant holds; call at the end of each test.
    pub fn verify(&self) {
        let integrity = self.dir.verify().expect("verify runs");
        assert!(integrity.is_intact(), "store invariants broken: {:?}", integrity.problems);
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
