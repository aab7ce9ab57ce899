//! The second factor, recovery codes, the Owner's recovery kit and password age (domain.md,
//! "Second factor and recovery"), through the real store and the real credential store.

use crate::support::*;
use chrono::Duration;
use gatehouse_core::auth::totp::{self, Secret};
use gatehouse_core::model::{AuditAction, Outcome, Settings};
use gatehouse_core::{
    AuditQuery, Directory, ErrorCode, Gate, RecoverInput, SessionId, SettingsInput, UserQuery,
};

/// The secret an enrolment showed, to compute codes as an authenticator app does.
fn secret_of(base32: &str) -> Secret {
    Secret::from_bytes(data_encoding::BASE32_NOPAD.decode(base32.as_bytes()).unwrap())
}

/// Enrols the session's user; returns their secret and recovery codes.
fn enrol(org: &Org, session: SessionId) -> (Secret, Vec<String>) {
    let shown = org.dir.start_enrolment(session).unwrap();
    assert!(shown.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(shown.qr_svg.contains("<svg"));
    let secret = secret_of(&shown.secret);
    let enrolled = org.dir.confirm_enrolment(session, &secret.code_at(org.clock_now())).unwrap();
    assert!(enrolled.session.second_factor);
    assert_eq!(enrolled.recovery_codes.len(), 10);
    (secret, enrolled.recovery_codes)
}

/// Moves the clock to the next TOTP step, so that a new code is due.
fn next_step(org: &Org) {
    org.clock.advance(Duration::seconds(totp::STEP as i64));
}

fn settings_with(org: &Org, f: impl FnOnce(&mut Settings)) -> SettingsInput {
    let current = org.dir.organization(org.owner()).unwrap();
    let mut settings = current.settings;
    f(&mut settings);
    SettingsInput { name: current.name, settings }
}

fn events(dir: &Directory, session: SessionId, action: AuditAction) -> Vec<(Outcome, String)> {
    let query = AuditQuery { action: Some(action), limit: Some(100), ..Default::default() };
    let page = dir.audit_log(session, query).unwrap();
    page.events.into_iter().map(|e| (e.outcome, e.summary)).collect()
}

#[test]
fn enrolment_needs_a_valid_code_and_then_sign_in_asks_for_one_each_accepted_once() {
    let org = Org::new().with_owner();
    let owner = org.owner();
    let shown = org.dir.start_enrolment(owner).unwrap();
    let secret = secret_of(&shown.secret);
    let wrong =
        format!("{:06}", (secret.code_at(org.clock_now()).parse::<u32>().unwrap() + 1) % 1_000_000);
    let err = org.dir.confirm_enrolment(owner, &wrong).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SecondFactorInvalid);
    assert!(!org.dir.current_session(owner).unwrap().second_factor, "nothing enrolled yet");
    let code = secret.code_at(org.clock_now());
    let enrolled = org.dir.confirm_enrolment(owner, &code).unwrap();
    assert!(enrolled.session.second_factor);
    assert_eq!(enrolled.session.recovery_codes_left, Some(10));
    let err = org.dir.confirm_enrolment(owner, &code).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotEnrolling, "an enrolment is confirmed once");
    // The code used to confirm cannot sign in: each step's code is accepted once.
    org.dir.sign_out(owner).unwrap();
    let pending = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    assert_eq!(pending.info.gate, Some(Gate::SecondFactor));
    let s = pending.session;
    // Deny by default: nothing but the code is accepted until it is given.
    let err = org.dir.query_users(s, UserQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SecondFactorRequired);
    assert_eq!(org.dir.new_recovery_codes(s).unwrap_err().code(), ErrorCode::SecondFactorRequired);
    let replayed = org.dir.verify_second_factor(s, &code).unwrap_err();
    assert_eq!(replayed.code(), ErrorCode::SecondFactorInvalid, "a replayed code");
    next_step(&org);
    let info = org.dir.verify_second_factor(s, &secret.code_at(org.clock_now())).unwrap();
    assert_eq!(info.gate, None);
    assert!(org.dir.query_users(s, UserQuery::default()).is_ok());
    let signed_in = events(&org.dir, s, AuditAction::SignIn);
    assert!(signed_in.iter().any(|(o, s)| *o == Outcome::Failed && s.contains("(second factor)")));
    assert!(signed_in
        .iter()
        .any(|(o, s)| *o == Outcome::Success && s == "with an authenticator code"));
    assert!(events(&org.dir, s, AuditAction::EnrolSecondFactor)
        .iter()
        .any(|(_, s)| s.starts_with("authenticator app added")));
}

#[test]
fn wrong_codes_count_towards_the_lockout_and_end_the_half_signed_in_session() {
    let org = Org::new().with_owner();
    let (secret, _) = enrol(&org, org.owner());
    next_step(&org);
    let s = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let right = secret.code_at(org.clock_now());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(
            org.dir.verify_second_factor(s, wrong).unwrap_err().code(),
            ErrorCode::SecondFactorInvalid
        );
    }
    assert_eq!(org.dir.verify_second_factor(s, wrong).unwrap_err().code(), ErrorCode::LockedOut);
    assert_eq!(org.dir.verify_second_factor(s, &right).unwrap_err().code(), ErrorCode::NotSignedIn);
    // A right password does not reset the count while the code is still owed.
    assert_eq!(
        org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap_err().code(),
        ErrorCode::LockedOut
    );
}

#[test]
fn a_recovery_code_signs_in_once_and_every_owner_is_told() {
    let mut org = Org::new().with_owner();
    let other = org.member("otto@example.com", &["owner"]);
    let admin = org.member("adam@example.com", &["admin"]);
    let (_, codes) = enrol(&org, admin.session);
    org.dir.sign_out(admin.session).unwrap();
    let s = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap().session;
    let info = org.dir.verify_second_factor(s, &codes[0].to_lowercase()).unwrap();
    assert_eq!((info.gate, info.recovery_codes_left), (None, Some(9)));
    org.dir.sign_out(s).unwrap();
    let s = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap().session;
    let again = org.dir.verify_second_factor(s, &codes[0]).unwrap_err();
    assert_eq!(again.code(), ErrorCode::SecondFactorInvalid, "a used recovery code");
    // Both Owners see it once, at their next sign-in.
    org.dir.sign_out(other.session).unwrap();
    for (email, password) in [("otto@example.com", MEMBER_PASSWORD), (OWNER_EMAIL, OWNER_PASSWORD)]
    {
        let first = org.dir.sign_in(email, password).unwrap();
        assert_eq!(first.info.recovery_notices.len(), 1, "{email}");
        assert!(first.info.recovery_notices[0].who.contains("adam@example.com"));
        assert_eq!(first.info.recovery_notices[0].what, "signed in with a recovery code");
        let second = org.dir.sign_in(email, password).unwrap();
        assert!(second.info.recovery_notices.is_empty(), "shown once");
    }
    org.later(Duration::minutes(1));
    let summaries = events(&org.dir, org.owner(), AuditAction::SignIn);
    assert!(summaries.iter().any(|(_, s)| s == "with a recovery code (9 left)"));
}

#[test]
fn a_required_role_enrols_before_anything_else() {
    let org = Org::new().with_owner();
    let admin = org.member("adam@example.com", &["admin"]);
    let require =
        settings_with(&org, |s| s.mfa_required_roles = vec!["admin".into(), "owner".into()]);
    // Only an Owner changes the sign-in rules; the refusal is audited.
    let err = org.dir.update_organization(admin.session, require.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OwnerRequired);
    org.dir.update_organization(org.owner(), require).unwrap();
    let affected = org
        .dir
        .query_users(org.owner(), UserQuery { no_second_factor: Some(true), ..Default::default() })
        .unwrap();
    assert_eq!(affected.total, 2, "the Owner and the Admin have none yet");
    let s = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(s.info.gate, Some(Gate::Enrol));
    assert!(s.info.second_factor_required);
    let err = org.dir.query_users(s.session, UserQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::EnrolmentRequired);
    let (secret, _) = enrol(&org, s.session);
    assert_eq!(org.dir.current_session(s.session).unwrap().gate, None);
    assert!(org.dir.query_users(s.session, UserQuery::default()).is_ok());
    let affected = org
        .dir
        .query_users(org.owner(), UserQuery { no_second_factor: Some(true), ..Default::default() })
        .unwrap();
    assert_eq!(affected.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), [OWNER_EMAIL]);
    let listed = org.dir.get_user(org.owner(), s.info.user.id).unwrap();
    assert!(listed.second_factor);
    drop(secret);
    let refused = events(&org.dir, org.owner(), AuditAction::UpdateSettings);
    assert!(refused.iter().any(|(o, _)| *o == Outcome::Denied));
    assert!(refused
        .iter()
        .any(|(_, s)| s.contains("second factor required for nobody → admin, owner")));
}

#[test]
fn a_requirement_reaches_each_active_holder_without_a_second_factor_once() {
    let org = Org::new().with_owner();
    let adam = org.member("adam@example.com", &["admin"]);
    org.member("bea@example.com", &["admin", "reporting"]);
    org.invite("ian@example.com", &["admin"]); // Invited: enrols once they join
    let gone = org.member("gus@example.com", &["admin"]);
    org.dir.deactivate_user(org.owner(), gone.id, None).unwrap();
    let roles = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let counts = |reach: gatehouse_core::SecondFactorReach| {
        (reach.users, reach.by_role.into_iter().map(|r| (r.role, r.users)).collect::<Vec<_>>())
    };

    let reach = org.dir.second_factor_reach(org.owner(), &roles(&["owner", "admin"])).unwrap();
    assert_eq!(counts(reach), (3, vec![("owner".into(), 1), ("admin".into(), 2)]));
    // Bea holds both roles asked about and counts once in all.
    let reach = org.dir.second_factor_reach(org.owner(), &roles(&["admin", "reporting"])).unwrap();
    assert_eq!(counts(reach), (2, vec![("admin".into(), 2), ("reporting".into(), 1)]));
    enrol(&org, adam.session);
    let reach = org.dir.second_factor_reach(org.owner(), &roles(&["admin", "nobody"])).unwrap();
    assert_eq!(counts(reach), (1, vec![("admin".into(), 1), ("nobody".into(), 0)]));
    // It reads the list of users: a holder of users:read asks.
    let plain = org.member("rita@example.com", &["reporting"]);
    let err = org.dir.second_factor_reach(plain.session, &roles(&["admin"])).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
}

#[test]
fn the_session_says_whether_its_person_may_change_the_sign_in_rules() {
    let org = Org::new().with_owner();
    let admin = org.member("adam@example.com", &["admin"]);
    assert!(org.dir.current_session(org.owner()).unwrap().may_change_sign_in_rules);
    assert!(!org.dir.current_session(admin.session).unwrap().may_change_sign_in_rules);
}

#[test]
fn a_person_who_dominates_removes_a_second_factor_and_others_are_refused() {
    let org = Org::new().with_owner();
    org.dir
        .update_organization(
            org.owner(),
            settings_with(&org, |s| s.mfa_required_roles = vec!["admin".into()]),
        )
        .unwrap();
    let admin = org.member("adam@example.com", &["admin"]);
    enrol(&org, admin.session);
    let integrator = org.member("ivan@example.com", &["system_integrator"]);
    let (_, _) = enrol(&org, integrator.session);
    // An Admin does not dominate a System Integrator (rule 6).
    let err = org.dir.remove_second_factor(admin.session, integrator.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotDominant);
    let err = org.dir.remove_second_factor(integrator.session, admin.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    let err = org.dir.remove_second_factor(admin.session, org.owner_id()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OwnerOnly);
    let denied = events(&org.dir, org.owner(), AuditAction::RemoveSecondFactor);
    assert_eq!(denied.iter().filter(|(o, _)| *o == Outcome::Denied).count(), 3);
    // The Owner dominates everyone: the Admin's sessions end, and they enrol again.
    let view = org.dir.remove_second_factor(org.owner(), admin.id).unwrap();
    assert!(!view.second_factor);
    assert_eq!(org.dir.current_session(admin.session).unwrap_err().code(), ErrorCode::NotSignedIn);
    let again = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(again.info.gate, Some(Gate::Enrol));
    let err = org.dir.remove_second_factor(org.owner(), admin.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSecondFactor);
}

fn recover(
    org: &Org,
    code: &str,
    second: Option<&str>,
    password: &str,
) -> Result<SessionId, ErrorCode> {
    org.dir
        .recover_account(RecoverInput {
            email: OWNER_EMAIL.into(),
            code: code.into(),
            second_code: second.map(Into::into),
            password: password.into(),
        })
        .map(|s| s.session)
        .map_err(|e| e.code())
}

const NEW_PASSWORD: &str = "a brand new harbour melody 42";

#[test]
fn the_only_owner_locked_out_with_a_forgotten_password_gets_back_in_with_the_kit() {
    let org = Org::new().with_owner();
    let info = org.dir.current_session(org.owner()).unwrap();
    assert!(info.recovery_kit_due, "setup shows the first Owner's kit");
    let kit = org.dir.new_recovery_codes(org.owner()).unwrap();
    assert!(!org.dir.current_session(org.owner()).unwrap().recovery_kit_due);
    org.dir.sign_out(org.owner()).unwrap();
    for _ in 0..5 {
        let _ = org.dir.sign_in(OWNER_EMAIL, "I forgot it 1234 again");
    }
    assert_eq!(
        org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap_err().code(),
        ErrorCode::LockedOut
    );
    // A code that is not in the kit, and the rules of a new password.
    assert_eq!(
        recover(&org, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", None, NEW_PASSWORD),
        Err(ErrorCode::RecoveryCodeInvalid)
    );
    assert_eq!(recover(&org, &kit[0], None, "short 1"), Err(ErrorCode::PasswordTooShort));
    let s = recover(&org, &kit[0], None, NEW_PASSWORD).unwrap();
    assert!(org.dir.query_users(s, UserQuery::default()).is_ok(), "signed in");
    assert_eq!(org.dir.current_session(s).unwrap().recovery_codes_left, Some(9));
    assert_eq!(
        recover(&org, &kit[0], None, "another new harbour tune 77"),
        Err(ErrorCode::RecoveryCodeInvalid)
    );
    // The lockout lifted, and the new password signs in.
    org.dir.sign_in(OWNER_EMAIL, NEW_PASSWORD).unwrap();
    let summaries = events(&org.dir, s, AuditAction::RecoverAccount);
    assert!(summaries.iter().any(
        |(o, s)| *o == Outcome::Success && s.contains("lockout lifted; 9 recovery codes left")
    ));
    assert!(summaries.iter().any(|(o, _)| *o == Outcome::Failed));
}

#[test]
fn recovery_attempts_throttle_and_only_an_owner_recovers() {
    let org = Org::new().with_owner();
    let kit = org.dir.new_recovery_codes(org.owner()).unwrap();
    let member = org.member("adam@example.com", &["admin"]);
    let (_, admin_codes) = enrol(&org, member.session);
    let as_admin = RecoverInput {
        email: "adam@example.com".into(),
        code: admin_codes[0].clone(),
        second_code: Some(admin_codes[1].clone()),
        password: NEW_PASSWORD.into(),
    };
    assert_eq!(
        org.dir.recover_account(as_admin).unwrap_err().code(),
        ErrorCode::RecoveryCodeInvalid
    );
    for _ in 0..4 {
        assert_eq!(
            recover(&org, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", None, NEW_PASSWORD),
            Err(ErrorCode::RecoveryCodeInvalid)
        );
    }
    assert_eq!(
        recover(&org, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", None, NEW_PASSWORD),
        Err(ErrorCode::LockedOut)
    );
    assert_eq!(
        recover(&org, &kit[0], None, NEW_PASSWORD),
        Err(ErrorCode::LockedOut),
        "even the right code"
    );
    // Recovery has its own count: signing in still works.
    org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap();
    org.clock.advance(Duration::minutes(31));
    recover(&org, &kit[0], None, NEW_PASSWORD).unwrap();
}

#[test]
fn the_person_is_warned_when_three_recovery_codes_or_fewer_are_left() {
    let org = Org::new().with_owner();
    let admin = org.member("adam@example.com", &["admin"]);
    let (_, codes) = enrol(&org, admin.session);
    org.dir.sign_out(admin.session).unwrap();
    for (used, code) in codes.iter().take(7).enumerate() {
        let s = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap().session;
        let info = org.dir.verify_second_factor(s, code).unwrap();
        let left = 10 - (used as u32 + 1);
        assert_eq!(info.recovery_codes_left, Some(left));
        assert_eq!(info.recovery_codes_low, left <= 3, "{left} left");
        org.dir.sign_out(s).unwrap();
    }
}

#[test]
fn with_an_authenticator_recovery_needs_two_codes() {
    let org = Org::new().with_owner();
    let (secret, kit) = enrol(&org, org.owner());
    assert_eq!(recover(&org, &kit[0], None, NEW_PASSWORD), Err(ErrorCode::SecondFactorRequired));
    assert_eq!(
        recover(&org, &kit[0], Some(&kit[0]), NEW_PASSWORD),
        Err(ErrorCode::RecoveryCodeInvalid),
        "the same code twice"
    );
    next_step(&org);
    let s = recover(&org, &kit[0], Some(&secret.code_at(org.clock_now())), NEW_PASSWORD).unwrap();
    assert_eq!(org.dir.current_session(s).unwrap().recovery_codes_left, Some(9));
    let s = recover(&org, &kit[1], Some(&kit[2]), "yet another harbour song 55").unwrap();
    assert_eq!(org.dir.current_session(s).unwrap().recovery_codes_left, Some(7));
}

#[test]
fn an_expired_password_is_changed_before_anything_else_unless_there_is_a_second_factor() {
    let mut org = Org::new().with_owner();
    let _admin = org.member("adam@example.com", &["admin"]);
    let other = org.member("otto@example.com", &["reporting"]);
    enrol(&org, other.session);
    org.dir
        .update_organization(
            org.owner(),
            // Otto last signs in on day 0: the dormant-account rule (90 days by default) would
            // deactivate him on day 91, before his password's age is looked at. Off here:
            // this is about password age.
            settings_with(&org, |s| {
                s.password_max_age_days = Some(90);
                s.dormant_days = None;
            }),
        )
        .unwrap();
    let bad = settings_with(&org, |s| s.password_max_age_days = Some(7));
    assert_eq!(
        org.dir.update_organization(org.owner(), bad).unwrap_err().code(),
        ErrorCode::InvalidSetting
    );
    org.clock.advance(Duration::days(89));
    let fresh = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(fresh.info.gate, None);
    assert!(fresh.info.password_expires_at.is_some());
    org.clock.advance(Duration::days(2));
    let s = org.dir.sign_in("adam@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(s.info.gate, Some(Gate::NewPassword));
    let err = org.dir.query_users(s.session, UserQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PasswordExpired);
    org.dir.change_own_password(s.session, MEMBER_PASSWORD, NEW_PASSWORD).unwrap();
    assert_eq!(org.dir.current_session(s.session).unwrap().gate, None);
    assert!(org.dir.query_users(s.session, UserQuery::default()).is_ok());
    // With a second factor the password does not expire (PCI DSS v4 8.3.9).
    let with_factor = org.dir.sign_in("otto@example.com", MEMBER_PASSWORD).unwrap();
    assert_eq!(with_factor.info.gate, Some(Gate::SecondFactor));
    assert_eq!(with_factor.info.password_expires_at, None);

    org.later(Duration::minutes(1));
}

#[test]
fn secrets_and_recovery_codes_are_nowhere_on_disk() {
    let org = Org::new().with_owner();
    let shown = org.dir.start_enrolment(org.owner()).unwrap();
    let secret = secret_of(&shown.secret);
    let codes = org
        .dir
        .confirm_enrolment(org.owner(), &secret.code_at(org.clock_now()))
        .unwrap()
        .recovery_codes;
    let path = org.tmp.path().to_path_buf();
    let org = org.reopen();
    let mut needles: Vec<Vec<u8>> =
        vec![shown.secret.as_bytes().to_vec(), secret.as_bytes().to_vec()];
    for code in &codes {
        needles.push(code.as_bytes().to_vec());
        needles.push(code.replace('-', "").into_bytes());
    }
    for file in walk(&path) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds a secret",
                file.display()
            );
        }
    }
    // Reopened, the sealed secret still verifies.
    next_step(&org);
    let s = org.dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    org.dir.verify_second_factor(s, &secret.code_at(org.clock_now())).unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
