//! Access governance: dormant accounts (PCI DSS v4 8.2.6), end dates (8.2.7), approval
//! references (8.2.4), who can do what, and the audit log as evidence (10.2.1.3, 10.5.1).

use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::{Duration, Local, NaiveDate};
use gatehouse_core::model::{
    Action, AuditAction, AuditActor, AuditEvent, Module, Outcome, Settings, UserStatus,
};
use gatehouse_core::ops::governance::access_ends_at;
use gatehouse_core::{
    AuditQuery, Directory, ErrorCode, InviteOutcome, InviteRequest, Invitee, SessionId,
    SettingsInput, UserQuery,
};

fn events(dir: &Directory, session: SessionId, action: AuditAction) -> Vec<AuditEvent> {
    let query = AuditQuery { action: Some(action), limit: Some(500), ..Default::default() };
    dir.audit_log(session, query).unwrap().events
}

fn set(org: &Org, change: impl FnOnce(&mut Settings)) {
    let current = org.dir.organization(org.owner()).unwrap();
    let mut settings = current.settings;
    change(&mut settings);
    org.dir
        .update_organization(org.owner(), SettingsInput { name: current.name, settings })
        .unwrap();
}

/// Today on this computer's calendar, as the end dates are read.
fn today(org: &Org) -> NaiveDate {
    org.clock_now().with_timezone(&Local).date_naive()
}

#[test]
fn a_new_organization_deactivates_dormant_accounts_after_90_days() {
    let org = Org::new().with_owner();
    let settings = org.dir.organization(org.owner()).unwrap().settings;
    assert_eq!(settings.dormant_days, Some(90), "recommended on from setup");
    assert_eq!(settings.review_months, 6);
}

#[test]
fn a_user_without_a_sign_in_for_91_days_is_deactivated_by_the_system_when_the_store_opens() {
    let org = Org::new().with_owner();
    let idle = org.member("idle@example.com", &["reporting"]);
    let busy = org.member("busy@example.com", &["reporting"]);
    org.clock.advance(Duration::days(89));
    org.dir.sign_in("busy@example.com", MEMBER_PASSWORD).unwrap();
    org.clock.advance(Duration::days(2)); // day 91: idle's last sign-in was on day 0

    let mut org = org.reopen();
    org.owner = Some(org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session);
    assert_eq!(org.user(idle.id).status, UserStatus::Inactive);
    assert_eq!(org.user(busy.id).status, UserStatus::Active, "signed in on day 89");

    let mut org = org.reopen(); // exactly once: a second opening changes nothing
    org.owner = Some(org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session);
    let deactivations = events(&org.dir, org.owner(), AuditAction::Deactivate);
    assert_eq!(deactivations.len(), 1, "{deactivations:?}");
    let event = &deactivations[0];
    assert_eq!(event.actor, AuditActor::System);
    assert_eq!(event.target.as_deref(), Some("idle@example.com"));
    assert_eq!(event.summary, "Active → Inactive; reason: no sign-in for 90 days");
    // The sessions of a deactivated user end with them.
    assert_eq!(
        org.dir.sign_in("idle@example.com", MEMBER_PASSWORD).unwrap_err().code(),
        ErrorCode::InvalidCredentials
    );
}

#[test]
fn a_user_who_never_signed_in_counts_from_their_activation() {
    let org = Org::new().with_owner();
    let member = org.member("new@example.com", &["reporting"]);
    org.dir.sign_out(member.session).unwrap();
    org.clock.advance(Duration::days(90) - Duration::minutes(1));
    assert!(org.dir.enforce_access().unwrap().is_empty(), "a minute short of 90 days");
    org.clock.advance(Duration::minutes(1));
    assert_eq!(org.dir.enforce_access().unwrap(), vec![member.id]);
}

#[test]
fn the_last_active_owner_is_never_deactivated_as_dormant_but_told_at_sign_in() {
    let org = Org::new().with_owner();
    org.clock.advance(Duration::days(200));
    let org = org.reopen();
    assert!(org.dir.enforce_access().unwrap().is_empty());
    let signed_in = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    assert_eq!(signed_in.info.user.status, UserStatus::Active);
    assert_eq!(signed_in.info.kept_though_dormant, Some(200));
    // The next sign-in, a day later, is not dormant any more.
    org.clock.advance(Duration::days(1));
    assert_eq!(
        org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().info.kept_though_dormant,
        None
    );
}

#[test]
fn a_second_owner_who_stays_away_is_deactivated_like_anyone() {
    let mut org = Org::new().with_owner();
    let other = org.member("second.owner@example.com", &["owner"]);
    org.dir.sign_out(other.session).unwrap();
    org.later(Duration::days(80)); // Olivia signs in on day 80; the other Owner stays away
    org.later(Duration::days(11));
    assert_eq!(org.dir.enforce_access().unwrap(), vec![other.id]);
    assert_eq!(org.user(other.id).status, UserStatus::Inactive);
}

#[test]
fn a_dormant_user_who_tries_to_sign_in_between_checks_is_deactivated_then() {
    let org = Org::new().with_owner();
    let member = org.member("late@example.com", &["reporting"]);
    org.clock.advance(Duration::days(95));
    let err = org.dir.sign_in("late@example.com", MEMBER_PASSWORD).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidCredentials);
    let owner = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    assert_eq!(org.dir.get_user(owner, member.id).unwrap().status, UserStatus::Inactive);
}

#[test]
fn turning_the_dormant_rule_off_keeps_everyone() {
    let org = Org::new().with_owner();
    set(&org, |s| s.dormant_days = None);
    let member = org.member("kept@example.com", &["reporting"]);
    org.clock.advance(Duration::days(400));
    assert!(org.dir.enforce_access().unwrap().is_empty());
    let owner = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    assert_eq!(org.dir.get_user(owner, member.id).unwrap().status, UserStatus::Active);
}

#[test]
fn an_end_date_deactivates_on_its_day_with_the_reason() {
    let mut org = Org::new().with_owner();
    set(&org, |s| s.dormant_days = None);
    let member = org.member("contractor@example.com", &["reporting"]);
    let until = today(&org) + Duration::days(10);
    let view = org.dir.set_access_until(org.owner(), member.id, Some(until)).unwrap();
    assert_eq!(view.access_until, Some(until));

    let ends = access_ends_at(until);
    org.clock.advance(ends - org.clock_now() - Duration::minutes(1));
    assert!(org.dir.enforce_access().unwrap().is_empty(), "the day before");
    org.clock.advance(Duration::minutes(1));
    assert_eq!(org.dir.enforce_access().unwrap(), vec![member.id]);
    org.later(Duration::minutes(1));
    assert_eq!(org.user(member.id).status, UserStatus::Inactive);
    let event = events(&org.dir, org.owner(), AuditAction::Deactivate).remove(0);
    assert_eq!(event.actor, AuditActor::System);
    assert_eq!(event.summary, format!("Active → Inactive; reason: access ended on {until}"));
    assert_eq!(org.dir.list_users(member.session).unwrap_err().code(), ErrorCode::NotSignedIn);
}

#[test]
fn an_invitee_whose_end_date_comes_loses_the_invitation() {
    let mut org = Org::new().with_owner();
    let until = today(&org) + Duration::days(3);
    let request = InviteRequest {
        invitees: vec![Invitee { email: "temp@example.com".into(), name: None }],
        roles: vec!["reporting".into()],
        access_until: Some(until),
        ..Default::default()
    };
    let InviteOutcome::Invited { issued, .. } =
        org.dir.invite_users(org.owner(), request).unwrap().remove(0)
    else {
        panic!("invited")
    };
    assert_eq!(org.user(issued.user_id).access_until, Some(until));
    org.clock.advance(access_ends_at(until) - org.clock_now());
    assert_eq!(org.dir.enforce_access().unwrap(), vec![issued.user_id]);
    org.later(Duration::minutes(1));
    assert_eq!(
        org.dir.get_user(org.owner(), issued.user_id).unwrap_err().code(),
        ErrorCode::UserNotFound
    );
    let cancelled = events(&org.dir, org.owner(), AuditAction::CancelInvitation).remove(0);
    assert_eq!(cancelled.actor, AuditActor::System);
    assert_eq!(cancelled.summary, format!("invitation ended: access ended on {until}"));
}

#[test]
fn only_someone_who_dominates_a_user_sets_or_clears_their_end_date() {
    let org = Org::new().with_owner();
    let admin = org.member("admin@example.com", &["admin"]);
    let reporter = org.member("reporter@example.com", &["reporting"]);
    let later = today(&org) + Duration::days(30);

    let past = org.dir.set_access_until(org.owner(), reporter.id, Some(today(&org))).unwrap_err();
    assert_eq!(past.code(), ErrorCode::InvalidDate);
    let own = org.dir.set_access_until(admin.session, admin.id, Some(later)).unwrap_err();
    assert_eq!(own.code(), ErrorCode::OwnStatus);
    let owner_id = org.owner_id();
    let on_owner = org.dir.set_access_until(admin.session, owner_id, Some(later)).unwrap_err();
    assert_eq!(on_owner.code(), ErrorCode::OwnerOnly);
    let refused = events(&org.dir, org.owner(), AuditAction::SetAccessUntil);
    assert!(refused
        .iter()
        .any(|e| e.outcome == Outcome::Denied && e.code == Some(ErrorCode::OwnerOnly)));

    org.dir.set_access_until(admin.session, reporter.id, Some(later)).unwrap();
    let cleared = org.dir.set_access_until(admin.session, reporter.id, None).unwrap();
    assert_eq!(cleared.access_until, None);
    let summaries: Vec<String> = events(&org.dir, org.owner(), AuditAction::SetAccessUntil)
        .into_iter()
        .filter(|e| e.outcome == Outcome::Success)
        .map(|e| e.summary)
        .collect();
    assert_eq!(
        summaries,
        [format!("access until {later} → never"), format!("access until never → {later}")]
    );
}

#[test]
fn the_list_shows_days_since_sign_in_and_filters_dormant_soon_ending_soon_and_no_sign_in_since() {
    let mut org = Org::new().with_owner();
    let away = org.member("away@example.com", &["reporting"]);
    let ending = org.member("ending@example.com", &["reporting"]);
    org.later(Duration::days(60));
    let fresh = org.member("fresh@example.com", &["reporting"]);
    org.dir
        .set_access_until(org.owner(), ending.id, Some(today(&org) + Duration::days(20)))
        .unwrap();
    org.later(Duration::days(17)); // away: 77 days, within 14 of 90; fresh: 17 days

    let view = org.user(away.id);
    assert_eq!(view.days_since_sign_in, Some(77));
    assert!(view.dormant_soon);
    assert!(!org.user(fresh.id).dormant_soon);
    assert!(!org.dir.current_session(org.owner()).unwrap().user.dormant_soon, "the lone Owner");

    let emails = |query: UserQuery| -> Vec<String> {
        let page = org.dir.query_users(org.owner(), query).unwrap();
        page.users.into_iter().map(|u| u.email).collect()
    };
    assert_eq!(
        emails(UserQuery { dormant_soon: Some(true), ..Default::default() }),
        ["away@example.com", "ending@example.com"]
    );
    assert_eq!(
        emails(UserQuery { ending_soon: Some(true), ..Default::default() }),
        ["ending@example.com"]
    );
    let since = org.clock_now() - Duration::days(20);
    assert_eq!(
        emails(UserQuery { no_sign_in_since: Some(since), ..Default::default() }),
        ["away@example.com", "ending@example.com"],
        "fresh signed in on day 60; the Owner signed in just now"
    );
    let invitee = org.invite("invitee@example.com", &["reporting"]);
    assert_eq!(org.user(invitee.user_id).days_since_sign_in, None);
}

#[test]
fn a_grant_of_a_role_that_needs_approval_is_refused_without_a_reference_and_audited() {
    let org = Org::new().with_owner();
    set(&org, |s| s.approval_required_roles = vec!["admin".into()]);
    let request = |approval: Option<&str>| InviteRequest {
        invitees: vec![Invitee { email: "ada@example.com".into(), name: None }],
        roles: vec!["admin".into()],
        approval: approval.map(String::from),
        ..Default::default()
    };
    let err = org.dir.invite_users(org.owner(), request(Some("  "))).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ApprovalRequired);
    let refused = events(&org.dir, org.owner(), AuditAction::Invite);
    assert_eq!(refused[0].outcome, Outcome::Denied);
    assert_eq!(refused[0].code, Some(ErrorCode::ApprovalRequired));

    let outcome =
        org.dir.invite_users(org.owner(), request(Some("Olivia, ticket OPS-42"))).unwrap();
    assert!(matches!(outcome[0], InviteOutcome::Invited { .. }));
    let invited = events(&org.dir, org.owner(), AuditAction::Invite).remove(0);
    assert_eq!(invited.summary, "invited with roles admin; approved: Olivia, ticket OPS-42");
    // A role not named in the settings needs none.
    org.invite("rex@example.com", &["reporting"]);
}

#[test]
fn changing_roles_needs_approval_only_for_a_newly_granted_role() {
    let org = Org::new().with_owner();
    let admin = org.member("admin@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    set(&org, |s| s.approval_required_roles = vec!["admin".into()]);

    let err = org.dir.change_roles(org.owner(), rex.id, vec!["admin".into()]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ApprovalRequired);
    assert_eq!(org.user(rex.id).roles, ["reporting"]);
    let roles = vec!["admin".to_string(), "reporting".to_string()];
    org.dir
        .change_roles_approved(
            org.owner(),
            rex.id,
            roles.clone(),
            Some("email from the CFO".into()),
        )
        .unwrap();
    let event = events(&org.dir, org.owner(), AuditAction::ChangeRoles).remove(0);
    assert_eq!(event.summary, "roles reporting → admin, reporting; approved: email from the CFO");
    // Keeping Admin while adding another role grants nothing that needs approval.
    org.dir.change_roles(org.owner(), admin.id, roles).unwrap();
}

#[test]
fn an_import_row_granting_a_role_that_needs_approval_is_refused_without_one() {
    let org = Org::new().with_owner();
    set(&org, |s| s.approval_required_roles = vec!["admin".into()]);
    let csv = b"email,name,roles\nada@example.com,Ada,admin\nrex@example.com,Rex,reporting\n";
    let report = org.dir.import_users_csv(org.owner(), csv, false, None, |_, _| {}).unwrap();
    assert_eq!((report.invited, report.skipped), (1, 1));
    assert!(report.rows[0].message.contains("approval reference"), "{}", report.rows[0].message);
    let approved = org
        .dir
        .import_users_csv(org.owner(), csv, false, Some("board minutes 2026-01".into()), |_, _| {})
        .unwrap();
    assert_eq!(approved.rows[0].issued.as_ref().map(|i| i.email.as_str()), Some("ada@example.com"));
}

#[test]
fn governance_settings_are_checked_and_an_owners_to_change() {
    let org = Org::new().with_owner();
    let current = org.dir.organization(org.owner()).unwrap();
    let attempt = |session: SessionId, change: &dyn Fn(&mut Settings)| {
        let mut settings = current.settings.clone();
        change(&mut settings);
        org.dir.update_organization(session, SettingsInput { name: current.name.clone(), settings })
    };
    let owner = org.owner();
    for bad in [Some(29), Some(366)] {
        let err = attempt(owner, &|s| s.dormant_days = bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSetting, "{bad:?}");
    }
    for bad in [0, 13] {
        let err = attempt(owner, &|s| s.review_months = bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSetting, "{bad}");
    }
    let err = attempt(owner, &|s| s.approval_required_roles = vec!["nope".into()]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownRole);

    let admin = org.member("admin@example.com", &["admin"]);
    for change in [
        &(|s: &mut Settings| s.dormant_days = None) as &dyn Fn(&mut Settings),
        &|s| s.review_months = 12,
        &|s| s.approval_required_roles = vec!["admin".into()],
    ] {
        assert_eq!(attempt(admin.session, change).unwrap_err().code(), ErrorCode::OwnerRequired);
    }
    let saved = attempt(owner, &|s| {
        s.dormant_days = Some(120);
        s.review_months = 3;
        s.approval_required_roles = vec!["owner".into(), "admin".into(), "owner".into()];
    })
    .unwrap();
    assert_eq!(saved.settings.approval_required_roles, ["owner", "admin"]);
    let event = events(&org.dir, owner, AuditAction::UpdateSettings).remove(0);
    assert!(
        event.summary.contains("dormant accounts deactivated after 90 days → 120 days"),
        "{}",
        event.summary
    );
    assert!(event.summary.contains("access review every 6 → 3 months"));
    assert!(event.summary.contains("approval required to grant nobody → owner, admin"));
}

#[test]
fn who_can_lists_the_holders_of_a_permission_with_the_roles_that_grant_it() {
    let org = Org::new().with_owner();
    let admin = org.member("admin@example.com", &["admin"]);
    org.member("payments@example.com", &["payment_management", "reporting"]);
    org.member("reports@example.com", &["reporting"]);
    let answer = org.dir.who_can(org.owner(), Module::Users, Action::Update).unwrap();
    let rows: Vec<(&str, Vec<&str>)> = answer
        .users
        .iter()
        .map(|u| (u.email.as_str(), u.roles_granting.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        rows,
        [("admin@example.com", vec!["admin"]), ("Olivia.Owner@Example.com", vec!["owner"])]
    );
    let csv = org.dir.who_can_csv(admin.session, Module::Users, Action::Update).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert_eq!(
        events(&org.dir, org.owner(), AuditAction::WhoCan)[0].summary,
        "exported 2 users who can users:u"
    );
    let reporter = org.member("r2@example.com", &["reporting"]);
    let err = org.dir.who_can(reporter.session, Module::Users, Action::Update).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
}

#[test]
fn reading_the_audit_log_is_itself_recorded_once_per_search() {
    let org = Org::new().with_owner();
    org.invite("ivy@example.com", &["reporting"]);
    let owner = org.owner();
    let query = AuditQuery { limit: Some(1), ..Default::default() };
    let first = org.dir.audit_log(owner, query.clone()).unwrap();
    let next = AuditQuery { before: first.next, ..query };
    org.dir.audit_log(owner, next).unwrap();
    let search = AuditQuery { target: Some("olivia".into()), ..Default::default() };
    org.dir.audit_log(owner, search).unwrap();
    let reads = events(&org.dir, owner, AuditAction::ReadAudit);
    let summaries: Vec<&str> = reads.iter().map(|e| e.summary.as_str()).collect();
    // Newest first; the `events` helper's own read is recorded after it reads.
    assert_eq!(summaries, ["searched the audit log: target “olivia”", "read the audit log"]);
}

#[test]
fn events_older_than_a_year_are_kept() {
    let org = Org::new().with_owner();
    set(&org, |s| s.dormant_days = None);
    org.clock.advance(Duration::days(800));
    let org = org.reopen();
    let owner = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let setup = events(&org.dir, owner, AuditAction::Setup);
    assert_eq!(setup.len(), 1, "the setup event, 800 days old, is still in the log");
    assert_eq!(setup[0].seq, 1);
}

mod who_can_property {
    use crate::support::Org;
    use gatehouse_core::model::{Action, Module, Permission};
    use gatehouse_core::RoleInput;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn every_permission() -> Vec<Permission> {
        Module::ALL
            .into_iter()
            .flat_map(|module| {
                Action::ALL.into_iter().map(move |action| Permission { module, action })
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// "Who can X" equals, for every module and action, a scan of every user's roles and
        /// the permissions each role grants.
        #[test]
        fn who_can_equals_a_brute_force_scan(
            custom in prop::collection::vec(prop::collection::btree_set(0usize..44, 0..12), 0..4),
            users in prop::collection::vec(prop::collection::btree_set(0usize..9, 1..3), 0..8),
        ) {
            let org = Org::new().with_owner();
            let all = every_permission();
            // Nobody grants what they do not hold, the Owner included.
            let held = org.dir.current_session(org.owner()).unwrap().permissions;
            for (n, picks) in custom.iter().enumerate() {
                org.dir.create_role(org.owner(), RoleInput {
                    key: Some(format!("custom_{n}")),
                    name: format!("Custom {n}"),
                    description: String::new(),
                    permissions: picks.iter().map(|&i| held[i % held.len()]).collect(),
                }).unwrap();
            }
            let roles = org.dir.list_roles(org.owner()).unwrap();
            let grants: BTreeMap<String, BTreeSet<Permission>> = roles
                .iter()
                .map(|r| (r.role.key.clone(), r.role.permissions.clone()))
                .collect();
            let keys: Vec<&String> = grants.keys().collect();
            for (n, picks) in users.iter().enumerate() {
                let held: Vec<&str> = picks.iter().map(|&i| keys[i % keys.len()].as_str()).collect();
                org.invite(&format!("user{n}@example.com"), &held);
            }
            let everyone = org.dir.list_users(org.owner()).unwrap();
            for permission in &all {
                let answer = org.dir.who_can(org.owner(), permission.module, permission.action).unwrap();
                let found: Vec<(String, Vec<String>)> =
                    answer.users.iter().map(|u| (u.email.clone(), u.roles_granting.clone())).collect();
                let expected: Vec<(String, Vec<String>)> = everyone
                    .iter()
                    .map(|u| {
                        let granting = u.roles.iter().filter(|r| grants[*r].contains(permission)).cloned().collect();
                        (u.email.clone(), granting)
                    })
                    .filter(|(_, granting): &(String, Vec<String>)| !granting.is_empty())
                    .collect();
                prop_assert_eq!(found, expected, "{:?}", permission);
            }
        }
    }
}

#[test]
fn a_reactivated_dormant_user_gets_the_full_period_again() {
    let org = Org::new().with_owner();
    let member = org.member("back@example.com", &["reporting"]);
    org.clock.advance(Duration::days(91));
    assert_eq!(org.dir.enforce_access().unwrap(), vec![member.id]);
    let owner = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    org.dir.reactivate_user(owner, member.id).unwrap();
    assert!(org.dir.enforce_access().unwrap().is_empty(), "counted from the reactivation");
    let back = org.dir.sign_in("back@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(back.info.user.status, UserStatus::Active);
}

#[test]
fn an_invitation_whose_end_date_came_cannot_be_accepted_even_before_the_hourly_check() {
    let org = Org::new().with_owner();
    let until = today(&org) + Duration::days(2);
    let request = InviteRequest {
        invitees: vec![Invitee { email: "late@example.com".into(), name: None }],
        roles: vec!["reporting".into()],
        access_until: Some(until),
        ..Default::default()
    };
    let InviteOutcome::Invited { issued, .. } =
        org.dir.invite_users(org.owner(), request).unwrap().remove(0)
    else {
        panic!("invited")
    };
    org.clock.advance(access_ends_at(until) - org.clock_now() + Duration::minutes(5));
    let err = org
        .dir
        .accept_invitation(crate::support::accept_input("late@example.com", &issued.code))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvitationCancelled);
}

#[test]
fn the_last_owner_past_an_end_date_is_kept_but_not_called_dormant() {
    let mut org = Org::new().with_owner();
    let second = org.member("second@example.com", &["owner"]);
    let owner_id = org.owner_id();
    let until = today(&org) + Duration::days(5);
    org.dir.set_access_until(second.session, owner_id, Some(until)).unwrap();
    org.dir.deactivate_user(org.owner(), second.id, None).unwrap();
    org.later(Duration::days(6));
    assert!(org.dir.enforce_access().unwrap().is_empty(), "the last Active Owner stays");
    let signed_in = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    assert_eq!(signed_in.info.kept_though_dormant, None, "signed in six days ago");
}
