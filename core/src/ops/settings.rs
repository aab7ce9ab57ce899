//! The organization's settings.

use crate::auth::session::SessionId;
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::{Action, AuditAction, Module, Organization, Settings};
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
            return Err(Error::InvalidSetting(
                "The invitation lifetime must be between 1 hour and 30 days.",
            ));
        }
        if !IDLE_MINUTES.contains(&input.settings.session_idle_minutes) {
            return Err(Error::InvalidSetting(
                "The idle timeout must be between 1 and 60 minutes.",
            ));
        }
        let _writes = self.write_lock();
        let actor = self.authorize(session, Module::Settings, Action::Update)?;
        let before = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let after = Organization { name, settings: input.settings, ..before.clone() };
        if after == before {
            return Ok(after);
        }
        let summary = format!(
            "name “{}” → “{}”; invitation lifetime {} h → {} h; idle timeout {} min → {} min",
            before.name,
            after.name,
            before.settings.invitation_lifetime_hours,
            after.settings.invitation_lifetime_hours,
            before.settings.session_idle_minutes,
            after.settings.session_idle_minutes
        );
        let now = self.clock.now();
        self.store.write(|tx| {
            tx.put_organization(&after)?;
            tx.audit(
                AuditEntry::success(
                    actor.audit_actor(),
                    AuditAction::UpdateSettings,
                    "organization",
                    summary.as_str(),
                ),
                now,
            )
        })?;
        Ok(after)
    }
}
