//! The in-memory index of users that the list and search read, so that a page out of 100,000
//! users needs neither a scan of the store nor decoding every record. Built when the store
//! opens and kept in step by [`super::Store::write`] after each committed transaction.

use crate::model::{RoleKey, User, UserId, UserStatus};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// What the list needs of one user to filter and sort.
#[derive(Debug, Clone)]
pub struct UserEntry {
    pub id: UserId,
    /// The name as shown, lower-cased: the name, or the email while there is none.
    pub shown: String,
    /// Normalized email.
    pub email: String,
    /// Lower-cased name and email, for search.
    pub haystack: String,
    pub status: UserStatus,
    pub roles: Vec<RoleKey>,
    /// One bit per role (see [`UserIndex::role_test`]): the role filter reads no heap.
    pub role_bits: u128,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Position in name order: shown name, then email (unique), so the order is total.
type NameKey = (String, String);

#[derive(Debug, Default)]
pub struct UserIndex {
    by_name: BTreeMap<NameKey, UserEntry>,
    keys: HashMap<UserId, NameKey>,
    /// The bit of each role key seen, for the first 128 keys; later keys are tested by name.
    role_bits: HashMap<RoleKey, u128>,
    /// Every user's search text in name order, built on the first search after a change.
    text: OnceLock<SearchText>,
}

/// The users' search texts joined in name order (`\0` between them), so that a search runs
/// once over one buffer instead of visiting a hundred thousand small strings.
#[derive(Debug, Default)]
struct SearchText {
    bytes: Vec<u8>,
    /// Where each user's text ends in `bytes`, in name order.
    ends: Vec<usize>,
}

/// How the list tests that a user holds one role: by its bit when it has one.
pub enum RoleTest<'a> {
    Bit(u128),
    Key(&'a str),
}

impl UserEntry {
    fn of(user: &User, bits: &mut HashMap<RoleKey, u128>) -> Self {
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
        let email = user.email.key().to_string();
        UserEntry {
            id: user.id,
            shown: if name.is_empty() { email.clone() } else { name.clone() },
            haystack: format!("{name}\n{email}"),
            email,
            status: user.status,
            roles: user.roles.clone(),
            role_bits,
            last_sign_in_at: user.last_sign_in_at,
            updated_at: user.updated_at,
        }
    }

    /// Everything but the role bits, whose numbering depends on the order roles were first
    /// seen (see [`UserIndex::bits_agree`]).
    fn same_as(&self, other: &UserEntry) -> bool {
        (
            self.id,
            &self.shown,
            &self.email,
            &self.haystack,
            self.status,
            &self.roles,
            self.last_sign_in_at,
            self.updated_at,
        ) == (
            other.id,
            &other.shown,
            &other.email,
            &other.haystack,
            other.status,
            &other.roles,
            other.last_sign_in_at,
            other.updated_at,
        )
    }

    fn key(&self) -> NameKey {
        (self.shown.clone(), self.email.clone())
    }

    pub fn holds(&self, role: &RoleTest<'_>) -> bool {
        match role {
            RoleTest::Bit(bit) => self.role_bits & bit != 0,
            RoleTest::Key(key) => self.roles.iter().any(|r| r == key),
        }
    }
}

impl UserIndex {
    pub fn build(users: impl IntoIterator<Item = User>) -> Self {
        let mut index = UserIndex::default();
        for user in users {
            index.put(&user);
        }
        index
    }

    pub fn put(&mut self, user: &User) {
        self.remove(user.id);
        self.text = OnceLock::new();
        let entry = UserEntry::of(user, &mut self.role_bits);
        let key = entry.key();
        self.keys.insert(user.id, key.clone());
        self.by_name.insert(key, entry);
    }

    pub fn remove(&mut self, id: UserId) {
        if let Some(key) = self.keys.remove(&id) {
            self.text = OnceLock::new();
            self.by_name.remove(&key);
        }
    }

    /// For each user in name order, whether their search text contains `needle` (lower-case).
    pub fn matching(&self, needle: &str) -> Vec<bool> {
        let text = self.text.get_or_init(|| {
            let mut text = SearchText::default();
            for entry in self.by_name.values() {
                text.bytes.extend_from_slice(entry.haystack.as_bytes());
                text.ends.push(text.bytes.len());
                text.bytes.push(0);
            }
            text
        });
        let mut found = vec![false; text.ends.len()];
        if needle.is_empty() || needle.contains('\0') {
            found.fill(needle.is_empty());
            return found;
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let (mut from, mut user) = (0, 0);
        while let Some(at) = finder.find(&text.bytes[from..]).map(|i| from + i) {
            user += text.ends[user..].partition_point(|&end| end <= at);
            if let Some(hit) = found.get_mut(user) {
                *hit = true;
            }
            from = text.ends.get(user).map_or(text.bytes.len(), |end| end + 1);
            user += 1;
            if from >= text.bytes.len() {
                break;
            }
        }
        found
    }

    /// Whether this index lists the same users, in the same order, with the same fields.
    pub fn same_as(&self, other: &UserIndex) -> bool {
        self.len() == other.len()
            && self.in_name_order().zip(other.in_name_order()).all(|(a, b)| a.same_as(b))
    }

    /// Whether every entry's role bits are exactly the bits of its roles.
    pub fn bits_agree(&self) -> bool {
        self.in_name_order().all(|e| {
            let expected =
                e.roles.iter().filter_map(|r| self.role_bits.get(r)).fold(0, |all, b| all | b);
            e.role_bits == expected
        })
    }

    /// The test for holding `role`.
    pub fn role_test<'a>(&self, role: &'a str) -> RoleTest<'a> {
        match self.role_bits.get(role) {
            Some(bit) => RoleTest::Bit(*bit),
            None => RoleTest::Key(role),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every user, by shown name then email.
    pub fn in_name_order(&self) -> impl DoubleEndedIterator<Item = &UserEntry> {
        self.by_name.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Email;

    fn user(name: &str, email: &str) -> User {
        let now = Utc::now();
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
    fn roles_past_the_128_bits_are_still_found_by_key() {
        let users: Vec<User> = (0..130)
            .map(|n| User {
                roles: vec![format!("r{n}")],
                ..user("", &format!("u{n}@example.com"))
            })
            .collect();
        let index = UserIndex::build(users.clone());
        for (n, u) in users.iter().enumerate() {
            let test = index.role_test(&u.roles[0]);
            assert_eq!(matches!(test, RoleTest::Bit(_)), n < 128);
            let holders: Vec<UserId> =
                index.in_name_order().filter(|e| e.holds(&test)).map(|e| e.id).collect();
            assert_eq!(holders, vec![u.id], "role r{n}");
        }
        assert!(index.in_name_order().all(|e| !e.holds(&index.role_test("nobody"))));
    }

    #[test]
    fn search_finds_each_user_whose_text_holds_the_needle_and_follows_changes() {
        let mut ann = user("Ann Annson", "ann@example.com");
        let bob = user("Bob", "bob@annex.example");
        let cy = user("Cy", "cy@example.com");
        let mut index = UserIndex::build([ann.clone(), bob.clone(), cy.clone()]);
        let hits = |i: &UserIndex, needle: &str| -> Vec<UserId> {
            let found = i.matching(needle);
            i.in_name_order().zip(found).filter(|(_, f)| *f).map(|(e, _)| e.id).collect()
        };
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
