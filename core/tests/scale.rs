//! Large stores: the seed generator and the in-memory list index that pages through them.

use crate::support::{Org, MEMBER_PASSWORD};
use gatehouse_core::model::name_order::name_order;
use gatehouse_core::model::{UserStatus, UserView};
use gatehouse_core::ops::MAX_BULK_USERS;
use gatehouse_core::seed::{person, SeedPlan};
use gatehouse_core::{Directory, ErrorCode, UserQuery, UserSort};
use std::collections::HashSet;

const PASSWORD: &str = "correct horse battery staple 7";

fn plan(users: u32, invited: u32, audit_events: u32) -> SeedPlan {
    SeedPlan { users, invited, audit_events, ..SeedPlan::large(PASSWORD) }
}

/// Every page of a query, fetched `limit` at a time, in order.
fn all_pages(dir: &Directory, session: gatehouse_core::SessionId, q: UserQuery) -> Vec<UserView> {
    let mut out = Vec::new();
    loop {
        let page = dir
            .query_users(
                session,
                UserQuery { offset: Some(out.len() as u32), limit: Some(250), ..q.clone() },
            )
            .unwrap();
        let got = page.users.len();
        out.extend(page.users);
        if got == 0 || out.len() as u32 >= page.total {
            return out;
        }
    }
}

#[test]
fn a_seeded_store_verifies_and_its_people_sign_in() {
    let org = Org::new();
    let mut heard = Vec::new();
    org.dir.seed(&plan(2_500, 300, 6_000), |done, total| heard.push((done, total))).unwrap();
    assert_eq!(heard.first(), Some(&(1_000, 2_500)), "progress after each batch");
    assert_eq!(heard.last(), Some(&(2_500, 2_500)));
    let integrity = org.dir.verify().unwrap();
    assert!(integrity.is_intact(), "{:?}", integrity.problems);
    assert_eq!(integrity.users, 2_501, "the generated people and the Owner");
    assert_eq!(integrity.audit_events, 6_000);

    let owner = org.dir.sign_in("owner@example.com", PASSWORD).unwrap().session;
    let page = org.dir.query_users(owner, UserQuery::default()).unwrap();
    // 300 invited; of the other 2,200, every tenth person (n % 10 == 9) is inactive.
    let inactive = (300..2_500).filter(|n| n % 10 == 9).count() as u32;
    assert_eq!((page.invited, page.inactive, page.active), (300, inactive, 2_201 - inactive));

    let (_, email) = person(1_234);
    let member = org.dir.sign_in(&email, PASSWORD).unwrap();
    assert_eq!(member.info.user.status, UserStatus::Active);
}

#[test]
fn paging_through_the_list_matches_a_scan_of_the_store_for_every_filter() {
    let org = Org::new();
    org.dir.seed(&plan(1_500, 100, 0), |_, _| {}).unwrap();
    let owner = org.dir.sign_in("owner@example.com", PASSWORD).unwrap().session;
    let everyone = org.dir.users_unchecked().unwrap();
    let queries = [
        UserQuery::default(),
        UserQuery { status: Some(UserStatus::Inactive), ..Default::default() },
        UserQuery {
            role: Some("reporting".into()),
            search: Some("CHEN".into()),
            ..Default::default()
        },
        UserQuery {
            search: Some("ada.".into()),
            sort: Some(UserSort::Email),
            descending: Some(true),
            ..Default::default()
        },
        UserQuery {
            status: Some(UserStatus::Invited),
            sort: Some(UserSort::Status),
            ..Default::default()
        },
    ];
    for q in queries {
        let got = all_pages(&org.dir, owner, q.clone());
        let needle = q.search.as_deref().map(str::to_lowercase);
        let mut expected: Vec<&UserView> = everyone
            .iter()
            .filter(|u| q.status.is_none_or(|s| s == u.status))
            .filter(|u| q.role.as_ref().is_none_or(|r| u.roles.contains(r)))
            .filter(|u| {
                needle.as_ref().is_none_or(|n| {
                    u.name.to_lowercase().contains(n) || u.email.to_lowercase().contains(n)
                })
            })
            .collect();
        let shown = |u: &UserView| {
            if u.name.is_empty() {
                u.email.to_lowercase()
            } else {
                u.name.to_lowercase()
            }
        };
        let by_name = |a: &&UserView, b: &&UserView| {
            name_order((&shown(a), &a.email.to_lowercase()), (&shown(b), &b.email.to_lowercase()))
        };
        match q.sort {
            Some(UserSort::Email) => expected.sort_by_key(|u| u.email.to_lowercase()),
            _ => expected.sort_by(by_name),
        }
        if q.descending == Some(true) {
            expected.reverse();
        }
        let ids: Vec<_> = got.iter().map(|u| u.id).collect();
        assert!(!ids.is_empty(), "{q:?} matches someone");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "no user twice");
        assert_eq!(ids, expected.iter().map(|u| u.id).collect::<Vec<_>>(), "{q:?}");
        // "Select all N matching" selects exactly the users the pages show, in their order.
        let matching = org.dir.matching_user_ids(owner, q.clone()).unwrap();
        assert_eq!(matching, ids, "the matching ids of {q:?}");
    }
}

#[test]
fn selecting_all_matching_is_refused_beyond_what_one_bulk_request_may_name() {
    let org = Org::new();
    // The Owner and 10,000 people: one more than a bulk request may name.
    org.dir.seed(&plan(MAX_BULK_USERS as u32, 100, 0), |_, _| {}).unwrap();
    let owner = org.dir.sign_in("owner@example.com", PASSWORD).unwrap().session;
    let err = org.dir.matching_user_ids(owner, UserQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooManyUsers);
    assert!(err.to_string().contains("narrow the list"), "{err}");
    // Narrowed, the same list is selectable.
    let invited = UserQuery { status: Some(UserStatus::Invited), ..Default::default() };
    assert_eq!(org.dir.matching_user_ids(owner, invited).unwrap().len(), 100);
}

#[test]
fn selecting_all_matching_needs_users_read() {
    let org = Org::new().with_owner();
    let sam = org.member("sam@example.com", &["system_integrator"]);
    let err = org.dir.matching_user_ids(sam.session, UserQuery::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
    assert_eq!(org.dir.matching_user_ids(org.owner(), UserQuery::default()).unwrap().len(), 2);
    org.verify();
}

#[test]
fn the_list_follows_every_change_and_is_rebuilt_when_the_store_reopens() {
    let org = Org::new().with_owner();
    let amy = org.member("amy@example.com", &["reporting"]);
    org.invite("bob@example.com", &["admin"]);
    let find = |org: &Org, text: &str| {
        let q = UserQuery { search: Some(text.into()), ..Default::default() };
        org.dir.query_users(org.owner(), q).unwrap().users
    };
    org.dir.change_own_name(amy.session, "Amy Zhang").unwrap();
    assert_eq!(find(&org, "zhang")[0].email, "amy@example.com", "a new name is searchable");
    org.dir.deactivate_user(org.owner(), amy.id, None).unwrap();
    assert_eq!(find(&org, "zhang")[0].status, UserStatus::Inactive);
    let bob = find(&org, "bob@")[0].id;
    org.dir.cancel_invitation(org.owner(), bob).unwrap();
    assert!(find(&org, "bob@").is_empty(), "a cancelled invitation leaves the list");
    org.verify();

    // Reopen: the index is built from the store.
    let before = find(&org, "");
    let mut org = org.reopen();
    org.later(chrono::Duration::zero());
    let after = find(&org, "");
    assert_eq!(
        after.iter().map(|u| (&u.email, u.status)).collect::<Vec<_>>(),
        before.iter().map(|u| (&u.email, u.status)).collect::<Vec<_>>()
    );
    org.verify();
}

fn names(users: &[UserView]) -> Vec<&str> {
    users
        .iter()
        .map(|u| if u.name.is_empty() { u.email.as_str() } else { u.name.as_str() })
        .collect()
}

#[test]
fn numbers_in_names_sort_as_numbers_in_pages_and_in_the_full_list() {
    let org = Org::new().with_owner();
    for (n, name) in ["Ada 13920", "ada 2", "Ada 20000", "Ada 1440"].iter().enumerate() {
        let issued = org.invite(&format!("ada{n}@example.com"), &["reporting"]);
        org.accept(&issued, name);
    }
    let q = |descending| UserQuery {
        role: Some("reporting".into()),
        descending: Some(descending),
        ..Default::default()
    };
    let up = org.dir.query_users(org.owner(), q(false)).unwrap().users;
    assert_eq!(names(&up), ["ada 2", "Ada 1440", "Ada 13920", "Ada 20000"]);
    let down = org.dir.query_users(org.owner(), q(true)).unwrap().users;
    assert_eq!(names(&down), ["Ada 20000", "Ada 13920", "Ada 1440", "ada 2"]);
    // The full list (the command line's export, the import's look-up) reads the same order.
    let everyone = org.dir.list_users(org.owner()).unwrap();
    let adas: Vec<&str> =
        names(&everyone).into_iter().filter(|n| n.to_lowercase().starts_with("ada ")).collect();
    assert_eq!(adas, names(&up));
    org.verify();
}

#[test]
fn by_last_sign_in_the_dates_run_either_way_and_never_signed_in_stays_last() {
    let mut org = Org::new().with_owner();
    let member = |org: &Org, email: &str, name: &str| {
        let issued = org.invite(email, &["reporting"]);
        org.accept(&issued, name);
    };
    member(&org, "zed@example.com", "Zed");
    member(&org, "amy@example.com", "Amy");
    org.invite("nina@example.com", &["reporting"]);
    org.invite("ben@example.com", &["reporting"]);
    org.later(chrono::Duration::hours(1));
    org.dir.sign_in("amy@example.com", MEMBER_PASSWORD).unwrap();
    org.later(chrono::Duration::hours(1));
    org.dir.sign_in("zed@example.com", MEMBER_PASSWORD).unwrap();
    let page = |descending| {
        let q = UserQuery {
            role: Some("reporting".into()), // not the Owner, who signs in again as time moves
            sort: Some(UserSort::LastSignIn),
            descending: Some(descending),
            ..Default::default()
        };
        org.dir.query_users(org.owner(), q).unwrap().users
    };
    let up = page(false);
    assert_eq!(names(&up), ["Amy", "Zed", "ben@example.com", "nina@example.com"]);
    let down = page(true);
    assert_eq!(
        names(&down),
        ["Zed", "Amy", "ben@example.com", "nina@example.com"],
        "latest first; the never-signed-in last and still in name order"
    );
    assert!(up[2..].iter().all(|u| u.last_sign_in_at.is_none()));
    assert!(up[0].last_sign_in_at < up[1].last_sign_in_at);
    org.verify();
}
