//! Reading the audit log: filtered, newest first, in pages.

use crate::auth::session::SessionId;
use crate::error::Result;
use crate::model::{Action, AuditAction, AuditActor, AuditEvent, Module, Permission, UserId};
use crate::{Directory, Integrity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct AuditQuery {
    /// The acting user's email or id.
    pub actor: Option<String>,
    /// Matches targets containing this text, ignoring case.
    pub target: Option<String>,
    pub action: Option<AuditAction>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Continue below this sequence number (the previous page's `next`).
    pub before: Option<u64>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<u64>,
    /// The email of each user who acts on this page.
    pub actors: Vec<ActorEmail>,
    /// How many events the query matches, on its first page (no `before`); `null` on the
    /// pages that follow it.
    pub count: Option<AuditCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ActorEmail {
    pub id: UserId,
    pub email: String,
    /// Empty for a cancelled invitee, whose record is gone.
    pub name: String,
}

/// How many events match a query: exact up to [`AuditCount::CAP`]; past it, `at_least` and
/// `events` is the cap. An unfiltered log is counted exactly at any size (its newest event's
/// sequence number is its length); a filter is counted by reading on past the page, which
/// stops at the cap, so that a count costs a page at most what the cap's events cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct AuditCount {
    pub events: u64,
    pub at_least: bool,
}

impl AuditCount {
    /// Matches counted before a count says "at least".
    pub const CAP: u64 = 1_000;

    fn exact(events: u64) -> Self {
        AuditCount { events, at_least: false }
    }

    /// `seen` matches, of which those past the cap are not counted.
    fn up_to(seen: u64) -> Self {
        AuditCount { events: seen.min(Self::CAP), at_least: seen > Self::CAP }
    }
}

const AUDIT_READ: Permission = Permission { module: Module::Audit, action: Action::Read };

/// A query's filter as its `read_audit` event words it.
fn describe(query: &AuditQuery) -> String {
    let mut parts = Vec::new();
    if let Some(actor) = query.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        parts.push(format!("actor {actor}"));
    }
    if let Some(target) = query.target.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        parts.push(format!("target “{target}”"));
    }
    if let Some(action) = query.action {
        let key = serde_json::to_value(action).ok().and_then(|v| v.as_str().map(String::from));
        parts.push(format!("action {}", key.unwrap_or_default()));
    }
    if let Some(from) = query.from {
        parts.push(format!("from {}", from.to_rfc3339()));
    }
    if let Some(to) = query.to {
        parts.push(format!("to {}", to.to_rfc3339()));
    }
    match parts.is_empty() {
        true => "read the audit log".to_string(),
        false => format!("searched the audit log: {}", parts.join(", ")),
    }
}

/// A query with its actor resolved to an id.
struct Filter<'a> {
    query: &'a AuditQuery,
    actor: Option<UserId>,
    target: Option<String>,
}

impl Filter<'_> {
    /// Whether the filter asks more of an event than its actor (which the actor index answers).
    fn reads_events(&self) -> bool {
        let q = self.query;
        self.target.is_some() || q.action.is_some() || q.from.is_some() || q.to.is_some()
    }

    fn matches(&self, e: &AuditEvent) -> bool {
        let q = self.query;
        self.actor.is_none_or(|a| e.actor == AuditActor::User(a))
            && q.action.is_none_or(|a| e.action == a)
            && q.from.is_none_or(|f| e.at >= f)
            && q.to.is_none_or(|t| e.at < t)
            && self.target.as_ref().is_none_or(|t| {
                e.target.as_deref().is_some_and(|et| et.to_lowercase().contains(t.as_str()))
            })
    }
}

impl Directory {
    /// Resolves the query's actor. Error: `user_not_found` for an actor nobody is.
    fn filter<'a>(&self, query: &'a AuditQuery) -> Result<Filter<'a>> {
        let actor = match query.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(self.find_user(a)?.id),
            None => None,
        };
        let target =
            query.target.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_lowercase);
        Ok(Filter { query, actor, target })
    }
}

impl Directory {
    /// Events matching `query`, newest first. Needs `audit:read`. Reading the log is itself
    /// recorded (PCI DSS v4 10.2.1.3), once per search: the first page of a query writes a
    /// `read_audit` event naming its filter (after the page is read, so it shows on the next);
    /// the pages that follow it do not.
    pub fn audit_log(&self, session: SessionId, query: AuditQuery) -> Result<AuditPage> {
        self.authorize(session, Module::Audit, Action::Read)?;
        let page = self.audit_page(&query)?;
        if query.before.is_none() {
            let summary = describe(&query);
            self.changing(session, Some(AUDIT_READ), AuditAction::ReadAudit, |change| {
                change.commit(&summary, |_| Ok(()))
            })?;
        }
        Ok(page)
    }

    fn audit_page(&self, query: &AuditQuery) -> Result<AuditPage> {
        let filter = self.filter(query)?;
        let limit = query.limit.unwrap_or(100).clamp(1, 500) as usize;
        let mut events = Vec::with_capacity(limit);
        let mut next = None;
        let before = query.before.unwrap_or(u64::MAX);
        let candidates: Box<dyn Iterator<Item = Result<AuditEvent>>> = match filter.actor {
            Some(actor) => Box::new(self.store.audit_events_by(actor, before)),
            None => Box::new(self.store.audit_events_rev(before)),
        };
        // A first page of a filter that reads events counts on past the page, up to the cap.
        let counting = query.before.is_none() && filter.reads_events();
        let mut matched: u64 = 0;
        for event in candidates {
            let event = event?;
            if !filter.matches(&event) {
                continue;
            }
            matched += 1;
            if events.len() < limit {
                events.push(event);
                continue;
            }
            if next.is_none() {
                next = events.last().map(|e: &AuditEvent| e.seq);
            }
            if !counting || matched > AuditCount::CAP {
                break;
            }
        }
        let count = match (query.before, next, filter.actor) {
            (Some(_), _, _) => None,
            (None, None, _) => Some(AuditCount::exact(events.len() as u64)),
            (None, Some(_), _) if counting => Some(AuditCount::up_to(matched)),
            // Sequence numbers run 1, 2, 3, ... without a gap: the newest is the count.
            (None, Some(_), None) => Some(AuditCount::exact(events.first().map_or(0, |e| e.seq))),
            (None, Some(_), Some(actor)) => Some(AuditCount::up_to(
                self.store.audit_events_by_count(actor, AuditCount::CAP + 1)?,
            )),
        };
        let mut actors: Vec<ActorEmail> = Vec::new();
        for event in &events {
            if let AuditActor::User(id) = event.actor {
                if !actors.iter().any(|a| a.id == id) {
                    // A cancelled invitee's record is gone: their id stands for them.
                    let (email, name) = match self.store.user(id)? {
                        Some(u) => (u.email.to_string(), u.name),
                        None => (id.to_string(), String::new()),
                    };
                    actors.push(ActorEmail { id, email, name });
                }
            }
        }
        Ok(AuditPage { events, next, actors, count })
    }

    /// Verifies the store and the audit chain for a user who may read the log.
    pub fn verify_integrity(&self, session: SessionId) -> Result<Integrity> {
        self.authorize(session, Module::Audit, Action::Read)?;
        self.store.verify()
    }
}

impl Directory {
    /// The whole log matching `query` (its paging ignored) as CSV, oldest first: sequence,
    /// time (RFC 3339, UTC), actor (email or `system`), action, target, summary, outcome, the
    /// error code of a refusal, and the event's hash (what the next event chains to). The last
    /// row is always the export's own event: its sequence number and hash are the chain's head
    /// when the file was written, which a later `verify` can hold the log against.
    /// Needs `audit:read`.
    pub fn audit_csv(&self, session: SessionId, query: AuditQuery) -> Result<String> {
        let needs = crate::model::Permission { module: Module::Audit, action: Action::Read };
        self.changing(session, Some(needs), crate::model::AuditAction::ExportAudit, |change| {
            change.attempt("export the audit log as CSV");
            let mut csv = self.audit_csv_text(&query)?;
            let rows = csv.lines().count().saturating_sub(1);
            let (seq, hash) = self.store.audit_head()?;
            change.commit(
                &format!("{rows} events exported as CSV; audit chain head #{seq} {hash}"),
                |_| Ok(()),
            )?;
            // The export's own event, written under this change's lock: the head now.
            let (head, _) = self.store.audit_head()?;
            if let Some(event) = self.store.audit_event(head)? {
                csv.push_str(&self.csv_row(&event, &self.user_emails()?));
            }
            Ok(csv)
        })
    }

    fn audit_csv_text(&self, query: &AuditQuery) -> Result<String> {
        let filter = self.filter(query)?;
        let emails = self.user_emails()?;
        let mut csv = String::from("seq,time,actor,action,target,summary,outcome,code,hash\n");
        for event in self.store.audit_events(1) {
            let e = event?;
            if filter.matches(&e) {
                csv.push_str(&self.csv_row(&e, &emails));
            }
        }
        Ok(csv)
    }

    fn user_emails(&self) -> Result<std::collections::HashMap<UserId, String>> {
        Ok(self.store.users()?.into_iter().map(|u| (u.id, u.email.to_string())).collect())
    }

    /// One event as a CSV line.
    fn csv_row(
        &self,
        e: &AuditEvent,
        emails: &std::collections::HashMap<UserId, String>,
    ) -> String {
        let actor = match e.actor {
            AuditActor::System => "system".to_string(),
            AuditActor::User(id) => emails.get(&id).cloned().unwrap_or_else(|| id.to_string()),
        };
        let fields = [
            e.seq.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor,
            crate::wire_name(&e.action),
            e.target.clone().unwrap_or_default(),
            e.summary.clone(),
            crate::wire_name(&e.outcome),
            e.code.map(|c| crate::wire_name(&c)).unwrap_or_default(),
            e.hash(),
        ];
        let row: Vec<String> = fields.iter().map(|f| crate::csv_io::field(f)).collect();
        format!("{}\n", row.join(","))
    }
}
