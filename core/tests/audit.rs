use crate::support::{Org, OWNER_EMAIL, OWNER_PASSWORD};
use chrono::Duration;
use gatehouse_core::model::{AuditAction, Outcome};
use gatehouse_core::Directory;
use gatehouse_core::{AuditQuery, ErrorCode};

#[test]
fn every_change_is_in_the_log_newest_first() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), rex.id, Some("left".into())).unwrap();
    let page = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap();
    let actions: Vec<AuditAction> = page.events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Deactivate,
            AuditAction::AcceptInvitation,
            AuditAction::Invite,
            AuditAction::Setup
        ]
    );
    assert!(page.events[0].summary.contains("reason: left"));
    assert_eq!(page.next, None);
    org.verify();
}

#[test]
fn the_log_filters_by_actor_target_action_and_time_and_pages() {
    let mut org = Org::new().with_owner();
    for i in 0..5 {
        org.invite(&format!("user{i}@example.com"), &["reporting"]);
    }
    let start = org.clock_now();
    org.later(Duration::hours(1));
    org.invite("late@example.com", &["reporting"]);
    let owner = org.owner_id().to_string();
    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut query = AuditQuery::default();
        f(&mut query);
        org.dir.audit_log(org.owner(), query).unwrap()
    };
    assert_eq!(q(&|q| q.action = Some(AuditAction::Invite)).events.len(), 6);
    assert_eq!(q(&|q| q.target = Some("USER3@".into())).events.len(), 1);
    let by_id = q(&|q| q.actor = Some(owner.clone()));
    assert_eq!(by_id.events.len(), 10, "setup, 6 invites, sign-in, and the 2 searches before");
    let by_email = q(&|q| q.actor = Some(" OLIVIA.owner@example.com ".into()));
    assert_eq!(by_email.events.len(), 11, "the actor named by email, in any case");
    assert_eq!(by_email.actors.len(), 1);
    assert_eq!(by_email.actors[0].email, "Olivia.Owner@Example.com");
    let nobody = AuditQuery { actor: Some("nobody@example.com".into()), ..Default::default() };
    assert_eq!(
        org.dir.audit_log(org.owner(), nobody).unwrap_err().code(),
        gatehouse_core::ErrorCode::UserNotFound
    );
    assert_eq!(
        q(&|q| {
            q.to = Some(start + Duration::minutes(1));
            q.action = Some(AuditAction::Invite)
        })
        .events
        .len(),
        5
    );
    let first = q(&|q| {
        q.action = Some(AuditAction::Invite);
        q.limit = Some(4)
    });
    assert_eq!(first.events.len(), 4);
    let next = first.next.expect("a second page");
    let second = q(&|q| {
        q.action = Some(AuditAction::Invite);
        q.limit = Some(4);
        q.before = Some(next)
    });
    assert_eq!(second.events.len(), 2);
    assert_eq!(second.next, None);
    assert!(second.events.iter().all(|e| e.seq < next));
    org.verify();
}

#[test]
fn only_holders_of_audit_read_see_the_log() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    let err = org.dir.audit_log(rex.session, AuditQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    let denied = org
        .dir
        .audit_log(
            org.owner(),
            AuditQuery { action: Some(AuditAction::PermissionDenied), ..Default::default() },
        )
        .unwrap();
    assert_eq!(denied.events.len(), 1);
    assert_eq!(denied.events[0].outcome, Outcome::Denied);
    org.verify();
}

#[test]
fn the_audit_log_never_holds_a_code_or_password() {
    let org = Org::new().with_owner();
    let issued = org.invite("ivy@example.com", &["reporting"]);
    org.accept(&issued, "Ivy");
    let page = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap();
    let text = serde_json::to_string(&page).unwrap();
    assert!(!text.contains(&issued.code));
    assert!(!text.contains(crate::support::MEMBER_PASSWORD));
    assert!(!text.contains(crate::support::OWNER_PASSWORD));
    org.verify();
}

#[test]
fn the_log_exports_to_csv_oldest_first() {
    let org = Org::new().with_owner();
    let rex = org.member("rex@example.com", &["reporting"]);
    org.dir.deactivate_user(org.owner(), rex.id, Some("moved, to \"Berlin\"".into())).unwrap();
    let csv = org.dir.audit_csv(org.owner(), AuditQuery::default()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "seq,time,actor,action,target,summary,outcome,code,hash");
    assert_eq!(lines.len(), 6, "header, setup, invite, accept, deactivate, the export itself");
    // The last row is the export's own event: the chain's head, with its hash.
    let head = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap().events[0].clone();
    assert_eq!(head.action, AuditAction::ExportAudit);
    assert!(lines[5].starts_with(&format!("{},", head.seq)), "{}", lines[5]);
    assert!(lines[5].ends_with(&format!(",{}", head.hash())), "{}", lines[5]);
    assert!(lines[5].contains("audit chain head #4 "), "{}", lines[5]);
    assert!(
        lines[1].starts_with("1,2026-01-05T09:00:00Z,Olivia.Owner@Example.com,setup,"),
        "{}",
        lines[1]
    );
    assert!(lines[4].contains("deactivate,rex@example.com,\"Active → Inactive; reason: moved, to \"\"Berlin\"\"\",success"), "{}", lines[4]);
    let only_invites = org
        .dir
        .audit_csv(
            org.owner(),
            AuditQuery { action: Some(AuditAction::Invite), ..Default::default() },
        )
        .unwrap();
    assert_eq!(only_invites.lines().count(), 3, "header, the invite, the export");
    org.verify();
}

/// Every page of `actor`'s events, newest first, following `next`.
fn all_pages_by(org: &Org, actor: &str, limit: u32) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut before = None;
    loop {
        let query = AuditQuery {
            actor: Some(actor.into()),
            limit: Some(limit),
            before,
            ..Default::default()
        };
        let page = org.dir.audit_log(org.owner(), query).unwrap();
        // Reading the log is recorded: those events are left out on both sides.
        seqs.extend(
            page.events.iter().filter(|e| e.action != AuditAction::ReadAudit).map(|e| e.seq),
        );
        match page.next {
            Some(next) => before = Some(next),
            None => return seqs,
        }
    }
}

#[test]
fn each_actors_events_are_found_through_the_actor_index_page_by_page() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    for i in 0..7 {
        org.invite(&format!("o{i}@example.com"), &["reporting"]);
        org.invite_as(ada.session, &format!("a{i}@example.com"), &["reporting"]).unwrap();
    }
    org.dir.deactivate_user(org.owner(), ada.id, None).unwrap();
    let everything = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap().events;
    for actor in [org.owner_id(), ada.id] {
        let scanned: Vec<u64> = everything
            .iter()
            .filter(|e| e.actor == gatehouse_core::model::AuditActor::User(actor))
            .filter(|e| e.action != AuditAction::ReadAudit)
            .map(|e| e.seq)
            .collect();
        assert!(scanned.len() >= 8, "{actor} acted");
        assert_eq!(all_pages_by(&org, &actor.to_string(), 3), scanned, "pages of 3 by {actor}");
    }
    let action_and_actor = AuditQuery {
        actor: Some("ada@example.com".into()),
        action: Some(AuditAction::Invite),
        ..Default::default()
    };
    assert_eq!(org.dir.audit_log(org.owner(), action_and_actor).unwrap().events.len(), 7);
    org.verify();
}

#[test]
fn a_version_1_store_gets_its_actor_index_when_opened() {
    let org = Org::new().with_owner();
    for i in 0..4 {
        org.invite(&format!("u{i}@example.com"), &["reporting"]);
    }
    let owner = org.owner_id();
    let Org { dir, clock, tmp, .. } = org;
    drop(dir);
    let schema = |db: &sled::Db| db.open_tree("meta").unwrap().get("schema_version").unwrap();
    {
        // As version 1 wrote it: no actor index.
        let db = crate::support::open_sled(tmp.path());
        db.open_tree("audit_actors").unwrap().clear().unwrap();
        db.open_tree("meta").unwrap().insert("schema_version", &1u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let dir = Directory::open_settled(tmp.path(), clock.clone()).unwrap();
    let session = dir.sign_in(OWNER_EMAIL, OWNER_PASSWORD).unwrap().session;
    let org = Org { dir: dir.into(), clock, owner: Some(session), tmp };
    org.verify();
    assert_eq!(all_pages_by(&org, &owner.to_string(), 2).len(), 6, "setup, 4 invites, sign-in");
    let Org { dir, tmp, .. } = org;
    drop(dir);
    let db = crate::support::open_sled(tmp.path());
    let current = gatehouse_core::store::SCHEMA_VERSION;
    assert_eq!(schema(&db).as_deref(), Some(&current.to_be_bytes()[..]));
}
