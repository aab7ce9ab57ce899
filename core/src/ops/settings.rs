//! The organization's settings.

use crate::auth::session::SessionId;
use crate::error::{Error, Field, Result};
use crate::mail::{Letter, MailSettings, TestReport};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::{
    Action, AuditAction, AuditActor, Module, Organization, Outcome, Permission, RoleKey, Settings,
};
use crate::ops::governance::{DORMANT_DAYS, REVIEW_MONTHS};
use crate::Directory;
use serde::Deserialize;

pub const LIFETIME_HOURS: std::ops::RangeInclusive<u32> = 1..=720;
pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 1..=60;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SettingsInput {
    pub name: String,
    pub settings: Settings,
}

impl Directory {
    /// Needs `settings:read`.
    pub fn organization(&self, session: SessionId) -> Result<Organization> {
        self.authorize(session, Module::Settings, Action::Read)?;
        self.store.organization()?.ok_or(Error::NotSetUp)
    }

    /// Changes the name, invitation lifetime (1 hour to 30 days) and idle timeout (1 to 60
    /// minutes). Needs `settings:update`. Errors: `invalid_name`, `invalid_setting`.
    pub fn update_organization(
        &self,
        session: SessionId,
        input: SettingsInput,
    ) -> Result<Organization> {
        let name = clean_name(&input.name, "The organization name")?;
        if !LIFETIME_HOURS.contains(&input.settings.invitation_lifetime_hours) {
            return Err(Error::setting(
                Field::InvitationLifetime,
                "The invitation lifetime must be between 1 hour and 30 days.",
            ));
        }
        if !IDLE_MINUTES.contains(&input.settings.session_idle_minutes) {
            return Err(Error::setting(
                Field::IdleTimeout,
                "The idle timeout must be between 1 and 60 minutes.",
            ));
        }
        if let Some(days) = input.settings.password_max_age_days {
            if !PASSWORD_MAX_AGE_DAYS.contains(&days) {
                return Err(Error::setting(
                    Field::PasswordMaxAge,
                    "Passwords may expire after 30 to 365 days, or never.",
                ));
            }
        }
        if let Some(days) = input.settings.dormant_days {
            if !DORMANT_DAYS.contains(&days) {
                return Err(Error::setting(
                    Field::DormantDays,
                    "Dormant accounts may be deactivated after 30 to 365 days, or never.",
                ));
            }
        }
        if !REVIEW_MONTHS.contains(&input.settings.review_months) {
            return Err(Error::setting(
                Field::ReviewMonths,
                "Access reviews must be due every 1 to 12 months (PCI DSS asks for 6 at most).",
            ));
        }
        let mut settings = input.settings;
        settings.mfa_required_roles = self.known_roles(&settings.mfa_required_roles)?;
        settings.approval_required_roles = self.known_roles(&settings.approval_required_roles)?;
        self.changing(session, Some(SETTINGS_UPDATE), AuditAction::UpdateSettings, |change| {
            let before = self.store.organization()?.ok_or(Error::NotSetUp)?;
            let after =
                Organization { name: name.clone(), settings: settings.clone(), ..before.clone() };
            if after == before {
                return Ok(after);
            }
            let (was, now) = (&before.settings, &after.settings);
            // The rules that guard access are an Owner's to change (sign-in, dormant accounts,
            // reviews, approvals): a lesser holder of settings:update could loosen them.
            if (&was.mfa_required_roles, was.password_max_age_days)
                != (&now.mfa_required_roles, now.password_max_age_days)
                || (was.dormant_days, was.review_months, &was.approval_required_roles)
                    != (now.dormant_days, now.review_months, &now.approval_required_roles)
            {
                crate::policy::may_change_sign_in_rules(&change.actor.user)?;
            }
            let mut summary = vec![
                format!("name “{}” → “{}”", before.name, after.name),
                format!(
                    "invitation lifetime {} h → {} h",
                    was.invitation_lifetime_hours, now.invitation_lifetime_hours
                ),
                format!(
                    "idle timeout {} min → {} min",
                    was.session_idle_minutes, now.session_idle_minutes
                ),
            ];
            if was.mfa_required_roles != now.mfa_required_roles {
                summary.push(format!(
                    "second factor required for {} → {}",
                    roles_text(&was.mfa_required_roles),
                    roles_text(&now.mfa_required_roles)
                ));
            }
            if was.password_max_age_days != now.password_max_age_days {
                summary.push(format!(
                    "passwords expire after {} → {}",
                    days_text(was.password_max_age_days),
                    days_text(now.password_max_age_days)
                ));
            }
            if was.dormant_days != now.dormant_days {
                summary.push(format!(
                    "dormant accounts deactivated after {} → {}",
                    days_text(was.dormant_days),
                    days_text(now.dormant_days)
                ));
            }
            if was.review_months != now.review_months {
                summary.push(format!(
                    "access review every {} → {} months",
                    was.review_months, now.review_months
                ));
            }
            if was.approval_required_roles != now.approval_required_roles {
                summary.push(format!(
                    "approval required to grant {} → {}",
                    roles_text(&was.approval_required_roles),
                    roles_text(&now.approval_required_roles)
                ));
            }
            // Sessions that timed out under the old setting stay ended under the new one.
            let old_idle = i64::from(was.session_idle_minutes);
            self.sessions.end_expired(change.now(), chrono::Duration::minutes(old_idle));
            change
                .target("organization")
                .commit(&summary.join("; "), |tx| tx.put_organization(&after))?;
            Ok(after)
        })
    }
}

impl Directory {
    /// `keys` as known role keys, each once, in the order given. Error: `unknown_role`.
    fn known_roles(&self, keys: &[RoleKey]) -> Result<Vec<RoleKey>> {
        let mut known: Vec<RoleKey> = Vec::new();
        for key in keys {
            let role = self.role(key)?.ok_or_else(|| Error::UnknownRole(key.clone()))?;
            if !known.contains(&role.key) {
                known.push(role.key);
            }
        }
        Ok(known)
    }
}

/// Passwords may expire after this many days (or never).
pub const PASSWORD_MAX_AGE_DAYS: std::ops::RangeInclusive<u32> = 30..=365;

fn roles_text(roles: &[RoleKey]) -> String {
    if roles.is_empty() {
        return "nobody".into();
    }
    roles.join(", ")
}

fn days_text(days: Option<u32>) -> String {
    days.map_or_else(|| "never".into(), |d| format!("{d} days"))
}

const SETTINGS_UPDATE: Permission = Permission { module: Module::Settings, action: Action::Update };

/// A test message ready to send: the settings, its envelope and bytes.
pub struct TestEmail {
    pub settings: MailSettings,
    pub to: String,
    pub envelope: lettre::address::Envelope,
    pub bytes: Vec<u8>,
}

impl Directory {
    /// Sets (or with `None`, turns off) the outgoing mail server. Needs `settings:update`.
    /// Error: `invalid_setting` naming the field. The password is not stored here.
    pub fn update_mail_settings(
        &self,
        session: SessionId,
        mail: Option<MailSettings>,
    ) -> Result<Organization> {
        let mail = mail.map(|m| m.checked()).transpose()?;
        self.changing(session, Some(SETTINGS_UPDATE), AuditAction::UpdateMailSettings, |change| {
            let before = self.store.organization()?.ok_or(Error::NotSetUp)?;
            let after = Organization { mail: mail.clone(), ..before.clone() };
            if after == before {
                return Ok(after);
            }
            let summary = match &after.mail {
                Some(m) => format!("email sending through {}", m.describe()),
                None => "email sending turned off".to_string(),
            };
            change.target("organization").commit(&summary, |tx| tx.put_organization(&after))?;
            Ok(after)
        })
    }

    /// A test message to the signed-in person, through the saved settings. Needs
    /// `settings:update`. Error: `invalid_setting` when sending is not set up.
    pub fn test_email(&self, session: SessionId) -> Result<TestEmail> {
        let actor = self.authorize(session, Module::Settings, Action::Update)?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let settings = org.mail.clone().ok_or(Error::InvalidSetting {
            field: None,
            message: "Email sending is not set up yet: save the mail server first.",
        })?;
        let subject = format!("Gatehouse test email for {}", org.name);
        let text = format!(
            "This is a test email from Gatehouse for {}.\n\nIf you are reading it, \
             invitations and password resets will reach people through {}.\n",
            org.name, settings.host
        );
        let letter = Letter { subject: subject.clone(), html: format!("<p>{}</p>", subject), text };
        let from_name = if settings.from_name.is_empty() { &org.name } else { &settings.from_name };
        let email = lettre::Message::builder()
            .from(crate::mail::outbox::mailbox(from_name, &settings.from_address)?)
            .to(crate::mail::outbox::mailbox(&actor.user.name, actor.user.email.as_str())?)
            .subject(letter.subject)
            .body(letter.text)
            .map_err(|e| Error::internal("writing an email", e))?;
        Ok(TestEmail {
            settings,
            to: actor.user.email.to_string(),
            envelope: email.envelope().clone(),
            bytes: email.formatted(),
        })
    }

    /// Records a test's result in the audit log (never the password).
    pub fn record_test_email(
        &self,
        session: SessionId,
        to: &str,
        report: &TestReport,
    ) -> Result<()> {
        self.changing(session, Some(SETTINGS_UPDATE), AuditAction::TestEmail, |change| {
            let (summary, outcome) = match &report.failure {
                None => ("test email accepted by the mail server".to_string(), Outcome::Success),
                Some(f) => (
                    format!("test email failed at {}: {}", f.step.label(), f.message),
                    Outcome::Failed,
                ),
            };
            let entry = AuditEntry::success(
                AuditActor::User(change.actor.user.id),
                AuditAction::TestEmail,
                to,
                summary,
            )
            .with_outcome(outcome);
            change.record(entry)
        })
    }
}
