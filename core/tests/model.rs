//! Property test: long random sequences of operations by random actors, run against the real
//! directory and against a small reference model written from domain.md. After every step the
//! two agree (outcome, statuses, roles, effective permissions), `verify()` holds, and the audit
//! log grew by exactly the events the step should have written.
//!
//! `GATEHOUSE_MODEL_CASES` (total, default 256) and `GATEHOUSE_MODEL_STEPS` (per case, default
//! 64) scale it up (`make soak`).

use crate::support::{Org, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::{DateTime, Duration, Utc};
use gatehouse_core::model::{role, Action, Module, Permission, PermissionSet, UserId, UserStatus};
use gatehouse_core::{
    AcceptInput, Clock, ErrorCode, InviteOutcome, InviteRequest, Invitee, RoleInput, SessionId,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const PEOPLE: usize = 7; // 0 is the first Owner
const ROLE_POOL: [&str; 7] = [
    "owner",
    "admin",
    "system_integrator",
    "payment_management",
    "reporting",
    "custom_a",
    "custom_b",
];

#[derive(Debug, Clone)]
enum Op {
    Invite { actor: usize, who: usize, roles: Vec<usize> },
    Accept { who: usize, stale: bool },
    Resend { actor: usize, who: usize },
    Cancel { actor: usize, who: usize },
    Deactivate { actor: usize, who: usize },
    Reactivate { actor: usize, who: usize },
    ChangeRoles { actor: usize, who: usize, roles: Vec<usize> },
    SignIn { who: usize, right_password: bool },
    CreateRole { actor: usize, which: usize, perms: Vec<(usize, usize)> },
    DeleteRole { actor: usize, which: usize },
    Wait { minutes: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    // Actors: the first Owner half of the time, so that most steps have a live session.
    let p = prop_oneof![1 => Just(0usize), 1 => 0..PEOPLE];
    let roles = prop::collection::vec(0..ROLE_POOL.len(), 0..3);
    prop_oneof![
        4 => (p.clone(), 1..PEOPLE, roles.clone()).prop_map(|(actor, who, roles)| Op::Invite { actor, who, roles }),
        3 => (1..PEOPLE, prop::bool::weighted(0.25)).prop_map(|(who, stale)| Op::Accept { who, stale }),
        1 => (p.clone(), p.clone()).prop_map(|(actor, who)| Op::Resend { actor, who }),
        1 => (p.clone(), p.clone()).prop_map(|(actor, who)| Op::Cancel { actor, who }),
        2 => (p.clone(), p.clone()).prop_map(|(actor, who)| Op::Deactivate { actor, who }),
        1 => (p.clone(), p.clone()).prop_map(|(actor, who)| Op::Reactivate { actor, who }),
        3 => (p.clone(), p.clone(), roles).prop_map(|(actor, who, roles)| Op::ChangeRoles { actor, who, roles }),
        2 => (p.clone(), prop::bool::weighted(0.6)).prop_map(|(who, right_password)| Op::SignIn { who, right_password }),
        1 => (p.clone(), 0..2usize, prop::collection::vec((0..11usize, 0..4usize), 0..4))
            .prop_map(|(actor, which, perms)| Op::CreateRole { actor, which, perms }),
        1 => (p.clone(), 0..2usize).prop_map(|(actor, which)| Op::DeleteRole { actor, which }),
        1 => prop_oneof![4 => Just(1i64), 1 => Just(20), 1 => Just(60 * 24 * 8)].prop_map(|minutes| Op::Wait { minutes }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Absent,
    Invited { expires: DateTime<Utc> },
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Session {
    None,
    Live(SessionId, DateTime<Utc>),
    /// Ended: the handle is kept so that the real directory can be asked with it.
    Ended(SessionId),
}

#[derive(Debug, Clone)]
struct Person {
    id: Option<UserId>,
    state: State,
    roles: Vec<String>,
    session: Session,
    code: Option<String>,
    /// A code that no longer works, and the error it gives.
    stale: Option<(String, ErrorCode)>,
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
}

fn email(i: usize) -> String {
    if i == 0 {
        OWNER_EMAIL.to_string()
    } else {
        format!("person{i}@example.com")
    }
}

/// What the model expects of one step: the outcome and how many audit events it writes.
type Expect = (Result<(), ErrorCode>, u64);

struct Model {
    people: Vec<Person>,
    custom: BTreeMap<String, PermissionSet>,
}

impl Model {
    fn perms(&self, roles: &[String]) -> PermissionSet {
        let mut all = PermissionSet::new();
        for key in roles {
            match role::built_in_role(key) {
                Some(r) => all.extend(r.permissions),
                None => all.extend(self.custom.get(key).cloned().unwrap_or_default()),
            }
        }
        all
    }

    fn owner(&self, i: usize) -> bool {
        self.people[i].roles.iter().any(|r| r == "owner")
    }

    fn active_owners_except(&self, i: usize) -> usize {
        (0..PEOPLE)
            .filter(|&j| j != i && self.people[j].state == State::Active && self.owner(j))
            .count()
    }

    /// The session check and permission check every command starts with.
    fn authorize(
        &mut self,
        actor: usize,
        now: DateTime<Utc>,
        module: Module,
        action: Action,
    ) -> Result<(), Expect> {
        match self.people[actor].session {
            Session::None | Session::Ended(_) => return Err((Err(ErrorCode::NotSignedIn), 0)),
            Session::Live(s, seen) if now - seen > Duration::minutes(15) => {
                self.people[actor].session = Session::Ended(s);
                return Err((Err(ErrorCode::SessionExpired), 0));
            }
            Session::Live(s, _) => self.people[actor].session = Session::Live(s, now),
        }
        if !self.perms(&self.people[actor].roles).contains(&Permission { module, action }) {
            return Err((Err(ErrorCode::PermissionDenied), 1));
        }
        Ok(())
    }

    fn checked_roles(&self, picks: &[usize]) -> Result<Vec<String>, Expect> {
        let mut out: Vec<String> = Vec::new();
        for &i in picks {
            let key = ROLE_POOL[i];
            if role::built_in_role(key).is_none() && !self.custom.contains_key(key) {
                return Err((Err(ErrorCode::UnknownRole), 0));
            }
            if !out.iter().any(|k| k == key) {
                out.push(key.to_string());
            }
        }
        if out.is_empty() {
            return Err((Err(ErrorCode::NoRoles), 0));
        }
        Ok(out)
    }

    /// The target of a command on a user: exists in the list.
    fn target(&self, who: usize) -> Result<(), Expect> {
        if self.people[who].state == State::Absent {
            return Err((Err(ErrorCode::UserNotFound), 0));
        }
        Ok(())
    }

    /// Rules 1, 3, 5.
    fn may_manage(&self, actor: usize, who: usize) -> Result<(), Expect> {
        if actor == who {
            return Err((Err(ErrorCode::OwnStatus), 0));
        }
        if self.owner(who) && !self.owner(actor) {
            return Err((Err(ErrorCode::OwnerOnly), 0));
        }
        Ok(())
    }

    fn end_session(&mut self, who: usize) {
        if let Session::Live(s, _) = self.people[who].session {
            self.people[who].session = Session::Ended(s);
        }
    }
}

struct Run {
    org: Org,
    m: Model,
    steps_ok: u64,
}

impl Run {
    fn new() -> Self {
        let org = Org::new().with_owner();
        let mut people: Vec<Person> = (0..PEOPLE)
            .map(|_| Person {
                id: None,
                state: State::Absent,
                roles: vec![],
                session: Session::None,
                code: None,
                stale: None,
                failures: 0,
                locked_until: None,
            })
            .collect();
        people[0].id = Some(org.owner_id());
        people[0].state = State::Active;
        people[0].roles = vec!["owner".into()];
        people[0].session = Session::Live(org.owner(), org.clock.now());
        Run { org, m: Model { people, custom: BTreeMap::new() }, steps_ok: 0 }
    }

    fn session(&self, who: usize) -> Option<SessionId> {
        match self.m.people[who].session {
            Session::None => None,
            Session::Live(s, _) | Session::Ended(s) => Some(s),
        }
    }

    fn id(&self, who: usize) -> Option<UserId> {
        self.m.people[who].id
    }

    /// Runs one step on both sides and checks that they agree. `None`: the step cannot be
    /// expressed (no session handle or id to call with yet) and is skipped.
    fn step(&mut self, op: &Op) -> Option<()> {
        let now = self.org.clock.now();
        let before = self.org.dir.verify().expect("verify").audit_events;
        let (real, expect) = match op.clone() {
            Op::Invite { actor, who, roles } => {
                let session = self.session(actor)?;
                let request = InviteRequest {
                    invitees: vec![Invitee { email: email(who), name: None }],
                    roles: roles.iter().map(|&i| ROLE_POOL[i].to_string()).collect(),
                };
                let real = match self.org.dir.invite_users(session, request) {
                    Err(e) => Err(e.code()),
                    Ok(mut outcomes) => match outcomes.remove(0) {
                        InviteOutcome::Invited { issued, .. } => {
                            self.m.people[who].id = Some(issued.user_id);
                            Ok(Some(issued.code))
                        }
                        InviteOutcome::Refused { error, .. } => Err(error.code),
                    },
                };
                let expect = self.model_invite(actor, who, &roles, now);
                if let Ok(Some(code)) = &real {
                    if expect.0.is_ok() {
                        let p = &mut self.m.people[who];
                        p.stale = p
                            .code
                            .replace(code.clone())
                            .map(|c| (c, ErrorCode::InvitationReplaced))
                            .or(p.stale.take());
                    }
                }
                (real.map(|_| ()), expect)
            }
            Op::Accept { who, stale } => {
                let code = if stale {
                    self.m.people[who].stale.clone()?.0
                } else {
                    self.m.people[who].code.clone()?
                };
                let input = AcceptInput {
                    email: email(who),
                    code,
                    name: format!("Person {who}"),
                    password: MEMBER_PASSWORD.into(),
                };
                let real = self.org.dir.accept_invitation(input).map(|s| s.session);
                let expect = self.model_accept(who, stale, now);
                if let (Ok(session), Ok(())) = (&real, &expect.0) {
                    self.m.people[who].session = Session::Live(*session, now);
                }
                (real.map(|_| ()).map_err(|e| e.code()), expect)
            }
            Op::Resend { actor, who } => {
                let (session, id) = (self.session(actor)?, self.id(who)?);
                let real = self.org.dir.resend_invitation(session, id);
                let expect = self.model_resend_or_cancel(actor, who, now, true);
                if let (Ok(issued), Ok(())) = (&real, &expect.0) {
                    let p = &mut self.m.people[who];
                    p.stale = p
                        .code
                        .replace(issued.code.clone())
                        .map(|c| (c, ErrorCode::InvitationReplaced));
                }
                (real.map(|_| ()).map_err(|e| e.code()), expect)
            }
            Op::Cancel { actor, who } => {
                let (session, id) = (self.session(actor)?, self.id(who)?);
                let real = self.org.dir.cancel_invitation(session, id).map_err(|e| e.code());
                (real, self.model_resend_or_cancel(actor, who, now, false))
            }
            Op::Deactivate { actor, who } => {
                let (session, id) = (self.session(actor)?, self.id(who)?);
                let real = self
                    .org
                    .dir
                    .deactivate_user(session, id, None)
                    .map(|_| ())
                    .map_err(|e| e.code());
                (real, self.model_status(actor, who, now, true))
            }
            Op::Reactivate { actor, who } => {
                let (session, id) = (self.session(actor)?, self.id(who)?);
                let real =
                    self.org.dir.reactivate_user(session, id).map(|_| ()).map_err(|e| e.code());
                (real, self.model_status(actor, who, now, false))
            }
            Op::ChangeRoles { actor, who, roles } => {
                let (session, id) = (self.session(actor)?, self.id(who)?);
                let keys = roles.iter().map(|&i| ROLE_POOL[i].to_string()).collect();
                let real =
                    self.org.dir.change_roles(session, id, keys).map(|_| ()).map_err(|e| e.code());
                (real, self.model_change_roles(actor, who, &roles, now))
            }
            Op::SignIn { who, right_password } => {
                let password = match (right_password, who) {
                    (false, _) => "certainly the wrong password",
                    (true, 0) => OWNER_PASSWORD,
                    (true, _) => MEMBER_PASSWORD,
                };
                let real = self.org.dir.sign_in(&email(who), password).map(|s| s.session);
                let expect = self.model_sign_in(who, right_password, now);
                if let (Ok(session), Ok(())) = (&real, &expect.0) {
                    self.m.people[who].session = Session::Live(*session, now);
                }
                (real.map(|_| ()).map_err(|e| e.code()), expect)
            }
            Op::CreateRole { actor, which, perms } => {
                let session = self.session(actor)?;
                let permissions: Vec<Permission> = perms
                    .iter()
                    .map(|&(m, a)| Permission { module: Module::ALL[m], action: Action::ALL[a] })
                    .collect();
                let key = ROLE_POOL[5 + which];
                let input = RoleInput {
                    key: Some(key.into()),
                    name: format!("Custom {which}"),
                    description: String::new(),
                    permissions: permissions.clone(),
                };
                let real =
                    self.org.dir.create_role(session, input).map(|_| ()).map_err(|e| e.code());
                (real, self.model_create_role(actor, key, permissions.into_iter().collect(), now))
            }
            Op::DeleteRole { actor, which } => {
                let session = self.session(actor)?;
                let key = ROLE_POOL[5 + which];
                let real = self.org.dir.delete_role(session, key).map_err(|e| e.code());
                (real, self.model_delete_role(actor, key, now))
            }
            Op::Wait { minutes } => {
                self.org.clock.advance(Duration::minutes(minutes));
                (Ok(()), (Ok(()), 0))
            }
        };
        assert_eq!(real, expect.0, "outcome of {op:?}");
        let after = self.org.dir.verify().expect("verify").audit_events;
        assert_eq!(u64::from(after - before), expect.1, "audit events written by {op:?}");
        if real.is_ok() {
            self.steps_ok += 1;
        }
        self.check_agreement();
        Some(())
    }

    fn model_invite(
        &mut self,
        actor: usize,
        who: usize,
        roles: &[usize],
        now: DateTime<Utc>,
    ) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Users, Action::Create) {
            return e;
        }
        let roles = match m.checked_roles(roles) {
            Ok(r) => r,
            Err(e) => return e,
        };
        if roles.iter().any(|r| r == "owner") && !m.owner(actor) {
            return (Err(ErrorCode::OwnerOnly), 0);
        }
        if !m.perms(&roles).is_subset(&m.perms(&m.people[actor].roles)) {
            return (Err(ErrorCode::Escalation), 0);
        }
        let p = &mut m.people[who];
        match p.state {
            State::Active => (Err(ErrorCode::EmailTaken), 0),
            State::Inactive => (Err(ErrorCode::EmailInactive), 0),
            State::Invited { expires } if now < expires => (Err(ErrorCode::AlreadyInvited), 0),
            _ => {
                p.state = State::Invited { expires: now + Duration::days(7) };
                p.roles = roles;
                (Ok(()), 1)
            }
        }
    }

    fn model_accept(&mut self, who: usize, stale: bool, now: DateTime<Utc>) -> Expect {
        let p = &mut self.m.people[who];
        if stale {
            let (_, code) = p.stale.clone().expect("stale code chosen");
            return (Err(code), 1);
        }
        match p.state {
            State::Invited { expires } if now >= expires => (Err(ErrorCode::InvitationExpired), 1),
            State::Invited { .. } => {
                p.state = State::Active;
                p.stale = p.code.take().map(|c| (c, ErrorCode::InvalidCode));
                (Ok(()), 1)
            }
            _ => {
                // The code was already used or the user left the list: it is stale.
                (Err(ErrorCode::InvalidCode), 1)
            }
        }
    }

    fn model_resend_or_cancel(
        &mut self,
        actor: usize,
        who: usize,
        now: DateTime<Utc>,
        resend: bool,
    ) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Users, Action::Create) {
            return e;
        }
        if let Err(e) = m.target(who) {
            return e;
        }
        if !matches!(m.people[who].state, State::Invited { .. }) {
            return (Err(ErrorCode::InvalidTransition), 0);
        }
        if m.owner(who) && !m.owner(actor) {
            return (Err(ErrorCode::OwnerOnly), 0);
        }
        let p = &mut m.people[who];
        if resend {
            p.state = State::Invited { expires: now + Duration::days(7) };
        } else {
            p.state = State::Absent;
            p.roles.clear();
            p.stale = p.code.take().map(|c| (c, ErrorCode::InvitationCancelled));
        }
        (Ok(()), 1)
    }

    fn model_status(
        &mut self,
        actor: usize,
        who: usize,
        now: DateTime<Utc>,
        deactivate: bool,
    ) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Users, Action::Update) {
            return e;
        }
        if let Err(e) = m.target(who).and_then(|_| m.may_manage(actor, who)) {
            return e;
        }
        let (from, to) = if deactivate {
            (State::Active, State::Inactive)
        } else {
            (State::Inactive, State::Active)
        };
        if m.people[who].state != from {
            return (Err(ErrorCode::InvalidTransition), 0);
        }
        if deactivate && m.owner(who) && m.active_owners_except(who) == 0 {
            return (Err(ErrorCode::LastOwner), 0);
        }
        m.people[who].state = to;
        if deactivate {
            m.end_session(who);
        }
        (Ok(()), 1)
    }

    fn model_change_roles(
        &mut self,
        actor: usize,
        who: usize,
        picks: &[usize],
        now: DateTime<Utc>,
    ) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Users, Action::Update) {
            return e;
        }
        let roles = match m.checked_roles(picks) {
            Ok(r) => r,
            Err(e) => return e,
        };
        if let Err(e) = m.target(who) {
            return e;
        }
        let before = m.people[who].roles.clone();
        let (owner_before, owner_after) = (m.owner(who), roles.iter().any(|r| r == "owner"));
        let mut sorted_new = roles.clone();
        sorted_new.sort();
        if actor == who {
            let mut expected: Vec<String> =
                before.iter().filter(|r| *r != "owner").cloned().collect();
            expected.sort();
            if !(owner_before && !owner_after && sorted_new == expected) {
                return (Err(ErrorCode::OwnRoles), 0);
            }
        } else if (owner_before || owner_after) && !m.owner(actor) {
            return (Err(ErrorCode::OwnerOnly), 0);
        }
        let added: Vec<String> = roles.iter().filter(|r| !before.contains(r)).cloned().collect();
        if !m.perms(&added).is_subset(&m.perms(&m.people[actor].roles)) {
            return (Err(ErrorCode::Escalation), 0);
        }
        if m.people[who].state == State::Active
            && owner_before
            && !owner_after
            && m.active_owners_except(who) == 0
        {
            return (Err(ErrorCode::LastOwner), 0);
        }
        if roles == before {
            return (Ok(()), 0);
        }
        m.people[who].roles = roles;
        m.end_session(who);
        (Ok(()), 1)
    }

    fn model_sign_in(&mut self, who: usize, right: bool, now: DateTime<Utc>) -> Expect {
        let p = &mut self.m.people[who];
        if p.locked_until.is_some_and(|until| until > now) {
            return (Err(ErrorCode::LockedOut), 1);
        }
        if right && p.state == State::Active {
            p.failures = 0;
            p.locked_until = None;
            return (Ok(()), 1);
        }
        p.failures = if p.locked_until.is_some() { 1 } else { p.failures + 1 };
        if p.failures >= 5 {
            p.locked_until = Some(now + Duration::minutes(30));
            (Err(ErrorCode::LockedOut), 1)
        } else {
            p.locked_until = None;
            (Err(ErrorCode::InvalidCredentials), 1)
        }
    }

    fn model_create_role(
        &mut self,
        actor: usize,
        key: &str,
        perms: PermissionSet,
        now: DateTime<Utc>,
    ) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Roles, Action::Create) {
            return e;
        }
        if m.custom.contains_key(key) {
            return (Err(ErrorCode::RoleExists), 0);
        }
        if !perms.is_subset(&m.perms(&m.people[actor].roles)) {
            return (Err(ErrorCode::Escalation), 0);
        }
        m.custom.insert(key.to_string(), perms);
        (Ok(()), 1)
    }

    fn model_delete_role(&mut self, actor: usize, key: &str, now: DateTime<Utc>) -> Expect {
        let m = &mut self.m;
        if let Err(e) = m.authorize(actor, now, Module::Roles, Action::Delete) {
            return e;
        }
        if !m.custom.contains_key(key) {
            return (Err(ErrorCode::UnknownRole), 0);
        }
        if m.people.iter().any(|p| p.state != State::Absent && p.roles.iter().any(|r| r == key)) {
            return (Err(ErrorCode::RoleInUse), 0);
        }
        m.custom.remove(key);
        (Ok(()), 1)
    }

    /// The store and the model agree on every user, and `verify()` holds.
    fn check_agreement(&self) {
        self.org.verify();
        let users = self.org.dir.users_unchecked().expect("users");
        let present = self.m.people.iter().filter(|p| p.state != State::Absent).count();
        assert_eq!(users.len(), present, "number of users in the list");
        for (i, p) in self.m.people.iter().enumerate() {
            let Some(id) = p.id else { continue };
            let real = users.iter().find(|u| u.id == id);
            let expected_status = match p.state {
                State::Absent => None,
                State::Invited { .. } => Some(UserStatus::Invited),
                State::Active => Some(UserStatus::Active),
                State::Inactive => Some(UserStatus::Inactive),
            };
            assert_eq!(real.map(|u| u.status), expected_status, "status of person {i}");
            if let Some(u) = real {
                assert_eq!(u.roles, p.roles, "roles of person {i}");
            }
            // No escalation, no lost permission: can() answers exactly from the model.
            let expected = if p.state == State::Active {
                self.m.perms(&p.roles)
            } else {
                PermissionSet::new()
            };
            for module in Module::ALL {
                for action in Action::ALL {
                    let can = self.org.dir.can(id, module, action).expect("can");
                    assert_eq!(
                        can,
                        expected.contains(&Permission { module, action }),
                        "person {i} {module:?} {action:?}"
                    );
                }
            }
        }
        assert!(users
            .iter()
            .any(|u| u.status == UserStatus::Active && u.roles.iter().any(|r| r == "owner")));
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn steps() -> usize {
    env_or("GATEHOUSE_MODEL_STEPS", 64)
}

/// Cases run, and steps that succeeded, over the whole run (printed for `make soak`).
static TOTALS: std::sync::Mutex<(u64, u64, u64)> = std::sync::Mutex::new((0, 0, 0));

fn run_case(ops: &[Op]) {
    let mut run = Run::new();
    let mut ran = 0;
    for op in ops {
        ran += u64::from(run.step(op).is_some());
    }
    let mut totals = TOTALS.lock().unwrap_or_else(|p| p.into_inner());
    totals.0 += 1;
    totals.1 += ran;
    totals.2 += run.steps_ok;
    if totals.0 % 64 == 0 {
        println!("model: {} cases, {} steps run, {} succeeded", totals.0, totals.1, totals.2);
    }
}

// Two halves, so that the test runner spreads the cases over two threads.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: (env_or("GATEHOUSE_MODEL_CASES", 256) / 2) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_directory_agrees_with_the_model(ops in prop::collection::vec(op(), steps())) {
        run_case(&ops);
    }

    #[test]
    fn the_directory_agrees_with_the_model_again(ops in prop::collection::vec(op(), steps())) {
        run_case(&ops);
    }
}
