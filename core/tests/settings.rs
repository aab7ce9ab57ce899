use crate::support::Org;
use chrono::Duration;
use gatehouse_core::model::Settings;
use gatehouse_core::{ErrorCode, Field, SettingsInput};

fn input(name: &str, hours: u32, minutes: u32) -> SettingsInput {
    SettingsInput {
        name: name.into(),
        settings: Settings {
            invitation_lifetime_hours: hours,
            session_idle_minutes: minutes,
            ..Default::default()
        },
    }
}

#[test]
fn the_owner_changes_the_settings_within_their_bounds() {
    let org = Org::new().with_owner();
    let org_now = org.dir.update_organization(org.owner(), input("Acme Ltd", 720, 60)).unwrap();
    assert_eq!(org_now.name, "Acme Ltd");
    // Each refusal names the field it is about, for the form to show it there.
    let (lifetime, idle) = (Some(Field::InvitationLifetime), Some(Field::IdleTimeout));
    for (hours, minutes, field) in
        [(0, 15, lifetime), (721, 15, lifetime), (24, 0, idle), (24, 61, idle)]
    {
        let err = org
            .dir
            .update_organization(org.owner(), input("Acme Ltd", hours, minutes))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSetting, "{hours} h, {minutes} min");
        assert_eq!(err.to_body().field, field, "{hours} h, {minutes} min");
    }
    assert_eq!(org.dir.organization(org.owner()).unwrap().settings.invitation_lifetime_hours, 720);
    org.verify();
}

#[test]
fn a_shorter_idle_timeout_ends_sessions_sooner() {
    let org = Org::new().with_owner();
    org.dir.update_organization(org.owner(), input("Acme Payments", 168, 1)).unwrap();
    org.clock.advance(Duration::seconds(61));
    assert_eq!(org.dir.list_users(org.owner()).unwrap_err().code(), ErrorCode::SessionExpired);
    org.verify();
}

#[test]
fn a_longer_idle_timeout_does_not_revive_a_session_that_timed_out() {
    let mut org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir.update_organization(org.owner(), input("Acme Payments", 168, 1)).unwrap();
    org.later(Duration::minutes(5)); // the Owner signs in again; Rex's session timed out
    assert!(!org.dir.session_is_live(rex.session).unwrap());
    org.dir.update_organization(org.owner(), input("Acme Payments", 168, 30)).unwrap();
    assert!(!org.dir.session_is_live(rex.session).unwrap(), "still ended");
    let err = org.dir.current_session(rex.session).unwrap_err();
    assert!(matches!(err.code(), ErrorCode::NotSignedIn | ErrorCode::SessionExpired));
}

#[test]
fn reading_and_changing_settings_follow_the_matrix() {
    let org = Org::new().with_owner();
    let sam = org.member("sam@example.com", &["system_integrator"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir.organization(sam.session).unwrap();
    let err = org.dir.update_organization(sam.session, input("Sam's", 24, 15)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert_eq!(org.dir.organization(rex.session).unwrap_err().code(), ErrorCode::PermissionDenied);
    org.verify();
}
