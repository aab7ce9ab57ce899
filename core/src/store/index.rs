//! The in-memory index of users that the list and search read, so that a page out of 100,000
//! users needs neither a scan of the store nor decoding every record. Built when the store
//! opens and kept in step by [`super::Store::write`] after each committed transaction.

use crate::model::{RoleKey, User, UserId, UserStatus};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// What the list needs of one user to filter and sort.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Position in name order: shown name, then email (unique), so the order is total.
type NameKey = (String, String);

#[derive(Debug, Default)]
pub struct UserIndex {
    by_name: BTreeMap<NameKey, UserEntry>,
    keys: HashMap<UserId, NameKey>,
}

impl UserEntry {
    fn of(user: &User) -> Self {
        let name = user.name.to_lowercase();
        let email = user.email.key().to_string();
        UserEntry {
            id: user.id,
            shown: if name.is_empty() { email.clone() } else { name.clone() },
            haystack: format!("{name}\n{email}"),
            email,
            status: user.status,
            roles: user.roles.clone(),
            last_sign_in_at: user.last_sign_in_at,
            updated_at: user.updated_at,
        }
    }

    fn key(&self) -> NameKey {
        (self.shown.clone(), self.email.clone())
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
        let entry = UserEntry::of(user);
        let key = entry.key();
        self.keys.insert(user.id, key.clone());
        self.by_name.insert(key, entry);
    }

    pub fn remove(&mut self, id: UserId) {
        if let Some(key) = self.keys.remove(&id) {
            self.by_name.remove(&key);
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
}
