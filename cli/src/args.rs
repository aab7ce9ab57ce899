//! The command line's shape (clap). `--data-dir`, `--as` and `--json` are global: accepted
//! before or after the subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Manage who may do what in your organization, from the command line.",
    long_about = "Manage who may do what in your organization, from the command line. It works on \
                  the same store as the Gatehouse app, under the same rules, sessions and audit \
                  log. USER is an email or an id. The password is read from GATEHOUSE_PASSWORD \
                  when set, otherwise asked for; `account password` reads the new one from \
                  GATEHOUSE_NEW_PASSWORD when set, otherwise asks for it twice. A user with a \
                  second factor gives its code (from the authenticator app, or a recovery code) \
                  in GATEHOUSE_OTP, or is asked for it on a terminal; without one the command \
                  exits 1 with `second_factor_required`. A user whose role needs a second factor \
                  and who has none may only run `mfa enroll` and `mfa confirm` \
                  (`enrolment_required`); one whose password expired only `account password` \
                  (`password_expired`)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The data folder (the store is its `store/` folder). Default: the app's own.
    #[arg(long, global = true, env = "GATEHOUSE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Sign in as this user (email) to run the command: the password from GATEHOUSE_PASSWORD,
    /// the second factor's code (if they have one) from GATEHOUSE_OTP, or asked for.
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    pub as_user: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// First-run setup: create the organization and its Owner; prints the Owner's 10 recovery
    /// codes (their way back in with `account recover`), shown this once.
    Setup {
        #[arg(long, value_name = "NAME")]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// List, invite and manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List and manage roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Whether USER may do ACTION on MODULE now: prints yes or no (exit code 0 or 1).
    Can { user: String, module: String, action: String },
    /// Everyone whose roles grant ACTION on MODULE (e.g. `who-can transactions delete`), with
    /// the roles that grant it, whatever their status.
    ///
    /// MODULE is a key of the permission table (users, roles, settings, audit, transactions,
    /// recovery_profiles, ...); ACTION is create, read, update or delete (or c, r, u, d).
    /// Needs users:read and roles:read.
    WhoCan {
        module: String,
        action: String,
        /// Write the answer to FILE as CSV instead (the export is audited).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
    /// Read, verify and export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The emails waiting to be sent, sent or saved (invitations, password resets).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// What you may change about yourself (`--as`), and an Owner's way back in.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Your second factor (an authenticator app) and recovery codes; removing someone else's.
    #[command(subcommand)]
    Mfa(MfaCommand),
    /// The organization's settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Invite the users in a CSV file (columns email, name, roles separated by `;`).
    Import {
        file: PathBuf,
        /// Report what would happen, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Who approved these grants and where it is recorded, kept in the audit log; needed
        /// when a role in the file is one of the settings' approval-required-roles.
        #[arg(long, value_name = "TEXT")]
        approval: Option<String>,
    },
    /// Write every user to a CSV file.
    Export { file: PathBuf },
    /// Write a backup of the whole store to FILE, encrypted with a passphrase (read from
    /// GATEHOUSE_BACKUP_PASSPHRASE when set, otherwise asked for twice). `age -d` opens it too.
    Backup { file: PathBuf },
    /// Replace the store with a backup (the current store is kept aside). A store that opens
    /// needs its Owner (`--as`, with their password); one that cannot be opened needs only the
    /// backup's passphrase (GATEHOUSE_BACKUP_PASSPHRASE, or asked for).
    Restore {
        file: PathBuf,
        /// Restore a backup written before Gatehouse encrypted its backups, accepting that
        /// nothing proves it was not changed since.
        #[arg(long)]
        accept_unencrypted: bool,
    },
    /// Access reviews (PCI DSS v4 7.2.4): every Active and Invited user's access, decided,
    /// applied and signed off. Starting and deciding need users:update and audit:read.
    #[command(subcommand)]
    Review(ReviewCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Start a review: a snapshot of every Active and Invited user; prints the review id.
    Start,
    /// Decide for USER: keep, deactivate, or roles (with --role, repeated or comma-separated).
    Decide {
        /// The review id `review start` printed.
        id: String,
        user: String,
        #[arg(value_enum)]
        decision: ReviewDecision,
        /// The roles USER should hold (with `roles`).
        #[arg(long, value_name = "ROLE", value_delimiter = ',')]
        role: Vec<String>,
        /// Why, kept with the decision and in the report.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Carry out the decisions through the ordinary rules; prints each user's outcome.
    Apply { id: String },
    /// Sign the review off: records you, the time, the decisions and the audit chain's head.
    /// Every user must be decided and the decisions applied; the review cannot change after.
    SignOff { id: String },
    /// A review: every user with their decision (JSON: `users[].decision`).
    Show { id: String },
    /// Write the review's report to FILE: CSV, or a printable page when FILE ends in .html.
    Report { id: String, file: PathBuf },
    /// Every review, newest first, and when the next one is due.
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewDecision {
    Keep,
    Deactivate,
    Roles,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Active,
    Inactive,
    Invited,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Users, sorted by name.
    List {
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long, value_name = "KEY")]
        role: Option<String>,
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only Active users the dormant-account rule deactivates within 14 days.
        #[arg(long)]
        dormant_soon: bool,
        /// Only users whose access ends within 30 days.
        #[arg(long)]
        ending_soon: bool,
        /// Only users with no sign-in since this date (YYYY-MM-DD, UTC, or an RFC 3339 time);
        /// those who never signed in included.
        #[arg(long, value_name = "DATE")]
        no_sign_in_since: Option<String>,
    },
    /// One user: profile, roles and effective permissions.
    Show { user: String },
    /// Invite one or more emails with the given roles; prints each code.
    Invite {
        #[arg(required = true)]
        emails: Vec<String>,
        #[arg(long = "role", required = true, value_name = "KEY")]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// The day their access ends (YYYY-MM-DD, after today): the system deactivates them
        /// on it.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Who approved the grant and where it is recorded, kept in the audit log; needed for
        /// the settings' approval-required-roles.
        #[arg(long, value_name = "TEXT")]
        approval: Option<String>,
    },
    /// Send pending invitations again, each with a new code; prints them.
    Resend {
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Cancel pending invitations.
    Cancel {
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Accept an invitation (no --as): sets your name and password.
    Accept {
        email: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Deactivate one or more users; their history is kept.
    Deactivate {
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
        /// Why, kept in each user's audit event.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reactivate one or more Inactive users.
    Reactivate {
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Replace the roles of one or more users: each then holds exactly these.
    Roles {
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
        #[arg(long = "role", required = true, value_name = "KEY")]
        roles: Vec<String>,
        /// Who approved the grant and where it is recorded, kept in the audit log; needed when
        /// a newly granted role is one of the settings' approval-required-roles.
        #[arg(long, value_name = "TEXT")]
        approval: Option<String>,
    },
    /// Set the day USER's access ends (YYYY-MM-DD, after today; the system deactivates them
    /// on it), or `never` to clear it.
    AccessUntil {
        user: String,
        /// YYYY-MM-DD, or never.
        date: String,
    },
    /// Issue a password reset code; prints it.
    ResetPassword { user: String },
    /// Lift a sign-in lockout.
    Unlock { user: String },
    /// Set a new password with a reset code (no --as).
    SetPassword {
        email: String,
        #[arg(long)]
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Every role with its member count.
    List,
    /// One role and its permissions.
    Show { key: String },
    /// Create a custom role, e.g. `--perm customers:ru --perm analytics:r`, or a copy of
    /// another role with `--from KEY`.
    Create {
        key: String,
        /// The role's name; with --from, "Copy of" the source's name when absent.
        #[arg(long, required_unless_present = "from")]
        name: Option<String>,
        /// With --from, the source's description when absent.
        #[arg(long)]
        description: Option<String>,
        #[arg(long = "perm", value_name = "MODULE:ACTIONS")]
        perms: Vec<String>,
        /// Copy this role's (built-in or custom) permissions. Not with --perm: change the copy
        /// afterwards with `roles update`.
        #[arg(long, value_name = "KEY", conflicts_with = "perms")]
        from: Option<String>,
    },
    /// Replace a custom role's permissions (and optionally its name or description).
    Update {
        key: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long = "perm", value_name = "MODULE:ACTIONS")]
        perms: Vec<String>,
    },
    /// Delete a custom role nobody holds.
    Delete { key: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Events, newest first.
    List {
        #[arg(long, value_name = "USER")]
        actor: Option<String>,
        #[arg(long, value_name = "NAME")]
        action: Option<String>,
        /// RFC 3339 time or a date (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Check the store's invariants and the audit chain; with --against, also that today's
    /// log begins with the one in that backup (exit 1, `audit_rewritten`, if it does not).
    Verify {
        /// An earlier backup to hold the log against (its passphrase from
        /// GATEHOUSE_BACKUP_PASSPHRASE, or asked for).
        #[arg(long, value_name = "BACKUP")]
        against: Option<PathBuf>,
    },
    /// Write the whole log as CSV.
    Export { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Messages, newest first.
    List {
        /// At most this many messages.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Write an unsent message as an .eml file to send from any mail client; it then leaves
    /// the queue. Only for those who may act on its recipient.
    Save {
        /// The message's id, as `outbox list` prints it.
        id: String,
        /// Where to write it, e.g. `invitation.eml`.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Change your own password: the current one is the one you sign in with, the new one comes
    /// from GATEHOUSE_NEW_PASSWORD or is asked for twice. Also the way on when your password
    /// has expired.
    Password,
    /// An Owner who forgot their password sets a new one with a recovery code (no --as).
    ///
    /// The new password comes from GATEHOUSE_PASSWORD or is asked for twice; a lockout lifts.
    /// With an authenticator app, a second code is needed too: the app's code or another
    /// recovery code, from GATEHOUSE_OTP or asked for. Every Owner is told at their next
    /// sign-in. Prints how many recovery codes are left.
    Recover {
        email: String,
        /// One of your recovery codes (setup printed the first Owner's).
        #[arg(long, value_name = "CODE")]
        recovery_code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Start adding an authenticator app: prints its `otpauth://` URI and secret.
    ///
    /// The secret is shown this once. Until `mfa confirm`, a current authenticator keeps
    /// working.
    Enroll,
    /// Finish `mfa enroll` with the app's code (GATEHOUSE_OTP); prints 10 recovery codes.
    ///
    /// The 6-digit code the new app shows comes from GATEHOUSE_OTP, or is asked for on a
    /// terminal. The recovery codes are a new set: the old ones stop working.
    /// Replacing an authenticator: GATEHOUSE_OTP signs you in with the current app's code, so
    /// give the new app's code in GATEHOUSE_NEW_OTP (one variable cannot hold both; on a
    /// terminal you are asked for each).
    Confirm,
    /// A new set of 10 recovery codes, shown this once; the old set stops working.
    RecoveryCodes,
    /// Remove USER's second factor (a lost phone); their sessions end.
    ///
    /// They set one up again at their next sign-in when their role needs it. Only for those
    /// who hold every permission USER holds (an Owner for an Owner).
    Reset { user: String },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting, one `key: value` line each (the keys `settings set` takes).
    Show,
    /// Change one setting: `settings set mfa-required-roles admin,owner`.
    ///
    /// KEY is one of: name (the organization's name),
    /// invitation-lifetime-hours (1 to 720), session-idle-minutes (1 to 60),
    /// mfa-required-roles (role keys separated by commas, e.g. admin,owner, or none: their
    /// holders must have a second factor), password-max-age-days (30 to 365, or off: passwords
    /// of users without a second factor expire), dormant-days (30 to 365, or off: Active users
    /// without a sign-in for that long are deactivated by the system), review-months (1 to 12:
    /// how often access is reviewed), approval-required-roles (role keys separated by commas,
    /// or none: granting them needs --approval). Only an Owner changes the last five.
    Set {
        /// name, invitation-lifetime-hours, session-idle-minutes, mfa-required-roles,
        /// password-max-age-days, dormant-days, review-months or approval-required-roles.
        key: String,
        /// The new value, as `settings show` prints it.
        value: String,
    },
}
