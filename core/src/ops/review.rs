//! Access reviews (PCI DSS v4 7.2.4; domain.md, "Access governance"): start (a snapshot),
//! decide per user, apply through the ordinary operations, sign off.
//!
//! Permissions: starting, deciding, applying and signing off need `users:update` and
//! `audit:read` (a refusal is `permission_denied`, audited). Reading reviews and their reports
//! needs `users:read` and `audit:read`: a review shows everyone's access and the audit chain.
//! Whether the reviewer may carry out a decision is judged by the ordinary rules
//! ([`policy::may_act`], [`policy::may_change_roles`], [`policy::may_deactivate`]), once when
//! deciding and again when applying.

use crate::auth::session::SessionId;
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::review::{
    ChainHead, Decision, DecisionInput, EntryOutcome, Review, ReviewEntry, ReviewHeader, ReviewId,
    ReviewList, ReviewSummary, ReviewedUser, Reviewer, SignOff,
};
use crate::model::{Action, AuditAction, Module, Permission, RoleKey, User, UserId, UserStatus};
use crate::ops::session::Actor;
use crate::policy::{self, Act, ActOption};
use crate::Directory;
use chrono::{DateTime, Duration, Months, Utc};

const MAX_NOTE: usize = 500;
/// The list warns this many days before a review is due.
pub const REVIEW_WARNING_DAYS: i64 = 14;

const USERS_UPDATE: Permission = Permission { module: Module::Users, action: Action::Update };
const AUDIT_READ: Permission = Permission { module: Module::Audit, action: Action::Read };

pub(crate) fn reviewer(user: &User) -> Reviewer {
    Reviewer { id: user.id, name: user.name.clone(), email: user.email.to_string() }
}

/// Trims a note and makes its control characters spaces; `None` when empty.
/// Error: `invalid_setting` over 500 characters.
fn clean_note(note: Option<String>) -> Result<Option<String>> {
    let note: String = note
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string();
    if note.chars().count() > MAX_NOTE {
        return Err(Error::InvalidSetting {
            field: None,
            message: "A review note must be at most 500 characters.",
        });
    }
    Ok((!note.is_empty()).then_some(note))
}

/// A decision in words, for audit events and reports.
pub(crate) fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Keep => "keep".to_string(),
        Decision::ChangeRoles { roles } => format!("change roles → {}", roles.join(", ")),
        Decision::Deactivate => "deactivate".to_string(),
    }
}

fn same_roles(a: &[RoleKey], b: &[RoleKey]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// The sentence of `review_incomplete`.
fn incomplete(undecided: usize, unapplied: usize) -> String {
    let users = |n: usize| if n == 1 { "1 user".to_string() } else { format!("{n} users") };
    let mut parts = Vec::new();
    if undecided > 0 {
        parts.push(format!("{} still to be decided", users(undecided)));
    }
    if unapplied > 0 {
        parts.push(format!(
            "{} whose decision is not applied yet (or was refused)",
            users(unapplied)
        ));
    }
    format!(
        "This access review cannot be signed off yet: {}. Decide every user and apply the decisions first.",
        parts.join(" and ")
    )
}

impl Directory {
    /// Starts an access review: a snapshot of every Active and Invited user (roles, effective
    /// permissions, last sign-in, end date). Needs `users:update` and `audit:read`.
    /// Errors: `permission_denied`, `review_in_progress` (an unsigned review exists).
    pub fn start_review(&self, session: SessionId) -> Result<Review> {
        self.changing(session, Some(USERS_UPDATE), AuditAction::StartReview, |change| {
            change.attempt("start an access review");
            if !change.actor.permissions.contains(&AUDIT_READ) {
                change.attempt("start an access review; needs audit:r");
                return Err(Error::PermissionDenied);
            }
            let headers = self.store.reviews()?;
            if headers.iter().any(|h| h.signed_off.is_none()) {
                return Err(Error::ReviewInProgress);
            }
            let now = change.now();
            let number = u32::try_from(headers.len()).unwrap_or(u32::MAX).saturating_add(1);
            let header = ReviewHeader {
                id: uuid::Uuid::now_v7(),
                number,
                started_at: now,
                started_by: reviewer(&change.actor.user),
                applied_at: None,
                applied_by: None,
                signed_off: None,
            };
            let approvals = self.latest_approvals()?;
            let mut entries = Vec::new();
            for user in self.store.users()? {
                if matches!(user.status, UserStatus::Active | UserStatus::Invited) {
                    let mut snapshot = self.snapshot(&user, now)?;
                    snapshot.approval = approvals.get(user.email.key()).cloned();
                    entries.push(ReviewEntry {
                        user: snapshot,
                        decision: None,
                        note: None,
                        decided_by: None,
                        decided_at: None,
                        outcome: None,
                        options: Vec::new(),
                    });
                }
            }
            change.target(header.title());
            let summary =
                format!("{} started: {} users in the snapshot", header.title(), entries.len());
            change.commit(&summary, |tx| {
                tx.put_review(&header)?;
                for entry in &entries {
                    tx.put_review_entry(header.id, entry)?;
                }
                Ok(())
            })?;
            Ok(self.review_for(&change.actor, header, entries))
        })
    }

    /// Records the reviewer's decision on one user of an unsigned review (replacing an earlier
    /// one, whose outcome is then cleared: it wants applying again). Keep is always allowed;
    /// Change roles and Deactivate only when the reviewer may carry them out under the ordinary
    /// rules, else refused with that rule's error (audited). The note is trimmed, its control
    /// characters made spaces. Needs `users:update` and `audit:read`.
    /// Errors: `permission_denied`, `review_not_found`, `review_signed_off`, `not_in_review`,
    /// `invalid_setting` (a note over 500 characters), `user_not_found` (gone since the
    /// snapshot), `no_roles`, `unknown_role`, and the rules': `own_status`, `own_roles`,
    /// `owner_only`, `not_dominant`, `escalation`, `last_owner`.
    pub fn decide_review(
        &self,
        session: SessionId,
        review: ReviewId,
        input: DecisionInput,
    ) -> Result<ReviewEntry> {
        let note = clean_note(input.note)?;
        self.changing(session, Some(USERS_UPDATE), AuditAction::DecideReview, |change| {
            change.attempt(describe(&input.decision));
            let header = self.unsigned_review(review, change)?;
            if !change.actor.permissions.contains(&AUDIT_READ) {
                return Err(Error::PermissionDenied);
            }
            let Some(mut entry) = self.store.review_entry(review, input.user)? else {
                let who = self.store.user(input.user)?.map(|u| u.shown_name());
                return Err(Error::NotInReview(who.unwrap_or_else(|| input.user.to_string())));
            };
            change.target(entry.user.email.as_str());
            change.attempt(format!("{}: {}", header.title(), describe(&input.decision)));
            let decision = match input.decision {
                Decision::Keep => Decision::Keep,
                Decision::ChangeRoles { roles } => {
                    let roles = self.checked_roles(&roles)?;
                    let target = self.target(input.user)?;
                    self.judge_review(&change.actor, &target, Act::ChangeRoles)?;
                    policy::may_change_roles(
                        change.party(),
                        &target,
                        &roles,
                        &self.permissions_of_roles(&roles)?,
                        self.active_owners_except(target.id)?,
                    )?;
                    Decision::ChangeRoles { roles }
                }
                Decision::Deactivate => {
                    let target = self.target(input.user)?;
                    self.judge_review(&change.actor, &target, Act::Deactivate)?;
                    Decision::Deactivate
                }
            };
            let summary = match &note {
                Some(n) => format!("{}: {}; note: {n}", header.title(), describe(&decision)),
                None => format!("{}: {}", header.title(), describe(&decision)),
            };
            entry.decision = Some(decision);
            entry.note = note.clone();
            entry.decided_by = Some(reviewer(&change.actor.user));
            entry.decided_at = Some(change.now());
            entry.outcome = None;
            change.commit(&summary, |tx| tx.put_review_entry(review, &entry))?;
            entry.options = self.review_options(&change.actor, entry.user.id);
            Ok(entry)
        })
    }

    /// Carries out every decided entry not yet carried out (Change roles and Deactivate; Keep
    /// needs nothing) through the ordinary operations, each writing its own audit event:
    /// [`Directory::change_roles`], [`Directory::deactivate_user`] with the review's title as
    /// reason, or [`Directory::cancel_invitation`] for a user still Invited. Each entry records
    /// its outcome (a refusal too, which leaves it to decide or apply again), then one
    /// `apply_review` event sums them up. The reviewer's own entry goes last (handing over
    /// Owner ends their sessions). Needs `users:update` and `audit:read`.
    /// Errors: `permission_denied`, `review_not_found`, `review_signed_off`.
    pub fn apply_review(&self, session: SessionId, review: ReviewId) -> Result<Review> {
        let actor =
            self.changing(session, Some(USERS_UPDATE), AuditAction::ApplyReview, |change| {
                change.attempt("apply the decisions");
                self.unsigned_review(review, change)?;
                if !change.actor.permissions.contains(&AUDIT_READ) {
                    return Err(Error::PermissionDenied);
                }
                Ok(change.actor.clone())
            })?;
        let mut entries = self.store.review_entries(review)?;
        entries.sort_by_key(|e| e.user.id == actor.user.id);
        let title = self.store.review(review)?.ok_or(Error::ReviewNotFound)?.title();
        // The ordinary operations take the writer lock themselves: none is held here.
        let mut outcomes = Vec::new();
        for entry in entries {
            let Some(decision) = entry.decision else { continue };
            if entry.outcome.as_ref().is_some_and(EntryOutcome::is_settled) {
                continue;
            }
            let outcome = self.carry_out(session, &entry.user, &decision, &title);
            outcomes.push((entry.user.id, decision, outcome));
        }
        let write = self.unattended();
        let mut header = self.store.review(review)?.ok_or(Error::ReviewNotFound)?;
        if header.signed_off.is_some() {
            return Err(Error::ReviewSignedOff);
        }
        let mut updated = Vec::new();
        for (user, decision, outcome) in outcomes {
            // A decision changed meanwhile keeps its cleared outcome: it wants applying again.
            if let Some(mut entry) = self.store.review_entry(review, user)? {
                if entry.decision.as_ref() == Some(&decision) {
                    entry.outcome = Some(outcome);
                    updated.push(entry);
                }
            }
        }
        let count = |f: fn(&EntryOutcome) -> bool| {
            updated.iter().filter(|e| e.outcome.as_ref().is_some_and(f)).count()
        };
        let summary = format!(
            "{}: {} applied, {} unchanged, {} refused, {} no longer eligible",
            header.title(),
            count(|o| *o == EntryOutcome::Applied),
            count(|o| *o == EntryOutcome::Unchanged),
            count(|o| !o.is_settled()),
            count(|o| *o == EntryOutcome::NoLongerEligible),
        );
        header.applied_at = Some(write.now);
        header.applied_by = Some(reviewer(&actor.user));
        let event = AuditEntry::success(
            actor.audit_actor(),
            AuditAction::ApplyReview,
            header.title(),
            summary,
        );
        write.commit(|tx| {
            tx.put_review(&header)?;
            for entry in &updated {
                tx.put_review_entry(review, entry)?;
            }
            tx.audit(event.clone(), write.now).map(|_| ())
        })?;
        drop(write);
        // The reviewer's roles may have changed (an Owner handing over): judge afresh.
        let viewer = self.viewer(session).unwrap_or(actor);
        Ok(self.review_for(&viewer, header, self.store.review_entries(review)?))
    }

    /// Signs the review off: every entry must be decided and its decision carried out. Records
    /// the signer, the time and the audit chain's head (the newest event before the sign-off's
    /// own), in a `sign_off_review` event naming the review and that head. The review is
    /// read-only from then on. Needs `users:update` and `audit:read`.
    /// Errors: `permission_denied`, `review_not_found`, `review_signed_off`,
    /// `review_incomplete` (the sentence says how many users are left).
    pub fn sign_off_review(&self, session: SessionId, review: ReviewId) -> Result<Review> {
        self.changing(session, Some(USERS_UPDATE), AuditAction::SignOffReview, |change| {
            change.attempt("sign off");
            let mut header = self.unsigned_review(review, change)?;
            if !change.actor.permissions.contains(&AUDIT_READ) {
                return Err(Error::PermissionDenied);
            }
            let entries = self.store.review_entries(review)?;
            let undecided = entries.iter().filter(|e| e.decision.is_none()).count();
            let unapplied = entries.iter().filter(|e| e.decision.is_some() && !e.is_done()).count();
            if undecided + unapplied > 0 {
                return Err(Error::ReviewIncomplete(incomplete(undecided, unapplied)));
            }
            // The writer lock is held: no event comes between this head and the sign-off's.
            let (seq, hash) = self.store.audit_head()?;
            let decided = |f: fn(&Decision) -> bool| {
                entries.iter().filter(|e| e.decision.as_ref().is_some_and(f)).count()
            };
            let summary = format!(
                "{} signed off: {} users; {} kept, {} roles changed, {} deactivated; audit chain head #{seq} {hash}",
                header.title(),
                entries.len(),
                decided(|d| *d == Decision::Keep),
                decided(|d| matches!(d, Decision::ChangeRoles { .. })),
                decided(|d| *d == Decision::Deactivate),
            );
            header.signed_off = Some(SignOff {
                by: reviewer(&change.actor.user),
                at: change.now(),
                chain_head: ChainHead { seq, hash },
            });
            change.commit(&summary, |tx| tx.put_review(&header))?;
            Ok(self.review_for(&change.actor, header, entries))
        })
    }

    /// Every review, newest first, and when the next is due: `review_months` (settings) after
    /// the last sign-off, or after the organization was created. `due_soon` from 14 days
    /// before. Needs `users:read` and `audit:read`. Error: `permission_denied`.
    pub fn reviews(&self, session: SessionId) -> Result<ReviewList> {
        self.review_reader(session)?;
        let org = self.store.organization()?.ok_or(Error::NotSetUp)?;
        let headers = self.store.reviews()?;
        let mut reviews = Vec::with_capacity(headers.len());
        for header in headers.iter().rev() {
            let entries = self.store.review_entries(header.id)?;
            let count = |f: fn(&ReviewEntry) -> bool| {
                u32::try_from(entries.iter().filter(|e| f(e)).count()).unwrap_or(u32::MAX)
            };
            reviews.push(ReviewSummary {
                id: header.id,
                number: header.number,
                started_at: header.started_at,
                started_by: header.started_by.clone(),
                users: count(|_| true),
                decided: count(|e| e.decision.is_some()),
                done: count(ReviewEntry::is_done),
                applied_at: header.applied_at,
                signed_off: header.signed_off.clone(),
            });
        }
        let last = headers.iter().filter_map(|h| h.signed_off.as_ref().map(|s| s.at)).max();
        let next_due_at = next_due(last.unwrap_or(org.created_at), org.settings.review_months);
        let now = self.clock.now();
        let overdue = now >= next_due_at;
        let due_soon = !overdue && now >= next_due_at - Duration::days(REVIEW_WARNING_DAYS);
        Ok(ReviewList { reviews, next_due_at, due_soon, overdue })
    }

    /// One review in full. On an unsigned review each entry's `options` say whether the reader
    /// may decide Change roles and Deactivate on that user now, judged at this read. Needs
    /// `users:read` and `audit:read`. Errors: `permission_denied`, `review_not_found`.
    pub fn review(&self, session: SessionId, review: ReviewId) -> Result<Review> {
        let actor = self.review_reader(session)?;
        let header = self.store.review(review)?.ok_or(Error::ReviewNotFound)?;
        Ok(self.review_for(&actor, header, self.store.review_entries(review)?))
    }

    /// The reader of a review: `users:read` and `audit:read` (each refusal audited).
    pub(crate) fn review_reader(&self, session: SessionId) -> Result<Actor> {
        self.authorize(session, Module::Users, Action::Read)?;
        self.authorize(session, Module::Audit, Action::Read)
    }

    /// The review, or `review_not_found`; `review_signed_off` (a refusal `change` audits,
    /// naming the review) once signed.
    fn unsigned_review(
        &self,
        review: ReviewId,
        change: &mut crate::change::Change<'_>,
    ) -> Result<ReviewHeader> {
        let header = self.store.review(review)?.ok_or(Error::ReviewNotFound)?;
        change.target(header.title());
        match header.signed_off {
            Some(_) => Err(Error::ReviewSignedOff),
            None => Ok(header),
        }
    }

    fn snapshot(&self, user: &User, now: DateTime<Utc>) -> Result<ReviewedUser> {
        let permissions = self.permissions_of(user)?;
        Ok(ReviewedUser {
            id: user.id,
            email: user.email.to_string(),
            name: user.name.clone(),
            status: user.status,
            roles: user.roles.clone(),
            holds_delete: permissions.iter().any(|p| p.action == Action::Delete),
            permissions,
            last_sign_in_at: user.last_sign_in_at,
            access_until: user.access_until,
            days_since_sign_in: user
                .last_sign_in_at
                .map(|at| u32::try_from((now - at).num_days().max(0)).unwrap_or(u32::MAX)),
            approval: None,
        })
    }

    /// For each email (normalized), the approval reference of the newest successful grant
    /// event (an invitation or a role change), if that grant carried one: one pass over the
    /// log, newest first.
    fn latest_approvals(&self) -> Result<std::collections::HashMap<String, String>> {
        let mut newest: std::collections::HashMap<String, Option<String>> =
            std::collections::HashMap::new();
        for event in self.store.audit_events_rev(u64::MAX) {
            let event = event?;
            let grant = matches!(event.action, AuditAction::Invite | AuditAction::ChangeRoles);
            if !grant || event.outcome != crate::model::Outcome::Success {
                continue;
            }
            let Some(key) = event
                .target
                .as_deref()
                .and_then(|t| crate::model::Email::parse(t).ok())
                .map(|e| e.key().to_string())
            else {
                continue;
            };
            newest.entry(key).or_insert_with(|| {
                let at = event.summary.find(APPROVED)?;
                Some(event.summary[at + APPROVED.len()..].to_string())
            });
        }
        Ok(newest.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
    }

    /// The review as `reader` sees it: entries by name then email, with options while unsigned.
    fn review_for(
        &self,
        reader: &Actor,
        header: ReviewHeader,
        mut entries: Vec<ReviewEntry>,
    ) -> Review {
        entries.sort_by_cached_key(|e| (e.user.name.to_lowercase(), e.user.email.to_lowercase()));
        for entry in &mut entries {
            entry.options = match header.signed_off {
                Some(_) => Vec::new(),
                None => self.review_options(reader, entry.user.id),
            };
        }
        Review { header, entries }
    }

    /// Whether `reader` may decide Change roles and Deactivate on `user` now, and why not.
    fn review_options(&self, reader: &Actor, user: UserId) -> Vec<ActOption> {
        let target = self.store.user(user);
        [Act::ChangeRoles, Act::Deactivate]
            .into_iter()
            .map(|act| {
                let judged = match &target {
                    Ok(Some(t)) => self.judge_review(reader, t, act),
                    Ok(None) => Err(Error::UserNotFound),
                    Err(_) => Err(Error::Internal("reading a user")),
                };
                ActOption { act, refused: judged.err().map(|e| e.to_body()) }
            })
            .collect()
    }

    /// The ordinary rules for a review's Change roles (whatever the new roles) or Deactivate
    /// (cancelling the invitation of a user still Invited) by `reviewer` on `target`.
    fn judge_review(&self, reviewer: &Actor, target: &User, act: Act) -> Result<()> {
        let others = self.active_owners_except(target.id)?;
        match act {
            Act::Deactivate if target.status == UserStatus::Invited => {
                self.judge(reviewer, target, Act::CancelInvitation)
            }
            Act::Deactivate => {
                self.judge(reviewer, target, Act::Deactivate)?;
                policy::may_deactivate(target, others)
            }
            _ => {
                self.judge(reviewer, target, Act::ChangeRoles)?;
                if reviewer.user.id == target.id {
                    // Handing over Owner needs another Active Owner (rule 2).
                    policy::may_deactivate(target, others)?;
                }
                Ok(())
            }
        }
    }

    /// Carries out one decision through the ordinary operation; never fails, the outcome says.
    fn carry_out(
        &self,
        session: SessionId,
        user: &ReviewedUser,
        decision: &Decision,
        title: &str,
    ) -> EntryOutcome {
        let current = match self.store.user(user.id) {
            Ok(Some(current)) => current,
            Ok(None) => return EntryOutcome::NoLongerEligible,
            Err(e) => return EntryOutcome::Refused { error: e.to_body() },
        };
        let done = match decision {
            Decision::Keep => return EntryOutcome::Unchanged,
            Decision::ChangeRoles { roles } if same_roles(roles, &current.roles) => {
                return EntryOutcome::Unchanged
            }
            Decision::ChangeRoles { roles } => {
                self.review_change_roles(session, user.id, roles.clone(), title)
            }
            Decision::Deactivate => match current.status {
                UserStatus::Inactive => return EntryOutcome::Unchanged,
                UserStatus::Invited => self.cancel_invitation(session, user.id),
                UserStatus::Active => {
                    self.deactivate_user(session, user.id, Some(title.to_string())).map(|_| ())
                }
            },
        };
        match done {
            Ok(()) => EntryOutcome::Applied,
            Err(e) => EntryOutcome::Refused { error: e.to_body() },
        }
    }

    /// The one place a review changes roles. The review is the grant's approval reference
    /// (PCI DSS v4 8.2.4): the reviewer's decision, kept in the review and its report.
    fn review_change_roles(
        &self,
        session: SessionId,
        user: UserId,
        roles: Vec<RoleKey>,
        title: &str,
    ) -> Result<()> {
        self.change_roles_approved(session, user, roles, Some(title.to_string())).map(|_| ())
    }
}

/// How a grant's audit summary introduces its approval reference
/// (see [`crate::ops::governance::with_approval`]).
const APPROVED: &str = "; approved: ";

/// `months` (clamped to 1..=12) after `from`.
pub(crate) fn next_due(from: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    from.checked_add_months(Months::new(months.clamp(1, 12))).unwrap_or(from)
}
