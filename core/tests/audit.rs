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

/// The count of the first page of `query` with pages of `limit`, as (events, at least).
fn count(
    org: &Org,
    session: gatehouse_core::SessionId,
    query: AuditQuery,
    limit: u32,
) -> (u64, bool) {
    let page = org.dir.audit_log(session, AuditQuery { limit: Some(limit), ..query }).unwrap();
    let count = page.count.expect("a first page counts");
    (count.events, count.at_least)
}

#[test]
fn the_first_page_counts_every_event_its_filter_matches() {
    let org = Org::new().with_owner();
    let ada = org.member("ada@example.com", &["admin"]);
    for i in 0..5 {
        org.invite(&format!("user{i}@example.com"), &["reporting"]);
        org.invite_as(ada.session, &format!("ada{i}@example.com"), &["reporting"]).unwrap();
    }
    let invites = AuditQuery { action: Some(AuditAction::Invite), ..Default::default() };
    assert_eq!(count(&org, org.owner(), invites.clone(), 2), (11, false), "ada's and 10 more");
    let by_ada = AuditQuery { actor: Some("ada@example.com".into()), ..Default::default() };
    let ada_events = all_pages_by(&org, "ada@example.com", 100).len() as u64;
    assert_eq!(count(&org, org.owner(), by_ada.clone(), 2), (ada_events, false));
    let ada_invites = AuditQuery { action: Some(AuditAction::Invite), ..by_ada };
    assert_eq!(count(&org, org.owner(), ada_invites, 2), (5, false));
    let everything = org.dir.audit_log(org.owner(), AuditQuery::default()).unwrap().events;
    let naming_ada = everything
        .iter()
        .filter(|e| e.target.as_deref().is_some_and(|t| t.contains("ada")))
        .count() as u64;
    assert!(naming_ada >= 6, "ada's invitation and the 5 she sent");
    let target = AuditQuery { target: Some("ADA".into()), ..Default::default() };
    assert_eq!(count(&org, org.owner(), target, 1), (naming_ada, false));

    // Unfiltered, the whole log: each read before this one is in it too.
    let head = org.dir.verify_integrity(org.owner()).unwrap().audit_events;
    assert_eq!(count(&org, org.owner(), AuditQuery::default(), 3), (u64::from(head), false));

    // A page that follows is not counted again.
    let first = org.dir.audit_log(org.owner(), AuditQuery { limit: Some(2), ..invites }).unwrap();
    let second = AuditQuery { before: first.next, limit: Some(2), ..Default::default() };
    assert_eq!(org.dir.audit_log(org.owner(), second).unwrap().count, None);
    org.verify();
}

#[test]
fn a_count_past_the_cap_says_at_least_but_the_whole_log_is_counted_exactly() {
    const PASSWORD: &str = "correct horse battery staple 7";
    let org = Org::new();
    let plan = gatehouse_core::seed::SeedPlan {
        users: 20,
        invited: 0,
        audit_events: 3_000,
        ..gatehouse_core::seed::SeedPlan::large(PASSWORD)
    };
    org.dir.seed(&plan, |_, _| {}).unwrap();
    let owner = org.dir.sign_in("owner@example.com", PASSWORD).unwrap().session;
    let cap = gatehouse_core::AuditCount::CAP;

    // Seeded events are the Owner's sign-ins, with the seeding before them.
    let by_owner = AuditQuery { actor: Some("owner@example.com".into()), ..Default::default() };
    assert_eq!(count(&org, owner, by_owner, 50), (cap, true), "through the actor index");
    let sign_ins = AuditQuery { action: Some(AuditAction::SignIn), ..Default::default() };
    assert_eq!(count(&org, owner, sign_ins, 50), (cap, true), "read on past the page");
    let (all, at_least) = count(&org, owner, AuditQuery::default(), 50);
    assert!(!at_least && all > 3_000, "{all}: the seed, the sign-in and the reads");
    let log = u64::from(org.dir.verify_integrity(owner).unwrap().audit_events);
    assert_eq!(all + 1, log, "every event before the read, which is itself the next");
    let none = AuditQuery { action: Some(AuditAction::DeleteRole), ..Default::default() };
    assert_eq!(count(&org, owner, none, 50), (0, false));
}
