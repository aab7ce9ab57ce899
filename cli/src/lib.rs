//! `gatehouse`: the command line over gatehouse-core. Every command goes through the same
//! rules, sessions and audit log as the app; this file only parses and dispatches (signing in
//! is `session.rs`, printing `output.rs`).
//!
//! Exit codes: 0 done (for `can`: yes); 1 refused by a rule or bad input (for `can`: no);
//! 2 usage error; 3 the store cannot be opened. Output that cannot be written: `print.rs`.

mod args;
mod bulk;
mod governance;
mod mfa;
mod output;
mod print;
mod review;
mod roles;
mod session;
mod settings;

use args::{
    AccountCommand, AuditCommand, Cli, Command, OutboxCommand, SettingsCommand, StatusArg,
    UsersCommand,
};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use gatehouse_core::backup::{self, Opening};
use gatehouse_core::model::{Action, AuditAction, Module, UserStatus};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{
    AcceptInput, AuditQuery, Directory, Error, ErrorBody, ErrorCode, InviteOutcome, InviteRequest,
    Invitee, ResetInput, SessionId, SetupInput, SystemClock, UserQuery,
};
use output::Out;
use session::{password, secret, Me};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;

/// Why a command did not succeed, and so its exit code.
enum Failure {
    /// 1: refused by a rule or bad input.
    Refused(ErrorBody),
    /// 1 with nothing to print (`can` answering no, partial invite results already printed).
    Quiet,
    /// 1: bad input caught before core saw it, with a code of the command line's own.
    Input { code: &'static str, message: String },
    /// 2: the command line itself is wrong.
    Usage(String),
    /// 3: the store cannot be opened.
    Unavailable(ErrorBody),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Refused(e.to_body())
    }
}

type Outcome = Result<(), Failure>;

/// The whole command line: parses the process's arguments, runs the command and says how it
/// ended. The `gatehouse` binary is this alone; the app's binary runs it when called by that
/// name (as the Linux packages install it: `src-tauri/linux/gatehouse`).
pub fn main() -> ExitCode {
    // Everything this process writes (the store, a backup, an export) is the user's alone,
    // whatever umask the shell has (domain.md "Data at rest").
    gatehouse_core::files::private_process();
    let cli = Cli::parse();
    let out = Out { json: cli.global.json };
    match run(&cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Quiet) => ExitCode::from(1),
        Err(Failure::Input { code, message }) => {
            out.refusal(code, &message);
            ExitCode::from(1)
        }
        Err(Failure::Refused(body)) => {
            out.error(&body);
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Unavailable(body)) => {
            out.error(&body);
            ExitCode::from(3)
        }
    }
}

/// The data folder: `--data-dir`, `GATEHOUSE_DATA_DIR`, or the app's own (the OS's app-data
/// folder for `app.gatehouse.desktop`, as Tauri places it).
fn data_dir(cli: &Cli) -> Result<PathBuf, Failure> {
    match &cli.global.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => dirs::data_dir().map(|d| d.join("app.gatehouse.desktop")).ok_or_else(|| {
            Failure::Usage("this system has no app-data folder: pass --data-dir".into())
        }),
    }
}

/// Opens the store in the data folder `dir`, which is made private first (created 0700, or
/// tightened with everything in it).
fn open(dir: &Path) -> Result<Directory, Failure> {
    let store = gatehouse_core::files::prepare_data_folder(dir).map_err(|e| match e.code() {
        ErrorCode::StoreBehind => {
            Failure::Unavailable(ErrorBody::new(e.code(), with_backup(dir, &e)))
        }
        _ => Failure::Unavailable(e.to_body()),
    })?;
    // Settled: a command run just as the app or another command closes the store waits a
    // moment for sled to let go of its lock (a store another program holds is still refused).
    Directory::open_settled(&store, Arc::new(SystemClock)).map_err(|e| match e.code() {
        ErrorCode::StoreLocked => Failure::Unavailable(ErrorBody::new(
            ErrorCode::StoreLocked,
            "The Gatehouse store is open in another program (the app, or another \
             gatehouse command). Close it and try again.",
        )),
        ErrorCode::StoreBehind | ErrorCode::StoreDamaged => {
            Failure::Unavailable(ErrorBody::new(e.code(), with_backup(dir, &e)))
        }
        _ => Failure::Unavailable(e.to_body()),
    })
}

/// A store that cannot be used: its sentence, then the newest good automatic backup in the data
/// folder `data` and the command that restores it.
fn with_backup(data: &Path, e: &Error) -> String {
    let keys = Keys::system();
    match backup::newest_good(&data.join("backups"), &Opening::new(data, &keys)) {
        Some((file, info)) => format!(
            "{e} The newest good backup was made {}: restore it with\n  gatehouse restore {}",
            info.created_at.format("%Y-%m-%d %H:%M UTC"),
            file.display()
        ),
        None => format!("{e} No automatic backup in {} can be restored.", data.display()),
    }
}

fn run(cli: &Cli, out: &Out) -> Outcome {
    let data = data_dir(cli)?;
    match &cli.command {
        Command::Setup { org, name, email } => {
            let dir = open(&data)?;
            let password = password("Password for the new Owner: ")?;
            let signed = dir.setup(SetupInput {
                organization: org.clone(),
                name: name.clone(),
                email: email.clone(),
                password,
            })?;
            // The first Owner's recovery kit: their way back in, shown this once.
            let codes = dir.new_recovery_codes(signed.session);
            let _ = dir.sign_out(signed.session);
            out.set_up(&signed.info.organization, &signed.info.user, &codes?);
            Ok(())
        }
        Command::Users(UsersCommand::Accept { email, code, name }) => {
            let dir = open(&data)?;
            let password = password("Choose a password: ")?;
            let signed = dir.accept_invitation(AcceptInput {
                email: email.clone(),
                code: code.clone(),
                name: name.clone(),
                password,
            })?;
            let _ = dir.sign_out(signed.session);
            session::gate_note(&signed.info, email);
            out.done(&format!("Welcome, {name}: {email} is active."), &signed.info.user);
            Ok(())
        }
        Command::Users(UsersCommand::SetPassword { email, code }) => {
            let dir = open(&data)?;
            let password = password("New password: ")?;
            dir.reset_password(ResetInput { email: email.clone(), code: code.clone(), password })?;
            out.done(
                &format!("The password of {email} is set."),
                &serde_json::json!({ "email": email }),
            );
            Ok(())
        }
        Command::Restore { file, accept_unencrypted } => {
            restore(cli, out, &data, file, *accept_unencrypted)
        }
        Command::Account(AccountCommand::Recover { email, recovery_code }) => {
            let dir = open(&data)?;
            mfa::recover(out, &dir, email, recovery_code)
        }
        _ => {
            let dir = open(&data)?;
            let me = session::sign_in(cli, &dir)?;
            signed_in(cli, out, &dir, &me, &data)
        }
    }
}

fn signed_in(cli: &Cli, out: &Out, dir: &Directory, me: &Me<'_>, data: &Path) -> Outcome {
    let s = me.session;
    let user = |text: &str| -> Result<_, Failure> { Ok(dir.find_user_for(s, text)?.id) };
    match &cli.command {
        Command::Users(command) => match command {
            UsersCommand::List {
                status,
                role,
                search,
                dormant_soon,
                ending_soon,
                no_sign_in_since,
            } => {
                let query = UserQuery {
                    status: status.map(|s| match s {
                        StatusArg::Active => UserStatus::Active,
                        StatusArg::Inactive => UserStatus::Inactive,
                        StatusArg::Invited => UserStatus::Invited,
                    }),
                    role: role.clone(),
                    search: search.clone(),
                    dormant_soon: dormant_soon.then_some(true),
                    ending_soon: ending_soon.then_some(true),
                    no_sign_in_since: no_sign_in_since.as_deref().map(parse_time).transpose()?,
                    limit: Some(1000),
                    ..Default::default()
                };
                let mut users = Vec::new();
                loop {
                    let offset = Some(users.len() as u32);
                    let page = dir.query_users(s, UserQuery { offset, ..query.clone() })?;
                    let done = page.users.is_empty()
                        || users.len() + page.users.len() >= page.total as usize;
                    users.extend(page.users);
                    if done {
                        break;
                    }
                }
                out.users(&users);
            }
            UsersCommand::Show { user: u } => out.detail(&dir.user_detail(s, user(u)?)?),
            UsersCommand::Invite { emails, roles, name, until, approval } => {
                let request = InviteRequest {
                    invitees: emails
                        .iter()
                        .map(|e| Invitee { email: e.clone(), name: name.clone() })
                        .collect(),
                    roles: roles.clone(),
                    approval: approval.clone(),
                    access_until: until.as_deref().map(governance::end_date).transpose()?.flatten(),
                };
                let outcomes = dir.invite_users(s, request).map_err(governance::grant_refused)?;
                out.invited(&outcomes);
                if outcomes.iter().any(|o| matches!(o, InviteOutcome::Refused { .. })) {
                    return Err(Failure::Quiet);
                }
            }
            UsersCommand::Deactivate { .. }
            | UsersCommand::Reactivate { .. }
            | UsersCommand::Roles { .. }
            | UsersCommand::Resend { .. }
            | UsersCommand::Cancel { .. } => bulk::users(out, dir, s, command)?,
            UsersCommand::ResetPassword { user: u } => {
                out.code(&dir.issue_password_reset(s, user(u)?)?)
            }
            UsersCommand::Unlock { user: u } => {
                let view = dir.unlock_user(s, user(u)?)?;
                out.done(&format!("{} can sign in again.", view.email), &view);
            }
            UsersCommand::AccessUntil { user: u, date } => {
                let until = governance::end_date(date)?;
                governance::access_until(out, dir, s, user(u)?, until)?
            }
            UsersCommand::Accept { .. } | UsersCommand::SetPassword { .. } => {}
        },
        Command::Roles(command) => roles::roles(out, dir, s, command)?,
        Command::Can { user: u, module, action } => {
            let module: Module = parse_key(module, "module")?;
            let action: Action = parse_key(action, "action")?;
            let yes = dir.check_permission(s, user(u)?, module, action)?;
            out.answer(yes);
            if !yes {
                return Err(Failure::Quiet);
            }
        }
        Command::WhoCan { module, action, csv } => {
            governance::who_can(out, dir, s, module, action, csv.as_deref())?
        }
        Command::Audit(command) => audit(out, data, dir, s, command)?,
        Command::Outbox(command) => outbox(out, dir, s, command)?,
        Command::Import { file, dry_run, approval } => {
            let text = gatehouse_core::csv_io::read_file(file)?;
            let report = dir
                .import_users_csv(s, &text, *dry_run, approval.clone(), |_, _| {})
                .map_err(governance::grant_refused)?;
            out.import(&report, *dry_run);
        }
        Command::Export { file } => {
            let csv = dir.users_csv(s)?;
            write_file(file, csv.as_bytes())?;
            out.done(&format!("Wrote {}.", file.display()), &serde_json::json!({ "file": file }));
        }
        Command::Backup { file } => {
            let passphrase = secret(
                PASSPHRASE_VAR,
                "Passphrase for the backup: ",
                Some("The same passphrase again: "),
            )?;
            let info = dir.backup(s, file, &passphrase)?;
            out.done(
                &format!(
                    "Wrote a backup of {} users and {} events to {}, encrypted with your \
                     passphrase. Audit log head: #{} {}.",
                    info.users,
                    info.audit_events,
                    file.display(),
                    info.audit_head_seq,
                    info.audit_head_hash
                ),
                &info,
            );
        }
        Command::Account(AccountCommand::Password) => {
            let new =
                secret("GATEHOUSE_NEW_PASSWORD", "New password: ", Some("New password again: "))?;
            dir.change_own_password(s, &me.password, &new)?;
            out.done(
                &format!("The password of {} is changed.", me.email),
                &serde_json::json!({ "email": me.email }),
            );
        }
        Command::Mfa(command) => mfa::mfa(out, dir, me, command)?,
        Command::Review(command) => review::review(out, dir, s, command)?,
        Command::Settings(SettingsCommand::Show) => settings::show(out, dir, s)?,
        Command::Settings(SettingsCommand::Set { key, value }) => {
            settings::set(out, dir, s, key, value)?
        }
        Command::Setup { .. } | Command::Restore { .. } | Command::Account(_) => {}
    }
    let _ = data;
    Ok(())
}

fn audit(out: &Out, data: &Path, dir: &Directory, s: SessionId, command: &AuditCommand) -> Outcome {
    match command {
        AuditCommand::List { actor, action, since, limit } => {
            let action: Option<AuditAction> =
                action.as_deref().map(|a| parse_key(a, "audit action")).transpose()?;
            let from = since.as_deref().map(parse_time).transpose()?;
            let query = AuditQuery {
                actor: actor.clone(),
                action,
                from,
                limit: Some((*limit).clamp(1, 500)),
                ..Default::default()
            };
            let page = dir.audit_log(s, query)?;
            out.events(&page);
        }
        AuditCommand::Verify { against: None } => {
            let integrity = dir.verify_integrity(s)?;
            out.integrity(&integrity);
            if !integrity.is_intact() {
                return Err(Failure::Quiet);
            }
        }
        AuditCommand::Verify { against: Some(file) } => {
            let integrity = dir.verify_integrity(s)?;
            if !integrity.is_intact() {
                out.integrity(&integrity);
                return Err(Failure::Quiet);
            }
            let keys = Keys::system();
            let check = with_passphrase(&Opening::new(data, &keys), |opening| {
                dir.compare_with_backup(s, file, opening)
            })?;
            if !out.json {
                out.integrity(&integrity);
            }
            out.done(
                &format!(
                    "Today's audit log begins with the one in {} (made {}): events 1 to #{} are \
                     the same, hash for hash. Head now: #{} {}.",
                    file.display(),
                    check.backup_created_at.format("%Y-%m-%d %H:%M UTC"),
                    check.backup_head_seq,
                    check.head_seq,
                    check.head_hash
                ),
                &serde_json::json!({ "integrity": integrity, "against": check }),
            );
        }
        AuditCommand::Export { file } => {
            let csv = dir.audit_csv(s, AuditQuery::default())?;
            write_file(file, csv.as_bytes())?;
            out.done(&format!("Wrote {}.", file.display()), &serde_json::json!({ "file": file }));
        }
    }
    Ok(())
}

fn outbox(out: &Out, dir: &Directory, s: SessionId, command: &OutboxCommand) -> Outcome {
    match command {
        OutboxCommand::List { limit } => out.messages(&dir.outbox(s, *limit)?),
        OutboxCommand::Save { id, file } => {
            // An id that is not one can name no message.
            let id = Uuid::parse_str(id.trim()).map_err(|_| Error::MessageNotFound)?;
            let saved = dir.save_message(s, id, file)?;
            out.done(
                &format!(
                    "Saved the message to {} as {}: send it from your mail client.",
                    saved.to,
                    file.display()
                ),
                &saved,
            );
        }
    }
    Ok(())
}

/// `restore FILE`: over a store that opens, its Owner signs in (their password is the right to
/// replace it), then it is closed and replaced. When the store cannot be opened at all, the
/// backup's own passphrase (or, for an automatic backup, this computer's key) is the right.
fn restore(cli: &Cli, out: &Out, data: &Path, file: &Path, accept_unencrypted: bool) -> Outcome {
    let store = data.join("store");
    let right = match open(data) {
        // A store nobody has set up holds nothing to protect: the backup's own key is the right.
        Ok(dir) if !dir.is_set_up()? => {
            drop(dir);
            backup::RestoreRight::store_unusable(&store)?
        }
        Ok(dir) => {
            if cli.global.as_user.is_none() {
                return Err(Failure::Usage(
                    "restoring over a store that opens needs --as EMAIL: its Owner".into(),
                ));
            }
            let right = {
                let me = session::sign_in(cli, &dir)?;
                dir.may_restore(me.session, &me.password)
            };
            drop(dir);
            right?
        }
        Err(Failure::Unavailable(body)) if body.code != ErrorCode::StoreLocked => {
            backup::RestoreRight::store_unusable(&store)?
        }
        Err(other) => return Err(other),
    };
    let keys = Keys::system();
    let opening = Opening { accept_unencrypted, ..Opening::new(data, &keys) };
    let restored =
        with_passphrase(&opening, |opening| backup::restore(file, &store, &right, opening))?;
    out.done(
        &format!(
            "Restored {} users and {} events from {}; the replaced store is kept in {}.",
            restored.info.users,
            restored.info.audit_events,
            file.display(),
            restored.kept.as_deref().unwrap_or("(none)")
        ),
        &restored,
    );
    Ok(())
}

const PASSPHRASE_VAR: &str = "GATEHOUSE_BACKUP_PASSPHRASE";

/// Runs `f` with `opening`; when the backup turns out to be locked with a passphrase, asks for
/// it (GATEHOUSE_BACKUP_PASSPHRASE, else a prompt) and runs `f` again with it.
fn with_passphrase<T>(
    opening: &Opening<'_>,
    mut f: impl FnMut(&Opening<'_>) -> gatehouse_core::Result<T>,
) -> Result<T, Failure> {
    let given = std::env::var(PASSPHRASE_VAR).ok();
    let first = Opening { passphrase: given.as_deref(), ..*opening };
    match f(&first) {
        Err(Error::BackupPassphraseNeeded) if given.is_none() => {
            let passphrase = secret(PASSPHRASE_VAR, "Passphrase of the backup: ", None)?;
            Ok(f(&Opening { passphrase: Some(&passphrase), ..*opening })?)
        }
        other => Ok(other?),
    }
}

/// A snake_case key of one of core's enums (`users`, `read`, `sign_in`).
fn parse_key<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, Failure> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_lowercase().replace('-', "_")))
        .map_err(|_| Failure::Usage(format!("{text:?} is not a known {what}")))
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, Failure> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{text:?} is not a time: write 2026-05-01 or 2026-05-01T09:00:00Z"
            ))
        })
}

/// Writes `bytes` to a temporary name beside `file` (0600), syncs it, then renames it into place.
fn write_file(file: &Path, bytes: &[u8]) -> Result<(), Failure> {
    gatehouse_core::files::write_atomically(file, bytes).map_err(Failure::from)
}
