//! Access reviews (domain.md, "Access governance"; PCI DSS v4 7.2.4): a snapshot, a decision
//! per user judged by the ordinary rules, applied through the ordinary operations, signed off
//! with the audit chain's head.

use crate::support::*;
use chrono::Duration;
use gatehouse_core::model::{
    Action, AuditAction, Decision, DecisionInput, EntryOutcome, Module, Outcome, Permission,
    Review, ReviewEntry, UserId, UserStatus,
};
use gatehouse_core::policy::Act;
use gatehouse_core::{AuditQuery, ErrorCode, RoleInput, SessionId, SettingsInput};

fn decide(org: &Org, review: &Review, user: UserId, decision: Decision) -> ReviewEntry {
    decide_as(org, org.owner(), review, user, decision).unwrap()
}

fn decide_as(
    org: &Org,
    session: SessionId,
    review: &Review,
    user: UserId,
    decision: Decision,
) -> Result<ReviewEntry, ErrorCode> {
    let input = DecisionInput { user, decision, note: None };
    org.dir.decide_review(session, review.header.id, input).map_err(|e| e.code())
}

fn entry(review: &Review, user: UserId) -> &ReviewEntry {
    review.entries.iter().find(|e| e.user.id == user).expect("user in review")
}

/// Events of `action`, newest first: (outcome, code, target, summary).
fn events(org: &Org, action: AuditAction) -> Vec<(Outcome, Option<ErrorCode>, String, String)> {
    let query = AuditQuery { action: Some(action), limit: Some(500), ..Default::default() };
    let page = org.dir.audit_log(org.owner(), query).unwrap();
    page.events
        .into_iter()
        .map(|e| (e.outcome, e.code, e.target.unwrap_or_default(), e.summary))
        .collect()
}

/// A custom role with `permissions` on the users and audit modules; returns a signed-in holder.
fn custom_member(org: &Org, key: &str, email: &str, permissions: &[(Module, Action)]) -> Member {
    let input = RoleInput {
        key: Some(key.into()),
        name: key.into(),
        description: String::new(),
        permissions: permissions
            .iter()
            .map(|&(module, action)| Permission { module, action })
            .collect(),
    };
    org.dir.create_role(org.owner(), input).unwrap();
    org.member(email, &[key])
}

/// Everyone decided Keep, applied: ready to sign off.
fn keep_all_and_apply(org: &Org, review: &Review) {
    for e in &review.entries {
        decide(org, review, e.user.id, Decision::Keep);
    }
    org.dir.apply_review(org.owner(), review.header.id).unwrap();
}

#[test]
fn a_review_is_started_decided_applied_and_signed_off_through_the_ordinary_operations() {
    let org = Org::new().with_owner();
    let ann = org.member("ann@example.com", &["admin"]);
    let rex = org.member("rex@example.com", &["reporting"]);
    let ivy = org.invite("ivy@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    assert_eq!(review.entries.len(), 4, "the owner, two Active users and one Invited");
    assert!(entry(&review, ann.id).user.permissions.len() > 5);
    assert!(entry(&review, org.owner_id()).user.holds_delete);
    assert!(!entry(&review, rex.id).user.holds_delete);
    assert_eq!(entry(&review, ivy.user_id).user.status, UserStatus::Invited);

    decide(&org, &review, org.owner_id(), Decision::Keep);
    let roles = vec!["reporting".to_string()];
    decide(&org, &review, ann.id, Decision::ChangeRoles { roles: roles.clone() });
    let note = DecisionInput {
        user: rex.id,
        decision: Decision::Deactivate,
        note: Some("  left the company\nin May  ".into()),
    };
    let decided = org.dir.decide_review(org.owner(), review.header.id, note).unwrap();
    assert_eq!(decided.note.as_deref(), Some("left the company in May"));
    decide(&org, &review, ivy.user_id, Decision::Deactivate);

    let applied = org.dir.apply_review(org.owner(), review.header.id).unwrap();
    assert_eq!(entry(&applied, ann.id).outcome, Some(EntryOutcome::Applied));
    assert_eq!(entry(&applied, rex.id).outcome, Some(EntryOutcome::Applied));
    assert_eq!(entry(&applied, ivy.user_id).outcome, Some(EntryOutcome::Applied));
    assert_eq!(entry(&applied, org.owner_id()).outcome, Some(EntryOutcome::Unchanged));
    assert_eq!(org.user(ann.id).roles, roles);
    assert_eq!(org.user(rex.id).status, UserStatus::Inactive);
    assert_eq!(
        org.dir.get_user(org.owner(), ivy.user_id).unwrap_err().code(),
        ErrorCode::UserNotFound
    );

    let signed = org.dir.sign_off_review(org.owner(), review.header.id).unwrap();
    let sign_off = signed.header.signed_off.clone().unwrap();
    assert_eq!(sign_off.by.id, org.owner_id());
    assert!(signed.entries.iter().all(|e| e.options.is_empty()), "read-only: nothing to offer");

    // Each change has the ordinary operation's own event, and the review its own.
    let title = "access review #1";
    let changed = events(&org, AuditAction::ChangeRoles);
    assert!(changed.iter().any(|(o, _, t, s)| *o == Outcome::Success
        && t == "ann@example.com"
        && s == "roles admin → reporting; approved: access review #1"));
    let deactivated = events(&org, AuditAction::Deactivate);
    assert!(deactivated.iter().any(|(_, _, t, s)| t == "rex@example.com" && s.contains(title)));
    assert_eq!(events(&org, AuditAction::CancelInvitation).len(), 1);
    assert_eq!(events(&org, AuditAction::StartReview).len(), 1);
    assert_eq!(events(&org, AuditAction::DecideReview).len(), 4);
    let apply = events(&org, AuditAction::ApplyReview);
    assert_eq!(
        apply[0].3,
        format!("{title}: 3 applied, 1 unchanged, 0 refused, 0 no longer eligible")
    );
    let signed_event = events(&org, AuditAction::SignOffReview);
    assert!(signed_event[0].3.starts_with(&format!("{title} signed off: 4 users")));
    let list = org.dir.reviews(org.owner()).unwrap();
    assert_eq!(list.reviews.len(), 1);
    assert_eq!(list.reviews[0].done, 4);
}

#[test]
fn a_signed_review_refuses_every_change_and_the_refusals_are_audited() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    keep_all_and_apply(&org, &review);
    org.dir.sign_off_review(org.owner(), review.header.id).unwrap();

    let err = decide_as(&org, org.owner(), &review, rex.id, Decision::Deactivate).unwrap_err();
    assert_eq!(err, ErrorCode::ReviewSignedOff);
    let err = org.dir.apply_review(org.owner(), review.header.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReviewSignedOff);
    let err = org.dir.sign_off_review(org.owner(), review.header.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReviewSignedOff);
    for action in [AuditAction::DecideReview, AuditAction::ApplyReview, AuditAction::SignOffReview]
    {
        let refused = events(&org, action);
        assert_eq!(refused[0].0, Outcome::Denied, "{action:?}");
        assert_eq!(refused[0].1, Some(ErrorCode::ReviewSignedOff), "{action:?}");
        assert_eq!(refused[0].2, "access review #1", "{action:?}");
    }
    assert_eq!(org.user(rex.id).status, UserStatus::Active, "nothing changed");
}

#[test]
fn only_one_review_may_be_open_at_a_time() {
    let org = Org::new().with_owner();
    let first = org.dir.start_review(org.owner()).unwrap();
    let err = org.dir.start_review(org.owner()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReviewInProgress);
    keep_all_and_apply(&org, &first);
    org.dir.sign_off_review(org.owner(), first.header.id).unwrap();
    let second = org.dir.start_review(org.owner()).unwrap();
    assert_eq!(second.header.number, 2, "once signed, the next one may start");
}

#[test]
fn starting_needs_users_update_and_audit_read() {
    let org = Org::new().with_owner();
    let helpdesk = custom_member(
        &org,
        "helpdesk",
        "hal@example.com",
        &[(Module::Users, Action::Read), (Module::Users, Action::Update)],
    );
    let err = org.dir.start_review(helpdesk.session).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    let refused = events(&org, AuditAction::StartReview);
    assert_eq!(refused[0].1, Some(ErrorCode::PermissionDenied), "the refusal is audited");
    let auditor =
        custom_member(&org, "auditor", "aud@example.com", &[(Module::Audit, Action::Read)]);
    let err = org.dir.start_review(auditor.session).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert!(org.dir.reviews(org.owner()).unwrap().reviews.is_empty());
}

#[test]
fn a_decision_the_reviewer_may_not_carry_out_is_shown_and_refused_by_the_ordinary_rules() {
    let org = Org::new().with_owner();
    let reviewer = custom_member(
        &org,
        "access_reviewer",
        "rev@example.com",
        &[
            (Module::Users, Action::Read),
            (Module::Users, Action::Update),
            (Module::Audit, Action::Read),
        ],
    );
    let ann = org.member("ann@example.com", &["admin"]);
    let review = org.dir.start_review(reviewer.session).unwrap();
    let refused = |user: UserId, act: Act| {
        let e = entry(&review, user);
        let option = e.options.iter().find(|o| o.act == act).unwrap();
        option.refused.as_ref().map(|r| r.code)
    };
    assert_eq!(refused(org.owner_id(), Act::Deactivate), Some(ErrorCode::OwnerOnly));
    assert_eq!(refused(ann.id, Act::Deactivate), Some(ErrorCode::NotDominant));
    assert_eq!(refused(ann.id, Act::ChangeRoles), Some(ErrorCode::NotDominant));
    assert_eq!(refused(reviewer.id, Act::Deactivate), Some(ErrorCode::OwnStatus));

    let owner = org.owner_id();
    let err = decide_as(&org, reviewer.session, &review, owner, Decision::Deactivate).unwrap_err();
    assert_eq!(err, ErrorCode::OwnerOnly);
    let err = decide_as(&org, reviewer.session, &review, ann.id, Decision::Deactivate).unwrap_err();
    assert_eq!(err, ErrorCode::NotDominant);
    let roles = Decision::ChangeRoles { roles: vec!["admin".into()] };
    let err = decide_as(&org, reviewer.session, &review, reviewer.id, roles).unwrap_err();
    assert_eq!(err, ErrorCode::OwnRoles);
    // Keep is always allowed.
    decide_as(&org, reviewer.session, &review, ann.id, Decision::Keep).unwrap();
    let decided = events(&org, AuditAction::DecideReview);
    assert!(decided.iter().any(|(o, c, t, _)| *o == Outcome::Denied
        && *c == Some(ErrorCode::NotDominant)
        && t == "ann@example.com"));
    assert!(decided.iter().any(|(_, c, _, _)| *c == Some(ErrorCode::OwnerOnly)));
    // The owner, reading the same review, may do both.
    let as_owner = org.dir.review(org.owner(), review.header.id).unwrap();
    assert!(entry(&as_owner, ann.id).options.iter().all(|o| o.refused.is_none()));
}

#[test]
fn sign_off_needs_every_user_decided_and_applied() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    decide(&org, &review, rex.id, Decision::Deactivate);
    let err = org.dir.sign_off_review(org.owner(), review.header.id).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReviewIncomplete);
    assert!(err.to_string().contains("1 user still to be decided"), "{err}");
    assert!(err.to_string().contains("1 user whose decision is not applied"), "{err}");
    decide(&org, &review, org.owner_id(), Decision::Keep);
    let err = org.dir.sign_off_review(org.owner(), review.header.id).unwrap_err();
    assert!(err.to_string().contains("2 users whose decision is not applied"), "{err}");
    org.dir.apply_review(org.owner(), review.header.id).unwrap();
    org.dir.sign_off_review(org.owner(), review.header.id).unwrap();
}

#[test]
fn the_sign_off_records_the_audit_event_just_before_its_own() {
    let org = Org::new().with_owner();
    org.member("rex@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    keep_all_and_apply(&org, &review);
    let signed = org.dir.sign_off_review(org.owner(), review.header.id).unwrap();
    let head = signed.header.signed_off.unwrap().chain_head;
    let query = AuditQuery { limit: Some(10), ..Default::default() };
    let log = org.dir.audit_log(org.owner(), query).unwrap().events;
    let at = log.iter().position(|e| e.action == AuditAction::SignOffReview).unwrap();
    let (sign_off, before) = (&log[at], &log[at + 1]);
    assert_eq!(sign_off.action, AuditAction::SignOffReview);
    assert_eq!((head.seq, head.hash.clone()), (before.seq, before.hash()));
    assert_eq!(sign_off.prev_hash, head.hash, "the chain runs through it");
    assert!(sign_off.summary.contains(&format!("audit chain head #{} {}", head.seq, head.hash)));
    let csv = org.dir.review_report_csv(org.owner(), review.header.id).unwrap();
    assert!(csv.contains(&format!("#{} {}", head.seq, head.hash)));
}

#[test]
fn the_csv_report_lists_every_user_and_decision_and_neutralises_formulas() {
    let org = Org::new().with_owner();
    let issued = org.invite("eve@example.com", &["reporting"]);
    let eve = org.accept(&issued, "=HYPERLINK(\"http://x\",\"y\")");
    let rex = org.member("rex@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    decide(&org, &review, org.owner_id(), Decision::Keep);
    decide(&org, &review, eve.id, Decision::Deactivate);
    let draft = org.dir.review_report_csv(org.owner(), review.header.id).unwrap();
    assert!(draft.contains("DRAFT — not signed off"));
    assert!(draft.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""), "{draft}");
    assert!(!draft.contains(",=HYPERLINK"));
    assert!(draft.contains("rex@example.com,Active,Reporting,,"), "{draft}");
    assert!(draft.contains("not decided"));
    decide(
        &org,
        &review,
        rex.id,
        Decision::ChangeRoles { roles: vec!["payment_management".into()] },
    );
    org.dir.apply_review(org.owner(), review.header.id).unwrap();
    org.dir.sign_off_review(org.owner(), review.header.id).unwrap();
    let csv = org.dir.review_report_csv(org.owner(), review.header.id).unwrap();
    assert!(csv.starts_with("\u{feff}Report,Access review #1"));
    assert!(csv.contains("Organization,Acme Payments\r\n"));
    assert!(csv.contains("Signed off by Olivia Owner <Olivia.Owner@Example.com> at"));
    assert!(!csv.contains("DRAFT"));
    assert!(csv.contains(
        "Name,Email,Status,Roles,Approved by,Last sign-in,Access until,Decision,Note,Decided by,\
         Outcome\r\n"
    ));
    assert!(csv.contains("change roles → Payment Management"));
    assert!(csv.contains("Olivia.Owner@Example.com,Active,Owner,"));
    assert_eq!(csv.matches(",applied\r\n").count(), 2, "{csv}");
    let html = org.dir.review_report_html(org.owner(), review.header.id).unwrap();
    assert!(html.contains("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"));
    assert!(html.contains("@media print") && html.contains("table-header-group"));
    assert!(!html.contains("<script"));
}

#[test]
fn the_next_review_is_due_review_months_after_the_last_sign_off_and_warned_14_days_before() {
    let mut org = Org::new().with_owner();
    let created = org.clock_now();
    let list = org.dir.reviews(org.owner()).unwrap();
    assert_eq!(list.next_due_at, created.checked_add_months(chrono::Months::new(6)).unwrap());
    assert!(!list.due_soon && !list.overdue);
    let org_now = org.dir.organization(org.owner()).unwrap();
    let mut settings = org_now.settings;
    settings.review_months = 3;
    let input = SettingsInput { name: org_now.name, settings };
    org.dir.update_organization(org.owner(), input).unwrap();
    let due = org.dir.reviews(org.owner()).unwrap().next_due_at;
    assert_eq!(due, created.checked_add_months(chrono::Months::new(3)).unwrap());

    org.later(due - org.clock_now() - Duration::days(14) - Duration::seconds(1));
    assert!(!org.dir.reviews(org.owner()).unwrap().due_soon, "a second before the warning");
    org.later(Duration::seconds(1));
    assert!(org.dir.reviews(org.owner()).unwrap().due_soon, "14 days before");
    org.later(Duration::days(14));
    let list = org.dir.reviews(org.owner()).unwrap();
    assert!(list.overdue && !list.due_soon);

    let review = org.dir.start_review(org.owner()).unwrap();
    keep_all_and_apply(&org, &review);
    let signed = org.dir.sign_off_review(org.owner(), review.header.id).unwrap();
    let at = signed.header.signed_off.unwrap().at;
    let list = org.dir.reviews(org.owner()).unwrap();
    assert_eq!(list.next_due_at, at.checked_add_months(chrono::Months::new(3)).unwrap());
    assert!(!list.overdue && !list.due_soon);
}

#[test]
fn the_snapshot_does_not_change_when_users_change_later() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let review = org.dir.start_review(org.owner()).unwrap();
    org.dir.change_roles(org.owner(), rex.id, vec!["admin".into()]).unwrap();
    org.dir.deactivate_user(org.owner(), rex.id, None).unwrap();
    org.member("new@example.com", &["reporting"]);
    let later = org.dir.review(org.owner(), review.header.id).unwrap();
    let snap = &entry(&later, rex.id).user;
    assert_eq!(snap.roles, vec!["reporting".to_string()]);
    assert_eq!(snap.status, UserStatus::Active);
    assert_eq!(later.entries.len(), 2, "a user invited later is not in it");
    // Deactivating someone already Inactive changes nothing.
    decide(&org, &later, rex.id, Decision::Deactivate);
    let applied = org.dir.apply_review(org.owner(), review.header.id).unwrap();
    assert_eq!(entry(&applied, rex.id).outcome, Some(EntryOutcome::Unchanged));
}

#[test]
fn the_review_shows_the_approval_of_each_users_latest_grant() {
    let org = Org::new().with_owner();
    let request = gatehouse_core::InviteRequest {
        invitees: vec![gatehouse_core::Invitee { email: "ada@example.com".into(), name: None }],
        roles: vec!["admin".into()],
        approval: Some("CHG-7, approved by the CFO".into()),
        ..Default::default()
    };
    org.dir.invite_users(org.owner(), request).unwrap();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir
        .change_roles_approved(org.owner(), rex.id, vec!["admin".into()], Some("CHG-8".into()))
        .unwrap();
    let review = org.dir.start_review(org.owner()).unwrap();
    let approval = |email: &str| {
        review.entries.iter().find(|e| e.user.email == email).unwrap().user.approval.clone()
    };
    assert_eq!(approval("ada@example.com").as_deref(), Some("CHG-7, approved by the CFO"));
    assert_eq!(approval("rex@example.com").as_deref(), Some("CHG-8"), "the latest grant's");
    assert_eq!(approval("Olivia.Owner@Example.com"), None);
    let csv = org.dir.review_report_csv(org.owner(), review.header.id).unwrap();
    assert!(csv.contains("Approved by"), "{csv}");
    assert!(csv.contains("\"CHG-7, approved by the CFO\""), "{csv}");
}

#[test]
fn a_later_grant_without_a_reference_shows_none_rather_than_an_older_one() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir
        .change_roles_approved(org.owner(), rex.id, vec!["admin".into()], Some("CHG-9".into()))
        .unwrap();
    org.dir.change_roles(org.owner(), rex.id, vec!["reporting".into()]).unwrap();
    let review = org.dir.start_review(org.owner()).unwrap();
    let rex_entry = review.entries.iter().find(|e| e.user.id == rex.id).unwrap();
    assert_eq!(rex_entry.user.approval, None);
}
