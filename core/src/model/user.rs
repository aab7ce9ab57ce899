use super::{email::Email, invitation::InvitationInfo, role::RoleKey};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub type UserId = Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Inactive,
    Invited,
}

/// A user as stored. Holds secrets: never sent to a front end (see [`UserView`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: Email,
    pub status: UserStatus,
    pub roles: Vec<RoleKey>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// argon2id PHC string; `None` while Invited.
    pub password_hash: Option<String>,
    /// The previous hashes, newest first, at most 4.
    pub previous_hashes: Vec<String>,
    /// The current invitation, while Invited.
    #[serde(default)]
    pub invitation_id: Option<Uuid>,
    /// The latest password reset issued for the user.
    #[serde(default)]
    pub reset_id: Option<Uuid>,
    /// The second factor, recovery codes and password age.
    #[serde(default)]
    pub factors: super::factors::Factors,
    /// The last day of access is the day before: on this date (local midnight) the system
    /// deactivates them (PCI DSS v4 8.2.7).
    #[serde(default)]
    pub access_until: Option<NaiveDate>,
    /// The last reactivation: the dormant-account rule counts from it too.
    #[serde(default)]
    pub reactivated_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_owner(&self) -> bool {
        self.roles.iter().any(|r| r == super::role::OWNER)
    }

    pub fn is_active_owner(&self) -> bool {
        self.status == UserStatus::Active && self.is_owner()
    }

    /// How the user is named to people (letters, refusals): their name, else their email.
    pub fn shown_name(&self) -> String {
        match self.name.trim() {
            "" => self.email.to_string(),
            name => name.to_string(),
        }
    }

    /// The view without invitation or lockout details; see `Directory::view`.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            name: self.name.clone(),
            email: self.email.as_str().to_string(),
            status: self.status,
            roles: self.roles.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            activated_at: self.activated_at,
            deactivated_at: self.deactivated_at,
            last_sign_in_at: self.last_sign_in_at,
            invitation: None,
            locked_until: None,
            second_factor: self.factors.totp.is_some(),
            access_until: self.access_until,
            days_since_sign_in: None,
            dormant_soon: false,
            actions: Vec::new(),
        }
    }
}

/// What a front end sees of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UserView {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub status: UserStatus,
    pub roles: Vec<RoleKey>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The current invitation, while Invited.
    pub invitation: Option<InvitationInfo>,
    /// Set while sign-in for the user's email is locked out.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether they have an authenticator app enrolled.
    pub second_factor: bool,
    /// The date on which the system deactivates them, if any.
    pub access_until: Option<NaiveDate>,
    /// Whole days since their last sign-in; `None` if they never signed in.
    pub days_since_sign_in: Option<u32>,
    /// An Active user the dormant-account rule will deactivate within 14 days.
    pub dormant_soon: bool,
    /// What the person who asked may do to this user, and why not (core's answer: the UI
    /// shows exactly these and decides nothing itself).
    pub actions: Vec<crate::policy::ActOption>,
}
