use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The one organization this store administers, created at setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Organization {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub settings: Settings,
    /// The outgoing mail server; `None` until set up (invitations then show their code and
    /// can be saved as a file).
    #[serde(default)]
    pub mail: Option<crate::mail::MailSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Settings {
    /// How long an invitation or reset code stays valid, in hours (1 to 720).
    pub invitation_lifetime_hours: u32,
    /// Minutes without activity after which a session ends (1 to 60).
    pub session_idle_minutes: u32,
    /// The roles whose holders must have a second factor (none on a new organization).
    #[serde(default)]
    pub mfa_required_roles: Vec<super::RoleKey>,
    /// Days after which a password expires for users without a second factor (30 to 365),
    /// or `None` (off).
    #[serde(default)]
    pub password_max_age_days: Option<u32>,
    /// Days without a sign-in after which the system deactivates an Active user (30 to 365,
    /// PCI DSS v4 8.2.6), or `None` (off). New organizations start at 90.
    #[serde(default)]
    pub dormant_days: Option<u32>,
    /// Months between access reviews (1 to 12; 6 by default, PCI DSS v4 7.2.4).
    #[serde(default = "default_review_months")]
    pub review_months: u32,
    /// The roles whose grant needs an approval reference (PCI DSS v4 8.2.4).
    #[serde(default)]
    pub approval_required_roles: Vec<super::RoleKey>,
}

fn default_review_months() -> u32 {
    6
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            invitation_lifetime_hours: 7 * 24,
            session_idle_minutes: 15,
            mfa_required_roles: Vec::new(),
            password_max_age_days: None,
            dormant_days: None,
            review_months: default_review_months(),
            approval_required_roles: Vec::new(),
        }
    }
}
