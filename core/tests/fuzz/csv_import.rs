//! CSV imports, through the entry the app and `gatehouse users import` call
//! (`Directory::import_users_csv`): any bytes end in a report or a typed refusal of the file,
//! a dry run reports every row as the real run then does, and the store still verifies.

use super::mutate::{any_bytes, apply, edits, mutated};
use super::{bytes_target, fuzz};
use crate::support::Org;
use gatehouse_core::{csv_io, ImportReport, RoleInput, SessionId};
use proptest::prelude::*;
use std::cell::{Cell, RefCell};

/// A store with an Owner, an Admin (who may not grant Owner), an invited user and a custom
/// role, as an import meets them.
struct Fixture {
    org: Org,
    admin: SessionId,
}

impl Fixture {
    fn new() -> Self {
        let org = Org::new().with_owner();
        let role = RoleInput {
            key: Some("support".into()),
            name: "Support".into(),
            description: String::new(),
            permissions: vec![],
        };
        org.dir.create_role(org.owner(), role).expect("a custom role");
        org.invite("taken@example.com", &["support"]);
        let admin = org.member("admin@example.com", &["admin"]).session;
        Fixture { org, admin }
    }
}

/// Real runs before the store is made afresh (it grows with each).
const REAL_RUNS_PER_STORE: u32 = 100;

#[test]
fn csv_imports_never_panic_or_stall() {
    let fixture = RefCell::new(Fixture::new());
    let real_runs = Cell::new(0u32);
    fuzz(&bytes_target("csv_import"), strategy, |bytes| {
        if real_runs.get() >= REAL_RUNS_PER_STORE {
            fixture.replace(Fixture::new());
            real_runs.set(0);
        }
        let fx = fixture.borrow();
        // The Admin imports now and then: rows granting Owner are refused for them.
        let who = if bytes.len() % 3 == 0 { fx.admin } else { fx.org.owner() };
        let dry = match import(&fx.org, who, bytes, true)? {
            Ok(report) => report,
            Err(refused) => return Ok(refused),
        };
        // A real run of small files: it must do what the dry run said, and keep the store whole.
        let small = bytes.len() <= 2048
            && csv_io::read(bytes).is_ok_and(|t| t.records.len() <= 12)
            && bytes.len() % 4 != 1;
        if !small {
            return Ok("dry run".into());
        }
        real_runs.set(real_runs.get() + 1);
        let real = import(&fx.org, who, bytes, false)?.map_err(|e| format!("real run: {e}"))?;
        let said: Vec<_> = dry.rows.iter().map(|r| (r.line, r.outcome)).collect();
        let done: Vec<_> = real.rows.iter().map(|r| (r.line, r.outcome)).collect();
        if said != done {
            return Err(format!("the dry run said {said:?}, the real run did {done:?}"));
        }
        let integrity = fx.org.dir.verify().map_err(|e| e.to_string())?;
        if !integrity.is_intact() {
            return Err(format!("the store no longer verifies: {:?}", integrity.problems));
        }
        Ok(format!("real run ({} invited)", real.invited.min(1)))
    });
}

/// One import, with its report's own arithmetic and progress checked: `Err` when a rule is
/// broken, `Ok(Err(code))` when the file is refused.
fn import(
    org: &Org,
    who: SessionId,
    bytes: &[u8],
    dry_run: bool,
) -> Result<Result<ImportReport, String>, String> {
    let heard = RefCell::new(Vec::new());
    let report = match org.dir.import_users_csv(who, bytes, dry_run, None, |done, all| {
        heard.borrow_mut().push((done, all))
    }) {
        Ok(report) => report,
        Err(e) => return Ok(Err(format!("{:?}", e.code()))),
    };
    let rows = report.rows.len() as u32;
    if report.invited + report.skipped != rows {
        return Err(format!(
            "{} invited + {} skipped != {rows} rows",
            report.invited, report.skipped
        ));
    }
    let heard = heard.into_inner();
    if heard.windows(2).any(|w| w[0].0 > w[1].0) || heard.iter().any(|(d, all)| d > all) {
        return Err(format!("progress went backwards or past the end: {heard:?}"));
    }
    Ok(Ok(report))
}

fn strategy(corpus: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => any_bytes(),
        4 => csv_file(),
        3 => (csv_file(), edits()).prop_map(|(f, e)| apply(f, &e)),
        3 => mutated(corpus),
    ]
    .boxed()
}

/// Cells a person's spreadsheet may hold, and some it should not.
const CELLS: &[&str] = &[
    "ann@example.com",
    "Ann.Lee@Example.COM",
    "olivia.owner@example.com",
    "taken@example.com",
    "TAKEN@example.com",
    "admin@example.com",
    "jos\u{e9}@example.com",
    "jose\u{301}@example.com",
    "Ann <ann@example.com>",
    "ann@localhost",
    "a b@example.com",
    "@",
    "owner",
    "admin",
    "support",
    "admin;support",
    "owner;admin",
    "nosuchrole",
    ";;;",
    "Ann Lee",
    "Bell\u{7}",
    "\u{202e}evil",
    "=HYPERLINK(\"x\")",
    "\"",
    "\"\"",
    "\"a\nb\"",
    "\"unclosed",
    "\0",
    " ",
    "\u{feff}",
];

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(CELLS).prop_map(str::to_string),
        3 => "[a-z]{1,6}(\\.[a-z]{1,4})?@[a-z]{1,6}\\.(com|org|io)",
        2 => ".{0,24}",
        1 => (1..400usize).prop_map(|n| format!("{}@example.com", "x".repeat(n))),
        1 => ".{0,8}".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
    ]
}

const HEADERS: &[&str] = &[
    "email,name,roles",
    "Email;Name;Roles",
    "\u{feff}email,name,roles",
    " EMAIL , Name ,ROLES",
    "name,roles,email",
    "email",
    "roles;email",
    "email,email,roles",
    "e-mail,name,roles",
    "",
    "\"email\",\"name\",\"roles\"",
];

/// A CSV file built from headers, delimiters, cells and line ends.
fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let roles =
        prop::sample::select(vec!["admin", "support", "reporting", "owner", "admin;support", ""]);
    let valid = ("[a-z]{1,8}@[a-z]{1,8}\\.com", "[A-Z][a-z]{1,8}", roles)
        .prop_map(|(email, name, roles)| vec![email, name, format!("\"{roles}\"")]);
    let cells = prop_oneof![prop::collection::vec(cell(), 0..5), valid];
    let row = (cells, prop::sample::select(vec![",", ",", ";", "\t"]));
    let end = prop::sample::select(vec!["\r\n", "\n", "\r", ""]);
    (prop::sample::select(HEADERS), prop::collection::vec((row, end.clone()), 0..12), end).prop_map(
        |(header, rows, end)| {
            let mut text = format!("{header}{end}");
            for ((cells, sep), end) in rows {
                text.push_str(&cells.join(sep));
                text.push_str(end);
            }
            text.into_bytes()
        },
    )
}
