//! Large stores: the seed generator and the in-memory list index that pages through them.

use crate::support::Org;
use gatehouse_core::model::{UserStatus, UserView};
use gatehouse_core::seed::{person, SeedPlan};
use gatehouse_core::{Directory, UserQuery, UserSort};
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
        match q.sort {
            Some(UserSort::Email) => expected.sort_by_key(|u| u.email.to_lowercase()),
            _ => expected.sort_by_key(|u| (shown(u), u.email.to_lowercase())),
        }
        if q.descending == Some(true) {
            expected.reverse();
        }
        let ids: Vec<_> = got.iter().map(|u| u.id).collect();
        assert!(!ids.is_empty(), "{q:?} matches someone");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "no user twice");
        assert_eq!(ids, expected.iter().map(|u| u.id).collect::<Vec<_>>(), "{q:?}");
    }
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
