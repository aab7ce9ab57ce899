//! `settings show` and `settings set KEY VALUE`: the organization's settings by the keys a
//! script writes, each change through core's `update_organization` and its rules.

use crate::output::Out;
use crate::{Failure, Outcome};
use gatehouse_core::model::{Organization, RoleKey};
use gatehouse_core::{Directory, Error, ErrorBody, ErrorCode, SessionId, SettingsInput};

/// The keys, in the order `settings show` prints them.
pub const KEYS: [&str; 8] = [
    "name",
    "invitation-lifetime-hours",
    "session-idle-minutes",
    "mfa-required-roles",
    "password-max-age-days",
    "dormant-days",
    "review-months",
    "approval-required-roles",
];

/// One setting's new value, read from the command line.
enum Change {
    Name(String),
    InvitationLifetimeHours(u32),
    SessionIdleMinutes(u32),
    MfaRequiredRoles(Vec<RoleKey>),
    PasswordMaxAgeDays(Option<u32>),
    DormantDays(Option<u32>),
    ReviewMonths(u32),
    ApprovalRequiredRoles(Vec<RoleKey>),
}

/// `invalid_setting` with a sentence of the command line's (naming the key and its values).
fn invalid(message: String) -> Failure {
    Failure::Refused(ErrorBody::new(ErrorCode::InvalidSetting, message))
}

/// What each key takes, as the refusal of a bad value says it.
fn takes(key: &str) -> &'static str {
    match key {
        "name" => "the organization's name",
        "invitation-lifetime-hours" => "a number of hours from 1 to 720 (30 days)",
        "session-idle-minutes" => "a number of minutes from 1 to 60",
        "mfa-required-roles" | "approval-required-roles" => {
            "role keys separated by commas, e.g. admin,owner (`gatehouse roles list` shows them), \
             or none"
        }
        "review-months" => "a number of months from 1 to 12",
        _ => "a number of days from 30 to 365, or off",
    }
}

fn bad_value(key: &str, value: &str) -> Failure {
    invalid(format!("{key} takes {}, not “{value}”.", takes(key)))
}

fn number(key: &str, value: &str) -> Result<u32, Failure> {
    value.trim().parse().map_err(|_| bad_value(key, value))
}

/// Role keys separated by commas, or `none`.
fn role_keys(key: &str, value: &str) -> Result<Vec<RoleKey>, Failure> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let roles: Vec<RoleKey> =
        value.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string).collect();
    if roles.is_empty() {
        return Err(bad_value(key, value));
    }
    Ok(roles)
}

/// A number of days, or `off` (`never` too: core's sentence for a number out of range offers
/// it).
fn days_or_off(key: &str, value: &str) -> Result<Option<u32>, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "off" | "never" => Ok(None),
        _ => Ok(Some(number(key, value)?)),
    }
}

fn parse(key: &str, value: &str) -> Result<Change, Failure> {
    Ok(match key {
        "name" => Change::Name(value.to_string()),
        "invitation-lifetime-hours" => Change::InvitationLifetimeHours(number(key, value)?),
        "session-idle-minutes" => Change::SessionIdleMinutes(number(key, value)?),
        "mfa-required-roles" => Change::MfaRequiredRoles(role_keys(key, value)?),
        "password-max-age-days" => Change::PasswordMaxAgeDays(days_or_off(key, value)?),
        "dormant-days" => Change::DormantDays(days_or_off(key, value)?),
        "review-months" => Change::ReviewMonths(number(key, value)?),
        "approval-required-roles" => Change::ApprovalRequiredRoles(role_keys(key, value)?),
        _ => {
            return Err(invalid(format!(
                "There is no setting “{key}”: the settings are {}.",
                KEYS.join(", ")
            )))
        }
    })
}

/// The value of `key` as `settings show` prints it and `settings set` takes it.
pub fn value_of(org: &Organization, key: &str) -> String {
    let s = &org.settings;
    let roles = |keys: &[RoleKey]| if keys.is_empty() { "none".into() } else { keys.join(",") };
    let days = |days: Option<u32>| days.map_or_else(|| "off".into(), |d| d.to_string());
    match key {
        "name" => org.name.clone(),
        "invitation-lifetime-hours" => s.invitation_lifetime_hours.to_string(),
        "session-idle-minutes" => s.session_idle_minutes.to_string(),
        "mfa-required-roles" => roles(&s.mfa_required_roles),
        "dormant-days" => days(s.dormant_days),
        "review-months" => s.review_months.to_string(),
        "approval-required-roles" => roles(&s.approval_required_roles),
        _ => days(s.password_max_age_days),
    }
}

pub fn show(out: &Out, dir: &Directory, s: SessionId) -> Outcome {
    out.settings(&dir.organization(s)?);
    Ok(())
}

/// Changes one setting (needs `settings:update`; the second-factor, password-age and access
/// governance settings only an Owner). An unknown key or a value of the wrong form: `invalid_setting`.
pub fn set(out: &Out, dir: &Directory, s: SessionId, key: &str, value: &str) -> Outcome {
    let change = parse(key, value)?;
    let org = dir.organization(s)?;
    let mut input = SettingsInput { name: org.name, settings: org.settings };
    match change {
        Change::Name(name) => input.name = name,
        Change::InvitationLifetimeHours(h) => input.settings.invitation_lifetime_hours = h,
        Change::SessionIdleMinutes(m) => input.settings.session_idle_minutes = m,
        Change::MfaRequiredRoles(roles) => input.settings.mfa_required_roles = roles,
        Change::PasswordMaxAgeDays(days) => input.settings.password_max_age_days = days,
        Change::DormantDays(days) => input.settings.dormant_days = days,
        Change::ReviewMonths(months) => input.settings.review_months = months,
        Change::ApprovalRequiredRoles(roles) => input.settings.approval_required_roles = roles,
    }
    let after = dir.update_organization(s, input).map_err(|e| match e {
        // A role that does not exist is a bad value of this setting.
        Error::UnknownRole(role) => {
            invalid(format!("There is no role “{role}”: {key} takes {}.", takes(key)))
        }
        other => Failure::from(other),
    })?;
    out.done(&format!("{key}: {}", value_of(&after, key)), &after);
    Ok(())
}
