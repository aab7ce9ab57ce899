//! Custom roles (create, edit, delete) and the organization's settings (invitation lifetime,
//! idle timeout, dormant accounts); each checked against what the spec allows.

use super::expect::Verdict;
use super::ops::{PermPick, Pick};
use super::run::code_of;
use super::spec::{show_perms, Perms, CUSTOM, DORMANT_DAYS};
use super::state::{Run, Status};
use gatehouse_core::model::{Action, Module, Settings};
use gatehouse_core::{ErrorCode, RoleInput, SettingsInput};
use proptest::test_runner::TestCaseError;

const ORGANIZATION: &str = "Acme Payments";

#[allow(clippy::field_reassign_with_default)] // only the fields the model knows
fn settings(lifetime_hours: u32, idle_minutes: u32, dormant_days: Option<u32>) -> Settings {
    let mut s = Settings::default();
    s.invitation_lifetime_hours = lifetime_hours;
    s.session_idle_minutes = idle_minutes;
    s.dormant_days = dormant_days;
    s
}

impl Run {
    fn role_target(which: usize, built_in_key: &str) -> (String, String) {
        match which {
            0 | 1 => (CUSTOM[which].0.to_string(), CUSTOM[which].1.to_string()),
            _ => (built_in_key.to_string(), format!("Edited {built_in_key}")),
        }
    }

    pub(super) fn create_role(
        &mut self,
        by: Pick,
        which: usize,
        pick: &PermPick,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, name) = Self::role_target(which, "admin");
        let perms = self.template(pick);
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Create), ErrorCode::PermissionDenied);
            if which >= 2 {
                v.reject(true, ErrorCode::RoleExists);
                v.maybe(true, ErrorCode::BuiltInRole, 0);
            } else {
                v.reject(self.custom.contains_key(&key), ErrorCode::RoleExists);
            }
            v.deny(!perms.is_subset(&self.live_perms(a)), ErrorCode::Escalation);
        }
        let input = RoleInput {
            key: Some(key.clone()),
            name,
            description: String::new(),
            permissions: perms.iter().copied().collect(),
        };
        let real =
            self.org.dir.create_role(self.sessions[s].id, input).map(|_| ()).map_err(code_of);
        let what = format!("{} creates role {key} with {}", self.who(s), show_perms(&perms));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.insert(key, perms);
        }
        Ok(true)
    }

    pub(super) fn update_role(
        &mut self,
        by: Pick,
        which: usize,
        pick: &PermPick,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, name) = Self::role_target(which, "admin");
        let perms = self.template(pick);
        let before = self.custom.get(&key).cloned();
        let same = before.as_ref() == Some(&perms);
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Update), ErrorCode::PermissionDenied);
            let mine = self.live_perms(a);
            match &before {
                _ if which >= 2 => v.reject(true, ErrorCode::BuiltInRole),
                None => v.reject(true, ErrorCode::UnknownRole),
                Some(old) => {
                    // Rule 4 forbids granting what one lacks; whether keeping it counts is open.
                    let added: Perms = perms.difference(old).copied().collect();
                    v.deny(!added.is_subset(&mine), ErrorCode::Escalation);
                    v.maybe(!perms.is_subset(&mine), ErrorCode::Escalation, 1);
                }
            }
        }
        let input = RoleInput {
            key: None,
            name,
            description: String::new(),
            permissions: perms.iter().copied().collect(),
        };
        let real =
            self.org.dir.update_role(self.sessions[s].id, &key, input).map(|_| ()).map_err(code_of);
        let what = format!("{} sets role {key} to {}", self.who(s), show_perms(&perms));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.insert(key, perms);
        }
        Ok(true)
    }

    pub(super) fn delete_role(&mut self, by: Pick, which: usize) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let (key, _) = Self::role_target(which, "reporting");
        let mut v = Verdict::go(&[1]);
        let actor = self.begin(s, &mut v);
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Roles, Action::Delete), ErrorCode::PermissionDenied);
            if which >= 2 {
                v.reject(true, ErrorCode::BuiltInRole);
            } else if !self.custom.contains_key(&key) {
                v.reject(true, ErrorCode::UnknownRole);
            } else {
                let in_use = self
                    .people
                    .iter()
                    .any(|p| p.status != Status::Absent && p.roles.contains(&key));
                v.reject(in_use, ErrorCode::RoleInUse);
            }
        }
        let real = self.org.dir.delete_role(self.sessions[s].id, &key).map_err(code_of);
        let what = format!("{} deletes role {key}", self.who(s));
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.custom.remove(&key);
        }
        Ok(true)
    }

    pub(super) fn settings(
        &mut self,
        by: Pick,
        lifetime: u32,
        idle: u32,
        dormant: Option<u32>,
    ) -> Result<bool, TestCaseError> {
        let Some(s) = self.pick(by)? else { return Ok(false) };
        let same = lifetime == self.lifetime_hours
            && idle == self.idle_minutes
            && dormant == self.dormant_days;
        let mut v = Verdict::go(if same { &[0, 1][..] } else { &[1][..] });
        // A setting out of range is refused before anything else (the session is not looked
        // at, so not kept alive either).
        let invalid = dormant.is_some_and(|d| !DORMANT_DAYS.contains(&d));
        let actor = if invalid {
            v = Verdict::default();
            v.reject(true, ErrorCode::InvalidSetting);
            None
        } else {
            self.begin(s, &mut v)
        };
        if let Some(a) = actor {
            v.deny(!self.can(a, Module::Settings, Action::Update), ErrorCode::PermissionDenied);
            // The dormant-account rule guards access: an Owner's to change.
            v.deny(dormant != self.dormant_days && !self.owner(a), ErrorCode::OwnerRequired);
        }
        let input = SettingsInput {
            name: ORGANIZATION.into(),
            settings: settings(lifetime, idle, dormant),
        };
        let real = self
            .org
            .dir
            .update_organization(self.sessions[s].id, input)
            .map(|_| ())
            .map_err(code_of);
        let what = format!(
            "{} sets the invitation lifetime to {lifetime} h, the idle timeout to {idle} min and \
             dormant accounts to {dormant:?} days",
            self.who(s)
        );
        self.compare_verdict(&what, &real, &v)?;
        if actor.is_some() && real.is_ok() {
            self.lifetime_hours = lifetime;
            self.idle_minutes = idle;
            self.dormant_days = dormant;
        }
        Ok(true)
    }
}
