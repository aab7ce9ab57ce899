use crate::support::{setup_input, Org, OWNER_EMAIL};
use gatehouse_core::model::{Action, Module, UserStatus};
use gatehouse_core::ErrorCode;

#[test]
fn setup_creates_the_org_and_an_active_owner_who_is_signed_in() {
    let org = Org::new();
    assert!(!org.dir.is_set_up().unwrap());
    let signed_in = org.dir.setup(setup_input()).unwrap();
    assert!(org.dir.is_set_up().unwrap());
    assert_eq!(signed_in.info.organization, "Acme Payments");
    assert_eq!(signed_in.info.user.email, OWNER_EMAIL);
    assert_eq!(signed_in.info.user.status, UserStatus::Active);
    assert_eq!(signed_in.info.user.roles, vec!["owner".to_string()]);
    assert!(signed_in
        .info
        .permissions
        .iter()
        .any(|p| p.module == Module::Users && p.action == Action::Create));
    let users = org.dir.list_users(signed_in.session).unwrap();
    assert_eq!(users.len(), 1);
    org.verify();
}

#[test]
fn setup_runs_only_once() {
    let org = Org::new().with_owner();
    let mut again = setup_input();
    again.email = "someone.else@example.com".into();
    assert_eq!(org.dir.setup(again).unwrap_err().code(), ErrorCode::AlreadySetUp);
    assert_eq!(org.dir.list_users(org.owner()).unwrap().len(), 1);
    org.verify();
}

#[test]
fn setup_survives_a_restart_and_still_refuses_a_second_run() {
    let org = Org::new().with_owner().reopen();
    assert!(org.dir.is_set_up().unwrap());
    assert_eq!(org.dir.setup(setup_input()).unwrap_err().code(), ErrorCode::AlreadySetUp);
    org.verify();
}

#[test]
fn bad_setup_input_is_refused_with_its_code_and_changes_nothing() {
    let org = Org::new();
    let cases = [
        (|i: &mut gatehouse_core::SetupInput| i.organization = "  ".into()) as fn(&mut _),
        |i| i.name = "x".repeat(101),
        |i| i.email = "not-an-email".into(),
        |i| i.password = "short".into(),
        |i| i.password = "passwordpassword1".into(),
        |i| i.password = "correct horse battery staple".into(),
    ];
    let codes = [
        ErrorCode::InvalidName,
        ErrorCode::InvalidName,
        ErrorCode::InvalidEmail,
        ErrorCode::PasswordTooShort,
        ErrorCode::WeakPassword,
        ErrorCode::PasswordNeedsLetterAndDigit,
    ];
    for (change, code) in cases.iter().zip(codes) {
        let mut input = setup_input();
        change(&mut input);
        assert_eq!(org.dir.setup(input).unwrap_err().code(), code);
        assert!(!org.dir.is_set_up().unwrap());
    }
    let integrity = org.dir.verify().unwrap();
    assert_eq!(integrity.audit_events, 0, "a refused setup records nothing");
    org.verify();
}

#[test]
fn the_owner_reads_the_five_built_in_roles() {
    let org = Org::new().with_owner();
    let roles = org.dir.list_roles(org.owner()).unwrap();
    let keys: Vec<&str> = roles.iter().map(|r| r.role.key.as_str()).collect();
    assert_eq!(keys, ["owner", "admin", "system_integrator", "payment_management", "reporting"]);
    assert!(roles.iter().all(|r| r.role.built_in));
    assert_eq!(roles[0].members, 1, "Olivia holds Owner");
    org.verify();
}

#[test]
fn the_list_filters_by_status_role_and_search_sorts_and_pages() {
    use gatehouse_core::{UserQuery, UserSort};
    let org = Org::new().with_owner();
    org.member("zed@example.com", &["reporting"]);
    org.member("amy@example.com", &["admin"]);
    org.invite("bob@example.com", &["reporting"]);
    let page = |q: UserQuery| org.dir.query_users(org.owner(), q).unwrap();
    let all = page(UserQuery::default());
    assert_eq!((all.total, all.active, all.inactive, all.invited), (4, 3, 0, 1));
    let reporting = page(UserQuery { role: Some("reporting".into()), ..Default::default() });
    let emails: Vec<&str> = reporting.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        ["bob@example.com", "zed@example.com"],
        "Invited Bob sorts by email, Zed by name Member"
    );
    let invited = page(UserQuery { status: Some(UserStatus::Invited), ..Default::default() });
    assert_eq!((invited.total, invited.active), (1, 3), "tab counts ignore the status filter");
    let search = page(UserQuery { search: Some("AMY@".into()), ..Default::default() });
    assert_eq!(search.total, 1);
    let by_email = page(UserQuery {
        sort: Some(UserSort::Email),
        descending: Some(true),
        offset: Some(1),
        limit: Some(2),
        ..Default::default()
    });
    let emails: Vec<&str> = by_email.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["Olivia.Owner@Example.com", "bob@example.com"]);
    org.verify();
}
