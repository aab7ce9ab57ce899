//! Rule 6 (dominance) and rule 1 on every command aimed at one person, table-driven: actors and
//! targets drawn from the built-in roles and custom roles, each act allowed exactly when the
//! rules allow it, refused with the rule's code otherwise, and every refusal audited once.
//! The expected answer comes from the permission table in shared/spec/permissions.md, read
//! here, not from core's policy.

use crate::support::{Member, Org};
use gatehouse_core::model::{
    Action, AuditEvent, IssuedCode, Module, Outcome, Permission, PermissionSet, UserId,
};
use gatehouse_core::{AuditQuery, ErrorCode, RoleInput};
use std::collections::BTreeMap;

/// The built-in roles' permissions as the spec's table gives them, by role key.
fn spec_roles() -> BTreeMap<String, PermissionSet> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/permissions.md");
    let table = std::fs::read_to_string(path).expect("shared/spec/permissions.md");
    let mut rows = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>());
    let header = rows.next().expect("header");
    let keys: Vec<String> =
        header[1..].iter().map(|name| name.to_lowercase().replace(' ', "_")).collect();
    let mut roles: BTreeMap<String, PermissionSet> =
        keys.iter().map(|k| (k.clone(), PermissionSet::new())).collect();
    for row in rows.skip(1) {
        let key = row[0].split('`').nth(1).expect("module key");
        let module = Module::from_key(key).expect("module");
        for (role, cell) in keys.iter().zip(&row[1..]) {
            for action in cell.chars().filter_map(Action::from_letter) {
                roles.get_mut(role).unwrap().insert(Permission { module, action });
            }
        }
    }
    roles
}

/// A custom role holding only `users:cru`: the "Helpdesk" of the issue.
const HELPDESK: &str = "helpdesk";

fn helpdesk_permissions() -> PermissionSet {
    [Action::Create, Action::Read, Action::Update]
        .into_iter()
        .map(|action| Permission { module: Module::Users, action })
        .collect()
}

fn org_with_helpdesk() -> Org {
    let org = Org::new().with_owner();
    let input = RoleInput {
        key: Some(HELPDESK.into()),
        name: "Helpdesk".into(),
        description: String::new(),
        permissions: helpdesk_permissions().into_iter().collect(),
    };
    org.dir.create_role(org.owner(), input).unwrap();
    org
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    ChangeRoles,
    IssueReset,
    Unlock,
    Deactivate,
    Reactivate,
    SaveMessage,
    Resend,
    Cancel,
}

impl Act {
    fn needs(self) -> Permission {
        let action = match self {
            Act::SaveMessage | Act::Resend | Act::Cancel => Action::Create,
            _ => Action::Update,
        };
        Permission { module: Module::Users, action }
    }
}

/// What domain.md rules 1, 5 and 6 (and the matrix) allow: the codes any of which is right
/// for a refusal, or none when allowed.
fn expected(
    act: Act,
    actor: &PermissionSet,
    actor_owner: bool,
    target: &PermissionSet,
    target_owner: bool,
) -> Vec<ErrorCode> {
    if !actor.contains(&act.needs()) {
        return vec![ErrorCode::PermissionDenied];
    }
    let mut codes = Vec::new();
    if target_owner && !actor_owner {
        codes.push(ErrorCode::OwnerOnly);
    }
    if !actor_owner && !target.is_subset(actor) {
        codes.push(ErrorCode::NotDominant);
    }
    codes
}

fn code<T>(r: Result<T, gatehouse_core::Error>) -> Result<(), ErrorCode> {
    r.map(|_| ()).map_err(|e| e.code())
}

fn newest_event(org: &Org) -> AuditEvent {
    let page = org.dir.audit_log(org.owner(), AuditQuery { limit: Some(1), ..Default::default() });
    page.unwrap().events.remove(0)
}

fn events(org: &Org) -> u32 {
    org.dir.verify().unwrap().audit_events
}

/// Runs one act and checks it against the rules: allowed, or refused with one of the
/// expected codes and exactly one audit event saying so.
fn check(
    org: &Org,
    what: &str,
    act: Act,
    want: &[ErrorCode],
    run: impl FnOnce() -> Result<(), ErrorCode>,
) {
    let before = events(org);
    let got = run();
    match (got, want.is_empty()) {
        (Ok(()), true) => {}
        (Err(code), false) => {
            assert!(
                want.contains(&code),
                "{what} {act:?}: refused with {code:?}, expected {want:?}"
            );
            assert_eq!(events(org), before + 1, "{what} {act:?}: one audit event for the refusal");
            let event = newest_event(org);
            assert_eq!(event.outcome, Outcome::Denied, "{what} {act:?}");
            assert_eq!(event.code, Some(code), "{what} {act:?}: the event carries the code");
        }
        (got, _) => panic!("{what} {act:?}: got {got:?}, expected {want:?}"),
    }
}

struct Targets {
    active: Member,
    inactive: UserId,
    invited: IssuedCode,
}

fn targets(org: &Org, n: usize, roles: &[&str]) -> Targets {
    let active = org.member(&format!("active{n}@example.com"), roles);
    let inactive = org.member(&format!("inactive{n}@example.com"), roles);
    org.dir.deactivate_user(org.owner(), inactive.id, None).unwrap();
    let invited = org.invite(&format!("invited{n}@example.com"), roles);
    // A lockout to lift, so that unlock has something to do.
    for _ in 0..5 {
        org.dir.sign_in(&format!("active{n}@example.com"), "not the password at all").unwrap_err();
    }
    Targets { active, inactive: inactive.id, invited }
}

#[test]
fn every_act_on_a_person_follows_rules_1_and_6_and_every_refusal_is_audited() {
    let spec = spec_roles();
    let profiles: Vec<(&str, PermissionSet)> = vec![
        ("owner", spec["owner"].clone()),
        ("admin", spec["admin"].clone()),
        ("system_integrator", spec["system_integrator"].clone()),
        ("payment_management", spec["payment_management"].clone()),
        ("reporting", spec["reporting"].clone()),
        (HELPDESK, helpdesk_permissions()),
    ];
    let actors = ["owner", "admin", HELPDESK, "reporting"];
    let mut checked = 0;
    for actor_role in actors {
        let org = org_with_helpdesk();
        let actor_perms = &profiles.iter().find(|(k, _)| *k == actor_role).unwrap().1;
        let actor = org.member("actor@example.com", &[actor_role]);
        let tmp = org.tmp.path().to_path_buf();
        for (n, (target_role, target_perms)) in profiles.iter().enumerate() {
            let t = targets(&org, n, &[target_role]);
            let owner = *target_role == "owner";
            let want = |act| expected(act, actor_perms, actor_role == "owner", target_perms, owner);
            let what = format!("{actor_role} on {target_role}");
            let s = actor.session;
            let d = &org.dir;
            // Active target: acts that leave them Active first, deactivation last.
            let roles = vec![target_role.to_string()];
            check(&org, &what, Act::ChangeRoles, &want(Act::ChangeRoles), || {
                code(d.change_roles(s, t.active.id, roles.clone()))
            });
            check(&org, &what, Act::IssueReset, &want(Act::IssueReset), || {
                code(d.issue_password_reset(s, t.active.id))
            });
            check(&org, &what, Act::Unlock, &want(Act::Unlock), || {
                code(d.unlock_user(s, t.active.id))
            });
            check(&org, &what, Act::Deactivate, &want(Act::Deactivate), || {
                code(d.deactivate_user(s, t.active.id, None))
            });
            check(&org, &what, Act::Reactivate, &want(Act::Reactivate), || {
                code(d.reactivate_user(s, t.inactive))
            });
            // Invited target: the Outbox letter carrying their code, then resend, then cancel.
            let file = tmp.join(format!("{n}-{actor_role}.eml"));
            check(&org, &what, Act::SaveMessage, &want(Act::SaveMessage), || {
                code(d.save_message(s, t.invited.message_id, &file))
            });
            assert_eq!(file.exists(), want(Act::SaveMessage).is_empty(), "{what}: the .eml file");
            check(&org, &what, Act::Resend, &want(Act::Resend), || {
                code(d.resend_invitation(s, t.invited.user_id))
            });
            check(&org, &what, Act::Cancel, &want(Act::Cancel), || {
                code(d.cancel_invitation(s, t.invited.user_id))
            });
            checked += 8;
        }
    }
    assert_eq!(checked, 4 * 6 * 8);
}

#[test]
fn the_row_actions_core_offers_are_exactly_the_allowed_ones() {
    let org = org_with_helpdesk();
    let hal = org.member("hal@example.com", &[HELPDESK]);
    let adam = org.member("adam@example.com", &["admin"]);
    let hank = org.member("hank@example.com", &[HELPDESK]);
    let offered = |who: UserId| {
        let view = org.dir.get_user(hal.session, who).unwrap();
        let allowed: Vec<_> =
            view.actions.iter().filter(|a| a.refused.is_none()).map(|a| a.act).collect();
        (allowed, view.actions)
    };
    use gatehouse_core::policy::Act as A;
    let (allowed, all) = offered(adam.id);
    assert!(allowed.is_empty(), "Hal may do nothing to Adam: {all:?}");
    let reset = all.iter().find(|a| a.act == A::IssueReset).unwrap();
    assert_eq!(reset.refused.as_ref().unwrap().code, ErrorCode::NotDominant);
    assert!(reset.refused.as_ref().unwrap().message.contains("holds permissions you do not have"));
    // Hank holds what Hal holds, no more: Hal may act on him.
    let (allowed, _) = offered(hank.id);
    assert_eq!(allowed, [A::ChangeRoles, A::IssueReset, A::Deactivate, A::SetAccessUntil]);
    // The same answer the commands give.
    assert_eq!(
        org.dir.issue_password_reset(hal.session, adam.id).unwrap_err().code(),
        ErrorCode::NotDominant
    );
    org.dir.issue_password_reset(hal.session, hank.id).unwrap();
}
