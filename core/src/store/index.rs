//! The in-memory index of users that the list and search read, so that a page out of 100,000
//! users needs neither a scan of the store nor decoding every record. Built when the store
//! opens and kept in step by [`super::Store::write`] after each committed transaction.
//!
//! It is a few vectors in name order, one per field, so that a hundred thousand users take
//! about 13 MB: a filter reads its fields front to back, a change of status or roles is
//! written in place, and a user added, removed or renamed moves within the vectors (a few
//! megabytes moved). Many users changed at once are put in order again in one sort.

use crate::model::name_order::name_order;
use crate::model::role::OWNER;
use crate::model::{RoleKey, User, UserId, UserStatus};
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A role key, one copy for all its holders.
pub type Text = Arc<str>;

/// What the list needs of one user to filter and sort: one row of the index.
#[derive(Debug, Clone, Copy)]
pub struct UserEntry<'a> {
    pub id: UserId,
    /// The name as shown, lower-cased: the name, or the email while there is none.
    pub shown: &'a str,
    /// Normalized email.
    pub email: &'a str,
    pub status: UserStatus,
    pub roles: &'a [Text],
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

impl UserEntry<'_> {
    pub fn active_owner(&self) -> bool {
        self.status == UserStatus::Active && self.holds(OWNER)
    }

    pub fn holds(&self, role: &str) -> bool {
        self.roles.iter().any(|r| **r == *role)
    }

    /// Everything but the role bits, whose numbering depends on the order roles were first
    /// seen (see [`UserIndex::consistent`]).
    fn same_as(&self, other: &UserEntry) -> bool {
        (
            self.id,
            self.shown,
            self.email,
            self.status,
            self.roles,
            self.last_sign_in_at,
            self.last_seen,
            self.access_until,
            self.updated_at,
            self.second_factor,
        ) == (
            other.id,
            other.shown,
            other.email,
            other.status,
            other.roles,
            other.last_sign_in_at,
            other.last_seen,
            other.access_until,
            other.updated_at,
            other.second_factor,
        )
    }
}

/// The fields only some reads need.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Details {
    /// Which of [`UserIndex::role_sets`] the user holds.
    roles: u32,
    last_sign_in_at: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    access_until: Option<NaiveDate>,
    updated_at: DateTime<Utc>,
}

/// One user before it has its place in the vectors.
struct Row {
    id: UserId,
    status: UserStatus,
    bits: u128,
    second_factor: bool,
    details: Details,
    /// Lower-cased name, empty when there is none.
    name: String,
    email: String,
}

impl Row {
    fn shown(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

#[derive(Debug, Default)]
pub struct UserIndex {
    ids: Vec<UserId>,
    status: Vec<UserStatus>,
    bits: Vec<u128>,
    second_factor: Vec<bool>,
    details: Vec<Details>,
    /// Each user's lower-cased name (empty when none), `\n`, their email and `\0`, joined: the
    /// name order's keys, and one buffer a search runs over once.
    text: String,
    /// Where each user's text ends in `text` (at its `\0`).
    ends: Vec<usize>,
    /// The bit of each role key seen, for the first 128 keys; later keys are tested by name.
    role_bits: HashMap<RoleKey, u128>,
    /// One copy of each role key.
    role_keys: HashSet<Text>,
    /// Each set of roles some user has held, once: users hold an index into it.
    role_sets: Vec<Box<[Text]>>,
    role_set_of: HashMap<Box<[Text]>, u32>,
    /// Active users holding Owner: the last-Owner rule counts them on every change.
    active_owners: HashSet<UserId>,
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

/// Above this many users changed in one write, the index is put in order again in one sort
/// rather than moving each user within the vectors.
const MOVED_ONE_BY_ONE: usize = 64;

impl UserIndex {
    pub fn build(users: impl IntoIterator<Item = User>) -> Self {
        Self::try_build(users.into_iter().map(Ok::<_, std::convert::Infallible>))
            .unwrap_or_else(|never| match never {})
    }

    /// As [`UserIndex::build`], from users as they are read (the first error stops it).
    pub fn try_build<E>(users: impl IntoIterator<Item = Result<User, E>>) -> Result<Self, E> {
        let mut index = UserIndex::default();
        let mut rows = Vec::new();
        for user in users {
            rows.push(index.row(&user?));
        }
        index.fill(rows);
        Ok(index)
    }

    fn row(&mut self, user: &User) -> Row {
        let mut bits = 0;
        for role in &user.roles {
            let next = self.role_bits.len();
            if let Some(bit) = self.role_bits.get(role) {
                bits |= bit;
            } else if next < 128 {
                self.role_bits.insert(role.clone(), 1u128 << next);
                bits |= 1u128 << next;
            }
        }
        let roles: Vec<Text> = user
            .roles
            .iter()
            .map(|role| match self.role_keys.get(role.as_str()) {
                Some(key) => key.clone(),
                None => {
                    let key: Text = role.as_str().into();
                    self.role_keys.insert(key.clone());
                    key
                }
            })
            .collect();
        let roles = match self.role_set_of.get(roles.as_slice()) {
            Some(&set) => set,
            None => {
                let set = self.role_sets.len() as u32;
                let roles: Box<[Text]> = roles.into();
                self.role_sets.push(roles.clone());
                self.role_set_of.insert(roles, set);
                set
            }
        };
        Row {
            id: user.id,
            status: user.status,
            bits,
            second_factor: user.factors.totp.is_some(),
            details: Details {
                roles,
                last_sign_in_at: user.last_sign_in_at,
                last_seen: crate::ops::governance::last_seen(user),
                access_until: user.access_until,
                updated_at: user.updated_at,
            },
            name: user.name.to_lowercase(),
            email: user.email.key().to_string(),
        }
    }

    /// Fills the vectors with `rows` (one per user, whatever order) at once: sorting them in
    /// one vector is several times faster than inserting a hundred thousand one by one.
    fn fill(&mut self, mut rows: Vec<Row>) {
        rows.sort_by(|a, b| name_order((a.shown(), &a.email), (b.shown(), &b.email)));
        let roles = std::mem::take(&mut self.role_sets);
        let (bits, keys, sets) = (
            std::mem::take(&mut self.role_bits),
            std::mem::take(&mut self.role_keys),
            std::mem::take(&mut self.role_set_of),
        );
        *self = UserIndex {
            role_bits: bits,
            role_keys: keys,
            role_sets: roles,
            role_set_of: sets,
            ..UserIndex::default()
        };
        for row in rows {
            let at = self.ids.len();
            self.insert(at, row);
        }
    }

    /// The user's lower-cased name (empty when none) and email.
    fn texts(&self, at: usize) -> (&str, &str) {
        let start = if at == 0 { 0 } else { self.ends[at - 1] + 1 };
        let text = self.text.get(start..self.ends[at]).unwrap_or_default();
        // An email holds no line break; a name may.
        text.rsplit_once('\n').unwrap_or(("", text))
    }

    /// Their name order's key: the name as shown and the email.
    fn key(&self, at: usize) -> (&str, &str) {
        let (name, email) = self.texts(at);
        (if name.is_empty() { email } else { name }, email)
    }

    /// Where a user with this key goes in name order.
    fn position(&self, key: (&str, &str)) -> usize {
        let (mut low, mut high) = (0, self.ids.len());
        while low < high {
            let mid = low + (high - low) / 2;
            if name_order(self.key(mid), key) == Ordering::Less {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    fn find(&self, id: UserId) -> Option<usize> {
        self.ids.iter().position(|&i| i == id)
    }

    fn insert(&mut self, at: usize, row: Row) {
        if row.status == UserStatus::Active
            && self.role_sets[row.details.roles as usize].iter().any(|r| **r == *OWNER)
        {
            self.active_owners.insert(row.id);
        }
        self.ids.insert(at, row.id);
        self.status.insert(at, row.status);
        self.bits.insert(at, row.bits);
        self.second_factor.insert(at, row.second_factor);
        self.details.insert(at, row.details);
        let start = if at == 0 { 0 } else { self.ends[at - 1] + 1 };
        let text = [row.name.as_str(), "\n", row.email.as_str(), "\0"].concat();
        self.text.insert_str(start, &text);
        self.ends.insert(at, start + text.len() - 1);
        for end in &mut self.ends[at + 1..] {
            *end += text.len();
        }
    }

    fn remove_at(&mut self, at: usize) {
        let id = self.ids.remove(at);
        self.active_owners.remove(&id);
        self.status.remove(at);
        self.bits.remove(at);
        self.second_factor.remove(at);
        self.details.remove(at);
        let start = if at == 0 { 0 } else { self.ends[at - 1] + 1 };
        let len = self.ends.remove(at) + 1 - start;
        self.text.drain(start..start + len);
        for end in &mut self.ends[at..] {
            *end -= len;
        }
    }

    /// The row at `at`, taken out of the vectors' form (for putting them in order again).
    fn row_at(&self, at: usize) -> Row {
        let (name, email) = self.texts(at);
        Row {
            id: self.ids[at],
            status: self.status[at],
            bits: self.bits[at],
            second_factor: self.second_factor[at],
            details: self.details[at],
            name: name.to_string(),
            email: email.to_string(),
        }
    }

    pub fn put(&mut self, user: &User) {
        let row = self.row(user);
        match self.find(user.id) {
            // Same name and email: same place in the order, same search text.
            Some(at) if self.texts(at) == (row.name.as_str(), row.email.as_str()) => {
                self.active_owners.remove(&row.id);
                if row.status == UserStatus::Active
                    && self.role_sets[row.details.roles as usize].iter().any(|r| **r == *OWNER)
                {
                    self.active_owners.insert(row.id);
                }
                self.status[at] = row.status;
                self.bits[at] = row.bits;
                self.second_factor[at] = row.second_factor;
                self.details[at] = row.details;
            }
            found => {
                if let Some(at) = found {
                    self.remove_at(at);
                }
                let at = self.position((row.shown(), &row.email));
                self.insert(at, row);
            }
        }
    }

    pub fn remove(&mut self, id: UserId) {
        if let Some(at) = self.find(id) {
            self.remove_at(at);
        }
    }

    /// Applies one write's changes: each user as they now are, or `None` once removed. Up to
    /// [`MOVED_ONE_BY_ONE`] users are put one by one; more are put in order in one sort.
    pub fn apply(&mut self, changes: Vec<(UserId, Option<User>)>) {
        if changes.len() <= MOVED_ONE_BY_ONE {
            for (id, user) in changes {
                match user {
                    Some(user) => self.put(&user),
                    None => self.remove(id),
                }
            }
            return;
        }
        // A user written twice in the write is here twice: the last is how they are.
        let latest: HashMap<UserId, Option<User>> = changes.into_iter().collect();
        let mut rows: Vec<Row> = (0..self.ids.len())
            .filter(|&at| !latest.contains_key(&self.ids[at]))
            .map(|at| self.row_at(at))
            .collect();
        for user in latest.values().flatten() {
            rows.push(self.row(user));
        }
        self.fill(rows);
    }

    fn entry(&self, at: usize) -> UserEntry<'_> {
        let (shown, email) = self.key(at);
        let details = &self.details[at];
        UserEntry {
            id: self.ids[at],
            shown,
            email,
            status: self.status[at],
            roles: self.role_sets.get(details.roles as usize).map_or(&[][..], |r| &r[..]),
            role_bits: self.bits[at],
            last_sign_in_at: details.last_sign_in_at,
            last_seen: details.last_seen,
            access_until: details.access_until,
            updated_at: details.updated_at,
            second_factor: self.second_factor[at],
        }
    }

    /// For each user in name order, whether their search text contains `needle` (lower-case).
    fn matching(&self, needle: &str) -> Vec<bool> {
        let mut found = vec![false; self.ends.len()];
        if needle.is_empty() || needle.contains('\0') {
            found.fill(needle.is_empty());
            return found;
        }
        let text = self.text.as_bytes();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let (mut from, mut user) = (0, 0);
        while let Some(at) = finder.find(&text[from..]).map(|i| from + i) {
            user += self.ends[user..].partition_point(|&end| end <= at);
            if let Some(hit) = found.get_mut(user) {
                *hit = true;
            }
            from = self.ends.get(user).map_or(text.len(), |end| end + 1);
            user += 1;
            if from >= text.len() {
                break;
            }
        }
        found
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
        let kept: Option<Vec<bool>> =
            keep.map(|keep| self.in_name_order().map(|e| keep(&e)).collect());
        let bit = role.and_then(|r| self.role_bits.get(r).copied());
        // Roles past the first 128 have no bit: their holders are found by name.
        let holders: Option<Vec<bool>> = role
            .filter(|_| bit.is_none())
            .map(|role| self.in_name_order().map(|e| e.holds(role)).collect());
        let found = search.map(|s| self.matching(s));
        let mut selection = Selection::default();
        for (at, &user_status) in self.status.iter().enumerate() {
            if bit.is_some_and(|b| self.bits[at] & b == 0)
                || holders.as_ref().is_some_and(|h| !h[at])
                || found.as_ref().is_some_and(|f| !f[at])
                || (no_second_factor && self.second_factor[at])
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
        self.ids.get(at).copied()
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
            && self.in_name_order().zip(other.in_name_order()).all(|(a, b)| a.same_as(&b))
    }

    /// Whether what is derived from the entries agrees with them: each entry's role bits are
    /// exactly the bits of its roles, the Active Owners are those entries, the users are in
    /// name order (each once) and every vector holds one value per user.
    pub fn consistent(&self) -> bool {
        let bits = self.in_name_order().all(|e| {
            let expected =
                e.roles.iter().filter_map(|r| self.role_bits.get(&**r)).fold(0, |all, b| all | b);
            e.role_bits == expected
        });
        let owners: HashSet<UserId> =
            self.in_name_order().filter(|e| e.active_owner()).map(|e| e.id).collect();
        let n = self.ids.len();
        let sized = [
            self.status.len(),
            self.bits.len(),
            self.second_factor.len(),
            self.details.len(),
            self.ends.len(),
        ]
        .iter()
        .all(|&len| len == n)
            && self.ends.last().map_or(self.text.is_empty(), |&end| end + 1 == self.text.len());
        let ordered = sized
            && (1..n).all(|at| name_order(self.key(at - 1), self.key(at)) == Ordering::Less)
            && self.ids.iter().collect::<HashSet<_>>().len() == n;
        bits && owners == self.active_owners && ordered
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every user, by shown name then email, in natural order (see [`name_order`]).
    pub fn in_name_order(&self) -> impl DoubleEndedIterator<Item = UserEntry<'_>> {
        (0..self.ids.len()).map(|at| self.entry(at))
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
        assert_eq!(ids(&index, all), order(&index), "a selection in the same order");

        // A rename finds its place by the same order.
        users[4].name = "Ada 100".into();
        index.put(&users[4]);
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
        assert_eq!(ids(&index, admins), vec![ben.id]);

        ben.roles = vec![OWNER.into()];
        index.put(&ben);
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
        let all = index.select(None, None, None, false, None);
        assert_eq!(ids(&index, all), vec![olivia.id, ben.id]);
        assert!(index.consistent());
        index.remove(ben.id);
        assert_eq!(index.active_owners_except(olivia.id), 0);
        assert!(index.consistent());
    }

    #[test]
    fn adds_renames_and_removals_one_by_one_leave_what_a_fresh_build_would() {
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
    fn many_changes_in_one_write_are_put_in_order_as_a_fresh_build_would() {
        let names = ["", "ann", "Bob", "zed", "mia", "Ann 10", "Ann 9", ""];
        let mut users: Vec<User> =
            (0..300).map(|n| user(names[n % names.len()], &format!("u{n}@example.com"))).collect();
        let mut index = UserIndex::build(users.iter().take(200).cloned());
        // 100 added, 50 renamed, 20 made Owners, 30 removed: one write of 200 changes.
        let mut changes: Vec<(UserId, Option<User>)> =
            users[200..].iter().map(|u| (u.id, Some(u.clone()))).collect();
        for (n, u) in users[..50].iter_mut().enumerate() {
            u.name = format!("renamed {}", 50 - n);
            changes.push((u.id, Some(u.clone())));
        }
        for u in &mut users[50..70] {
            u.roles = vec![OWNER.into()];
            changes.push((u.id, Some(u.clone())));
        }
        // Written twice in the write, as a transaction may: once as it was, then renamed.
        changes.push((users[0].id, Some(users[0].clone())));
        users[0].name = "Written twice".into();
        changes.push((users[0].id, Some(users[0].clone())));
        let removed: Vec<UserId> = users[70..100].iter().map(|u| u.id).collect();
        changes.extend(removed.iter().map(|&id| (id, None)));
        assert!(changes.len() > MOVED_ONE_BY_ONE);
        index.apply(changes);
        let expected = UserIndex::build(users.iter().filter(|u| !removed.contains(&u.id)).cloned());
        assert!(index.same_as(&expected));
        assert!(index.consistent());
        assert_eq!(index.active_owner_count(), 20);
        assert_eq!(ids(&index, index.select(None, None, Some("renamed 1"), false, None)).len(), 11);
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
