//! The in-memory index of users that the list and search read, so that a page out of 100,000
//! users needs neither a scan of the store nor decoding every record. Built when the store
//! opens and kept in step by [`super::Store::write`] after each committed transaction.

use crate::model::name_order::name_order;
use crate::model::role::OWNER;
use crate::model::{RoleKey, User, UserId, UserStatus};
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// Text shared between the order, the id map and the entry (and, for role keys, between all
/// holders): a hundred thousand users hold one copy of each.
pub type Text = Arc<str>;

/// What the list needs of one user to filter and sort.
#[derive(Debug, Clone)]
pub struct UserEntry {
    pub id: UserId,
    /// The name as shown, lower-cased: the name, or the email while there is none.
    pub shown: Text,
    /// Normalized email.
    pub email: Text,
    /// Whether `shown` is a name (searched with the email) rather than the email again.
    named: bool,
    pub status: UserStatus,
    pub roles: Box<[Text]>,
    /// One bit per role (see [`UserIndex::select`]): the role filter reads no heap.
    pub role_bits: u128,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// What the dormant-account rule counts from (see [`crate::ops::governance::last_seen`]).
    pub last_seen: Option<DateTime<Utc>>,
    pub access_until: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    /// Whether they have an authenticator app enrolled.
    pub second_factor: bool,
}

/// Position in name order: shown name, then email (unique), so the order is total; both in
/// natural order ([`name_order`]), compared in place, so the key holds no more than the two
/// shared texts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NameKey {
    shown: Text,
    email: Text,
}

impl Ord for NameKey {
    fn cmp(&self, other: &Self) -> Ordering {
        name_order((&self.shown, &self.email), (&other.shown, &other.email))
    }
}

impl PartialOrd for NameKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
pub struct UserIndex {
    by_name: BTreeMap<NameKey, UserEntry>,
    keys: HashMap<UserId, NameKey>,
    /// The bit of each role key seen, for the first 128 keys; later keys are tested by name.
    role_bits: HashMap<RoleKey, u128>,
    /// One copy of each role key.
    role_keys: HashSet<Text>,
    /// Active users holding Owner: the last-Owner rule counts them on every change.
    active_owners: HashSet<UserId>,
    /// The list's fields in name order, built on the first read after a change of order.
    columns: OnceLock<Columns>,
}

/// What a filter reads of every user, in name order, one vector per field: a page or a search
/// reads a few megabytes front to back instead of visiting a hundred thousand tree nodes.
/// Built on the first read, then kept in step: a change of status or roles is written in
/// place, and a user added, removed or renamed moves within the vectors (a few megabytes
/// moved, where building them again walks the whole tree).
#[derive(Debug, Default, PartialEq)]
struct Columns {
    ids: Vec<UserId>,
    status: Vec<UserStatus>,
    bits: Vec<u128>,
    second_factor: Vec<bool>,
    /// The users' search texts joined, `\0` between them, so a search runs once over one
    /// buffer.
    text: Vec<u8>,
    /// Where each user's text ends in `text`.
    ends: Vec<usize>,
}

/// The users a filter keeps, as positions in name order, with counts by status (role and
/// search applied, whatever the status filter).
#[derive(Debug, Default)]
pub struct Selection {
    pub positions: Vec<usize>,
    pub active: u32,
    pub inactive: u32,
    pub invited: u32,
}

impl UserEntry {
    fn of(user: &User, bits: &mut HashMap<RoleKey, u128>, keys: &mut HashSet<Text>) -> Self {
        let mut role_bits = 0;
        for role in &user.roles {
            let next = bits.len();
            if let Some(bit) = bits.get(role) {
                role_bits |= bit;
            } else if next < 128 {
                bits.insert(role.clone(), 1u128 << next);
                role_bits |= 1u128 << next;
            }
        }
        let name = user.name.to_lowercase();
        let email: Text = user.email.key().into();
        let roles = user
            .roles
            .iter()
            .map(|role| match keys.get(role.as_str()) {
                Some(key) => key.clone(),
                None => {
                    let key: Text = role.as_str().into();
                    keys.insert(key.clone());
                    key
                }
            })
            .collect();
        UserEntry {
            id: user.id,
            named: !name.is_empty(),
            shown: if name.is_empty() { email.clone() } else { name.into() },
            email,
            status: user.status,
            roles,
            role_bits,
            last_sign_in_at: user.last_sign_in_at,
            last_seen: crate::ops::governance::last_seen(user),
            access_until: user.access_until,
            updated_at: user.updated_at,
            second_factor: user.factors.totp.is_some(),
        }
    }

    /// Everything but the role bits, whose numbering depends on the order roles were first
    /// seen (see [`UserIndex::consistent`]).
    fn same_as(&self, other: &UserEntry) -> bool {
        (
            self.id,
            &self.shown,
            &self.email,
            self.named,
            self.status,
            &self.roles,
            self.last_sign_in_at,
            self.last_seen,
            self.access_until,
            self.updated_at,
            self.second_factor,
        ) == (
            other.id,
            &other.shown,
            &other.email,
            other.named,
            other.status,
            &other.roles,
            other.last_sign_in_at,
            other.last_seen,
            other.access_until,
            other.updated_at,
            other.second_factor,
        )
    }

    fn key(&self) -> NameKey {
        NameKey { shown: self.shown.clone(), email: self.email.clone() }
    }

    pub fn active_owner(&self) -> bool {
        self.status == UserStatus::Active && self.holds(OWNER)
    }

    pub fn holds(&self, role: &str) -> bool {
        self.roles.iter().any(|r| **r == *role)
    }

    /// Lower-cased name and email, for search.
    fn search_text(&self) -> (&str, &str) {
        (if self.named { &self.shown } else { "" }, &self.email)
    }
}

impl Columns {
    fn build<'a>(entries: impl Iterator<Item = &'a UserEntry>) -> Self {
        let mut columns = Columns::default();
        for entry in entries {
            columns.insert(columns.ids.len(), entry);
        }
        columns
    }

    /// Where the user named `key` is, or would go, in name order.
    fn position(&self, keys: &HashMap<UserId, NameKey>, key: &NameKey) -> usize {
        self.ids.partition_point(|id| keys.get(id).is_some_and(|k| k < key))
    }

    fn insert(&mut self, at: usize, entry: &UserEntry) {
        self.ids.insert(at, entry.id);
        self.status.insert(at, entry.status);
        self.bits.insert(at, entry.role_bits);
        self.second_factor.insert(at, entry.second_factor);
        let (name, email) = entry.search_text();
        let text = [name.as_bytes(), b"\n", email.as_bytes(), b"\0"].concat();
        let start = if at == 0 { 0 } else { self.ends[at - 1] + 1 };
        self.text.splice(start..start, text.iter().copied());
        self.ends.insert(at, start + text.len() - 1);
        for end in &mut self.ends[at + 1..] {
            *end += text.len();
        }
    }

    fn remove(&mut self, at: usize) {
        self.ids.remove(at);
        self.status.remove(at);
        self.bits.remove(at);
        self.second_factor.remove(at);
        let start = if at == 0 { 0 } else { self.ends[at - 1] + 1 };
        let len = self.ends.remove(at) + 1 - start;
        self.text.drain(start..start + len);
        for end in &mut self.ends[at..] {
            *end -= len;
        }
    }

    /// For each user in name order, whether their search text contains `needle` (lower-case).
    fn matching(&self, needle: &str) -> Vec<bool> {
        let mut found = vec![false; self.ends.len()];
        if needle.is_empty() || needle.contains('\0') {
            found.fill(needle.is_empty());
            return found;
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let (mut from, mut user) = (0, 0);
        while let Some(at) = finder.find(&self.text[from..]).map(|i| from + i) {
            user += self.ends[user..].partition_point(|&end| end <= at);
            if let Some(hit) = found.get_mut(user) {
                *hit = true;
            }
            from = self.ends.get(user).map_or(self.text.len(), |end| end + 1);
            user += 1;
            if from >= self.text.len() {
                break;
            }
        }
        found
    }
}

impl UserIndex {
    pub fn build(users: impl IntoIterator<Item = User>) -> Self {
        Self::try_build(users.into_iter().map(Ok::<_, std::convert::Infallible>))
            .unwrap_or_else(|never| match never {})
    }

    /// As [`UserIndex::build`], from users as they are read (the first error stops it).
    pub fn try_build<E>(users: impl IntoIterator<Item = Result<User, E>>) -> Result<Self, E> {
        let mut index = UserIndex::default();
        let mut entries = Vec::new();
        for user in users {
            entries.push(index.entry(&user?));
        }
        index.fill(entries);
        Ok(index)
    }

    fn entry(&mut self, user: &User) -> UserEntry {
        UserEntry::of(user, &mut self.role_bits, &mut self.role_keys)
    }

    /// Fills an empty index with `entries` (one per user) at once: sorting them in one vector
    /// is several times faster than inserting a hundred thousand one by one.
    fn fill(&mut self, entries: Vec<UserEntry>) {
        for entry in &entries {
            if entry.active_owner() {
                self.active_owners.insert(entry.id);
            }
            self.keys.insert(entry.id, entry.key());
        }
        self.by_name = entries.into_iter().map(|entry| (entry.key(), entry)).collect();
        self.columns = OnceLock::new();
    }

    pub fn put(&mut self, user: &User) {
        let entry = self.entry(user);
        let owner = entry.active_owner();
        match self.keys.get(&user.id).cloned() {
            // Same name and email: same place in the order, same search text.
            Some(key)
                if self
                    .by_name
                    .get(&key)
                    .is_some_and(|old| old.search_text() == entry.search_text()) =>
            {
                if let Some(at) = self.position_of(user.id, &key) {
                    if let Some(columns) = self.columns.get_mut() {
                        columns.status[at] = entry.status;
                        columns.bits[at] = entry.role_bits;
                        columns.second_factor[at] = entry.second_factor;
                    }
                }
                self.by_name.insert(key, entry);
            }
            _ => {
                self.remove(user.id);
                let key = entry.key();
                if let Some(columns) = self.columns.get_mut() {
                    let at = columns.position(&self.keys, &key);
                    columns.insert(at, &entry);
                }
                self.keys.insert(user.id, key.clone());
                self.by_name.insert(key, entry);
            }
        }
        if owner {
            self.active_owners.insert(user.id);
        } else {
            self.active_owners.remove(&user.id);
        }
    }

    pub fn remove(&mut self, id: UserId) {
        let Some(key) = self.keys.get(&id).cloned() else { return };
        if let Some(at) = self.position_of(id, &key) {
            if let Some(columns) = self.columns.get_mut() {
                columns.remove(at);
            }
        }
        self.keys.remove(&id);
        self.active_owners.remove(&id);
        self.by_name.remove(&key);
    }

    /// The user's position in the columns, when they are built. Columns that lost track of
    /// the user (which `verify()` would report) are let go, to be built again.
    fn position_of(&mut self, id: UserId, key: &NameKey) -> Option<usize> {
        let columns = self.columns.get_mut()?;
        let at = columns.position(&self.keys, key);
        if columns.ids.get(at) == Some(&id) {
            return Some(at);
        }
        self.columns = OnceLock::new();
        None
    }

    /// Lets go of the columns, to be built again on the next read: cheaper than moving a few
    /// megabytes for each of many users changed at once.
    pub fn forget_columns(&mut self) {
        self.columns = OnceLock::new();
    }

    fn columns(&self) -> &Columns {
        self.columns.get_or_init(|| Columns::build(self.by_name.values()))
    }

    /// The users holding `role` (a key), with `status`, whose name or email contains `search`
    /// (lower-case), and (with `no_second_factor`) who have no second factor, in name order.
    pub fn select(
        &self,
        status: Option<UserStatus>,
        role: Option<&str>,
        search: Option<&str>,
        no_second_factor: bool,
        keep: Option<&dyn Fn(&UserEntry) -> bool>,
    ) -> Selection {
        let columns = self.columns();
        let kept: Option<Vec<bool>> = keep.map(|keep| self.in_name_order().map(keep).collect());
        let bit = role.and_then(|r| self.role_bits.get(r).copied());
        // Roles past the first 128 have no bit: their holders are found by name.
        let holders: Option<Vec<bool>> = role
            .filter(|_| bit.is_none())
            .map(|role| self.in_name_order().map(|e| e.holds(role)).collect());
        let found = search.map(|s| columns.matching(s));
        let mut selection = Selection::default();
        for (at, &user_status) in columns.status.iter().enumerate() {
            if bit.is_some_and(|b| columns.bits[at] & b == 0)
                || holders.as_ref().is_some_and(|h| !h[at])
                || found.as_ref().is_some_and(|f| !f[at])
                || (no_second_factor && columns.second_factor[at])
                || kept.as_ref().is_some_and(|k| !k[at])
            {
                continue;
            }
            match user_status {
                UserStatus::Active => selection.active += 1,
                UserStatus::Inactive => selection.inactive += 1,
                UserStatus::Invited => selection.invited += 1,
            }
            if status.is_none_or(|s| s == user_status) {
                selection.positions.push(at);
            }
        }
        selection
    }

    /// How many Active users without a second factor hold one of `roles`: in all (each user
    /// once), and for each role in the order given.
    pub fn active_without_second_factor(&self, roles: &[&str]) -> (u32, Vec<u32>) {
        let mut by_role = vec![0; roles.len()];
        let mut all = 0;
        for entry in self.in_name_order() {
            if entry.status != UserStatus::Active || entry.second_factor {
                continue;
            }
            let mut counted = false;
            for (n, role) in roles.iter().enumerate() {
                if entry.holds(role) {
                    by_role[n] += 1;
                    counted = true;
                }
            }
            all += u32::from(counted);
        }
        (all, by_role)
    }

    /// How many Active users hold Owner.
    pub fn active_owner_count(&self) -> usize {
        self.active_owners.len()
    }

    /// The user at this position in name order.
    pub fn id_at(&self, at: usize) -> Option<UserId> {
        self.columns().ids.get(at).copied()
    }

    /// The Active Owners.
    pub fn active_owner_ids(&self) -> Vec<UserId> {
        self.active_owners.iter().copied().collect()
    }

    /// Active Owners other than `except`.
    pub fn active_owners_except(&self, except: UserId) -> usize {
        self.active_owners.len() - usize::from(self.active_owners.contains(&except))
    }

    /// Whether this index lists the same users, in the same order, with the same fields.
    pub fn same_as(&self, other: &UserIndex) -> bool {
        self.len() == other.len()
            && self.in_name_order().zip(other.in_name_order()).all(|(a, b)| a.same_as(b))
    }

    /// Whether what is derived from the entries agrees with them: each entry's role bits are
    /// exactly the bits of its roles, the Active Owners are those entries, and the columns
    /// (when built) hold the entries in order.
    pub fn consistent(&self) -> bool {
        let bits = self.in_name_order().all(|e| {
            let expected =
                e.roles.iter().filter_map(|r| self.role_bits.get(&**r)).fold(0, |all, b| all | b);
            e.role_bits == expected
        });
        let owners: HashSet<UserId> =
            self.in_name_order().filter(|e| e.active_owner()).map(|e| e.id).collect();
        let columns =
            self.columns.get().is_none_or(|c| *c == Columns::build(self.by_name.values()));
        bits && owners == self.active_owners && columns
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every user, by shown name then email, in natural order (see [`name_order`]).
    pub fn in_name_order(&self) -> impl DoubleEndedIterator<Item = &UserEntry> {
        self.by_name.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Email;

    fn user(name: &str, email: &str) -> User {
        let now = chrono::DateTime::UNIX_EPOCH;
        User {
            id: uuid::Uuid::now_v7(),
            name: name.into(),
            email: Email::parse(email).expect("email"),
            status: UserStatus::Active,
            roles: vec!["admin".into()],
            created_at: now,
            updated_at: now,
            activated_at: None,
            deactivated_at: None,
            last_sign_in_at: None,
            password_hash: None,
            previous_hashes: vec![],
            invitation_id: None,
            reset_id: None,
            factors: Default::default(),
            access_until: None,
            reactivated_at: None,
        }
    }

    #[test]
    fn keeps_name_order_across_renames_and_removals() {
        let mut a = user("Zoe", "zoe@example.com");
        let b = user("", "adam@example.com");
        let c = user("mia", "mia@example.com");
        let mut index = UserIndex::build([a.clone(), b.clone(), c.clone()]);
        let order = |i: &UserIndex| i.in_name_order().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(order(&index), vec![b.id, c.id, a.id]);
        a.name = "Aaron".into();
        index.put(&a);
        assert_eq!(order(&index), vec![a.id, b.id, c.id]);
        index.remove(b.id);
        assert_eq!(order(&index), vec![a.id, c.id]);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn numbers_in_names_sort_as_numbers_in_the_order_and_the_columns() {
        let names = ["Ada 20000", "ada 13920", "Ada 1440", "Ada 2", "Ben 10", "Ada 1440"];
        let mut users: Vec<User> = names
            .iter()
            .enumerate()
            .map(|(n, name)| user(name, &format!("u{}@example.com", 10 - n)))
            .collect();
        let mut index = UserIndex::build(users.clone());
        let order = |i: &UserIndex| i.in_name_order().map(|e| e.id).collect::<Vec<_>>();
        let by = |picks: &[usize], users: &[User]| -> Vec<UserId> {
            picks.iter().map(|&n| users[n].id).collect()
        };
        // The two "Ada 1440" by email, also naturally: u5 before u8.
        assert_eq!(order(&index), by(&[3, 5, 2, 1, 0, 4], &users));
        let all = index.select(None, None, None, false, None);
        assert_eq!(ids(&index, all), order(&index), "the columns in the same order");

        // A rename finds its place in the built columns by the same order.
        users[4].name = "Ada 100".into();
        index.put(&users[4]);
        assert!(index.columns.get().is_some());
        assert_eq!(order(&index), by(&[3, 4, 5, 2, 1, 0], &users));
        let all = index.select(None, None, None, false, None);
        assert_eq!(ids(&index, all), order(&index));
        index.remove(users[2].id);
        assert!(index.consistent());
        assert!(
            index.same_as(&UserIndex::build(users.iter().filter(|u| u.id != users[2].id).cloned()))
        );
    }

    fn ids(index: &UserIndex, selection: Selection) -> Vec<UserId> {
        selection.positions.iter().filter_map(|&at| index.id_at(at)).collect()
    }

    #[test]
    fn roles_past_the_128_bits_are_still_found_by_key() {
        let users: Vec<User> = (0..130)
            .map(|n| User {
                roles: vec![format!("r{n}")],
                ..user("", &format!("u{n}@example.com"))
            })
            .collect();
        let index = UserIndex::build(users.clone());
        for (n, u) in users.iter().enumerate() {
            assert_eq!(index.role_bits.contains_key(&u.roles[0]), n < 128);
            let holders = ids(&index, index.select(None, Some(&u.roles[0]), None, false, None));
            assert_eq!(holders, vec![u.id], "role r{n}");
        }
        assert!(index.select(None, Some("nobody"), None, false, None).positions.is_empty());
        assert!(index.consistent());
    }

    #[test]
    fn status_and_role_changes_are_written_in_place_and_owners_are_counted() {
        let mut olivia = User { roles: vec![OWNER.into()], ..user("Olivia", "olivia@example.com") };
        let mut ben = user("Ben", "ben@example.com");
        let mut index = UserIndex::build([olivia.clone(), ben.clone()]);
        assert_eq!(index.active_owners_except(ben.id), 1);
        assert_eq!(index.active_owners_except(olivia.id), 0);
        let admins = index.select(Some(UserStatus::Active), Some("admin"), None, false, None);
        assert_eq!((ids(&index, admins), index.columns.get().is_some()), (vec![ben.id], true));

        ben.roles = vec![OWNER.into()];
        index.put(&ben);
        assert!(index.columns.get().is_some(), "same name and email: the columns stay");
        assert_eq!(index.active_owners_except(olivia.id), 1);
        let owners = index.select(None, Some(OWNER), None, false, None);
        assert_eq!(ids(&index, owners), vec![ben.id, olivia.id]);
        olivia.status = UserStatus::Inactive;
        index.put(&olivia);
        let active = index.select(Some(UserStatus::Active), None, None, false, None);
        assert_eq!((active.active, active.inactive), (1, 1));
        assert_eq!(ids(&index, active), vec![ben.id]);
        assert_eq!(index.active_owners_except(olivia.id), 1);
        assert_eq!(index.active_owners_except(ben.id), 0);
        assert!(index.consistent());

        ben.name = "Zed".into();
        index.put(&ben);
        assert!(index.columns.get().is_some(), "a rename moves the user within the columns");
        let all = index.select(None, None, None, false, None);
        assert_eq!(ids(&index, all), vec![olivia.id, ben.id]);
        assert!(index.consistent());
        index.remove(ben.id);
        assert_eq!(index.active_owners_except(olivia.id), 0);
        assert!(index.consistent());
    }

    #[test]
    fn the_columns_follow_adds_renames_and_removals_as_a_fresh_build_would() {
        let names = ["", "ann", "Bob", "zed", "mia", "Ann", "carl", ""];
        let mut users: Vec<User> = (0..40)
            .map(|n| user(names[n % names.len()], &format!("u{}@example.com", (n * 7) % 40)))
            .collect();
        let mut index = UserIndex::build(users.iter().take(20).cloned());
        let _ = index.select(None, None, Some("u1"), false, None);
        for step in 0..200usize {
            let n = (step * 13 + 5) % users.len();
            match step % 4 {
                0 => users[n].name = names[step % names.len()].to_string(),
                1 => users[n].status = UserStatus::Inactive,
                2 => users[n].roles = vec![OWNER.into()],
                _ => {
                    index.remove(users[n].id);
                    assert!(index.consistent(), "step {step}: remove");
                    continue;
                }
            }
            index.put(&users[n]);
            assert!(index.columns.get().is_some());
            assert!(index.consistent(), "step {step}");
        }
        let rebuilt = UserIndex::build(
            index
                .in_name_order()
                .map(|e| users.iter().find(|u| u.id == e.id).cloned().expect("a user")),
        );
        assert!(index.same_as(&rebuilt));
    }

    #[test]
    fn search_finds_each_user_whose_text_holds_the_needle_and_follows_changes() {
        let mut ann = user("Ann Annson", "ann@example.com");
        let bob = user("Bob", "bob@annex.example");
        let cy = user("Cy", "cy@example.com");
        let mut index = UserIndex::build([ann.clone(), bob.clone(), cy.clone()]);
        let hits =
            |i: &UserIndex, needle: &str| ids(i, i.select(None, None, Some(needle), false, None));
        assert_eq!(
            hits(&index, "ann"),
            vec![ann.id, bob.id],
            "several hits in one user count once"
        );
        assert_eq!(hits(&index, "example.com"), vec![ann.id, cy.id]);
        assert_eq!(hits(&index, "n\nann@"), vec![ann.id], "name and email are one text");
        assert_eq!(hits(&index, "zed"), Vec::<UserId>::new());
        assert_eq!(hits(&index, "m\0c"), Vec::<UserId>::new(), "never across two users");
        ann.name = "Zed".into();
        index.put(&ann);
        assert_eq!(hits(&index, "zed"), vec![ann.id], "a rename is searchable at once");
        index.remove(bob.id);
        assert_eq!(hits(&index, "annex"), Vec::<UserId>::new());
    }
}
