//! A generator of large example stores, for trying the app with 100,000 users, for the
//! end-to-end scrolling test and for the benchmarks. It writes through the same transactions,
//! indexes and audit chain as every other change, in batches, so the result verifies like any
//! store the app made.

use crate::auth::{code, password};
use crate::error::Result;
use crate::model::audit::AuditEntry;
use crate::model::invitation::{CodeState, Invitation};
use crate::model::{role, AuditAction, AuditActor, Email, User, UserStatus};
use crate::{Directory, SetupInput};
use chrono::Duration;

/// What to generate. The Owner is extra: `users` counts the generated people only.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub organization: String,
    pub owner_name: String,
    pub owner_email: String,
    /// Every generated user who is Active or Inactive gets this password too.
    pub password: String,
    pub users: u32,
    /// How many of `users` are Invited (with a pending invitation).
    pub invited: u32,
    /// The audit log is filled with sign-in events up to this many events in all.
    pub audit_events: u32,
}

impl SeedPlan {
    /// 100,000 users, 1,000 of them invited, 200,000 audit events.
    pub fn large(password: &str) -> Self {
        SeedPlan {
            organization: "Example Trading Co".into(),
            owner_name: "Olivia Owner".into(),
            owner_email: "owner@example.com".into(),
            password: password.into(),
            users: 100_000,
            invited: 1_000,
            audit_events: 200_000,
        }
    }
}

const FIRST: [&str; 24] = [
    "Ada", "Ben", "Chloe", "Dev", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Yusuf",
];
const LAST: [&str; 20] = [
    "Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Khan", "Lopez", "Meyer", "Novak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber",
];
const ROLES: [&str; 4] = [role::ADMIN, "reporting", "payment_management", "system_integrator"];
const BATCH: u32 = 1_000;

/// The generated name and email of person `n` (0-based): distinct for every `n`.
pub fn person(n: u32) -> (String, String) {
    let first = FIRST[(n % 24) as usize];
    let last = LAST[((n / 24) % 20) as usize];
    (format!("{first} {last} {n}"), format!("{}.{}.{n}@example.com", first, last).to_lowercase())
}

impl Directory {
    /// Fills a store that is not set up yet. `progress` hears (done, total) after each batch.
    pub fn seed(&self, plan: &SeedPlan, mut progress: impl FnMut(u32, u32)) -> Result<()> {
        let owner = self
            .setup(SetupInput {
                organization: plan.organization.clone(),
                name: plan.owner_name.clone(),
                email: plan.owner_email.clone(),
                password: plan.password.clone(),
            })?
            .info
            .user;
        let hash = password::hash(&plan.password)?;
        let lifetime = Duration::hours(i64::from(
            self.store.organization()?.map_or(7 * 24, |o| o.settings.invitation_lifetime_hours),
        ));
        let mut done = 0;
        while done < plan.users {
            let now = self.clock.now();
            let batch = (done..(done + BATCH).min(plan.users)).collect::<Vec<_>>();
            let mut people = Vec::with_capacity(batch.len());
            for &n in &batch {
                let (name, email) = person(n);
                let status = if n < plan.invited {
                    UserStatus::Invited
                } else if n % 10 == 9 {
                    UserStatus::Inactive
                } else {
                    UserStatus::Active
                };
                let mut roles = vec![ROLES[(n % 4) as usize].to_string()];
                if n % 7 == 0 {
                    roles.push(ROLES[((n + 1) % 4) as usize].to_string());
                }
                let id = uuid::Uuid::now_v7();
                let invitation = (status == UserStatus::Invited)
                    .then(|| -> Result<Invitation> {
                        Ok(Invitation {
                            id: uuid::Uuid::now_v7(),
                            user_id: id,
                            email: Email::parse(&email)?,
                            roles: roles.clone(),
                            invited_by: owner.id,
                            created_at: now,
                            expires_at: now + lifetime,
                            state: CodeState::Pending,
                            code_hash: code::generate()?.hash,
                            message: None,
                        })
                    })
                    .transpose()?;
                let active = status != UserStatus::Invited;
                let user = User {
                    id,
                    name: if active { name } else { String::new() },
                    email: Email::parse(&email)?,
                    status,
                    roles,
                    created_at: now,
                    updated_at: now,
                    activated_at: active.then_some(now),
                    deactivated_at: (status == UserStatus::Inactive).then_some(now),
                    last_sign_in_at: None,
                    password_hash: active.then(|| hash.clone()),
                    previous_hashes: Vec::new(),
                    invitation_id: invitation.as_ref().map(|i| i.id),
                    reset_id: None,
                    factors: Default::default(),
                    access_until: None,
                    reactivated_at: None,
                };
                people.push((user, invitation));
            }
            let by = AuditActor::User(owner.id);
            self.unattended().commit(|tx| {
                for (user, invitation) in &people {
                    let email = user.email.as_str();
                    tx.put_user(user)?;
                    tx.audit(
                        AuditEntry::success(by, AuditAction::Invite, email, user.roles.join(", ")),
                        now,
                    )?;
                    if let Some(inv) = invitation {
                        tx.put_invitation(inv)?;
                        continue;
                    }
                    let them = AuditActor::User(user.id);
                    tx.audit(
                        AuditEntry::success(them, AuditAction::AcceptInvitation, email, ""),
                        now,
                    )?;
                    if user.status == UserStatus::Inactive {
                        tx.audit(AuditEntry::success(by, AuditAction::Deactivate, email, ""), now)?;
                    }
                }
                Ok(())
            })?;
            done += batch.len() as u32;
            progress(done, plan.users);
        }
        self.fill_audit(plan.audit_events, &owner.email, AuditActor::User(owner.id))
    }

    /// Sign-in events by the Owner until the log holds `events`.
    fn fill_audit(&self, events: u32, email: &str, by: AuditActor) -> Result<()> {
        loop {
            let have = self.store.audit_head_seq()?;
            if have >= u64::from(events) {
                return Ok(());
            }
            let now = self.clock.now();
            let n = (u64::from(events) - have).min(u64::from(BATCH) * 5);
            self.unattended().commit(|tx| {
                for _ in 0..n {
                    tx.audit(AuditEntry::success(by, AuditAction::SignIn, email, ""), now)?;
                }
                Ok(())
            })?;
        }
    }
}
