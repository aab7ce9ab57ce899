//! Signing in as `--as`: the password, the second factor, the gates a session may wait at, and
//! the notes a sign-in brings (few recovery codes left, someone used one). Also where every
//! secret the command line reads comes from: a variable, else a prompt without echo.

use crate::args::{AccountCommand, Cli, Command, MfaCommand};
use crate::Failure;
use gatehouse_core::auth::recovery::FEW_LEFT;
use gatehouse_core::{Directory, Error, Gate, SessionId, SessionInfo};
use std::io::{BufRead, IsTerminal};

/// The second factor's code when signing in (or a recovery code), and the second code of
/// `account recover`.
pub const OTP_VAR: &str = "GATEHOUSE_OTP";
/// The new authenticator's code for `mfa confirm`, where GATEHOUSE_OTP signed in with the
/// current one's.
pub const NEW_OTP_VAR: &str = "GATEHOUSE_NEW_OTP";

/// A password: `GATEHOUSE_PASSWORD`, else a prompt without echo, else a line of stdin.
pub fn password(prompt: &str) -> Result<String, Failure> {
    secret("GATEHOUSE_PASSWORD", prompt, None)
}

/// A password: the environment variable `var` when set, else a prompt without echo (and, with
/// `again`, a second prompt that must give the same), else a line of stdin.
pub fn secret(var: &str, prompt: &str, again: Option<&str>) -> Result<String, Failure> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    let cannot = |e: std::io::Error| Failure::Usage(format!("cannot read the password: {e}"));
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(cannot)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password(prompt).map_err(cannot)?;
    if let Some(again) = again {
        if rpassword::prompt_password(again).map_err(cannot)? != first {
            return Err(Failure::Input {
                code: "password_mismatch",
                message: "The two passwords you typed are not the same. Nothing was changed."
                    .into(),
            });
        }
    }
    Ok(first)
}

/// A one-time code from the variable `var`, when set and not empty.
pub fn code_from(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|c| !c.trim().is_empty())
}

/// A one-time code asked for without echo, only on a terminal: a script that gave none gets
/// a refusal naming the variable rather than a wait or a read of its standard input.
pub fn ask_code(prompt: &str) -> Result<Option<String>, Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let typed = rpassword::prompt_password(prompt)
        .map_err(|e| Failure::Usage(format!("cannot read the code: {e}")))?;
    Ok(Some(typed).filter(|t| !t.trim().is_empty()))
}

/// Core's refusal, with a sentence of the command line's saying what to run or set.
pub fn hinted(error: Error, hint: &str) -> Failure {
    let mut body = error.to_body();
    body.message = format!("{} {hint}", body.message);
    Failure::Refused(body)
}

/// The hint for a missing second-factor code.
pub fn missing_code_hint() -> String {
    format!("Give it in {OTP_VAR}, or run the command on a terminal to be asked for it.")
}

/// Signed in as `--as` for one command; signed out when it ends.
pub struct Me<'a> {
    dir: &'a Directory,
    pub session: SessionId,
    pub email: String,
    /// The password it signed in with (for `account password`, the current one).
    pub password: String,
    pub info: SessionInfo,
    /// Whether GATEHOUSE_OTP went to the sign-in's second factor.
    pub otp_taken: bool,
}

impl Drop for Me<'_> {
    fn drop(&mut self) {
        let _ = self.dir.sign_out(self.session);
    }
}

/// The gate a command is the way on from: a session waiting there may run it.
fn own_gate(command: &Command) -> Option<Gate> {
    match command {
        Command::Mfa(MfaCommand::Enroll | MfaCommand::Confirm) => Some(Gate::Enrol),
        Command::Account(AccountCommand::Password) => Some(Gate::NewPassword),
        _ => None,
    }
}

/// Whether the command gives the user a new set of recovery codes (no note that they run low).
fn replaces_recovery_codes(command: &Command) -> bool {
    matches!(command, Command::Mfa(MfaCommand::Confirm | MfaCommand::RecoveryCodes))
}

/// What to run to get past `gate`.
fn gate_hint(gate: Gate, email: &str) -> String {
    match gate {
        Gate::Enrol => format!(
            "Run `gatehouse mfa enroll --as {email}`, add the account to your authenticator \
             app, then `gatehouse mfa confirm --as {email}` with the code it shows."
        ),
        Gate::NewPassword => format!(
            "Run `gatehouse account password --as {email}` to choose a new one \
             (GATEHOUSE_NEW_PASSWORD, or asked for)."
        ),
        Gate::SecondFactor => missing_code_hint(),
    }
}

/// Signs in as `--as` for `cli`'s command: the password, then the second factor when the user
/// has one (GATEHOUSE_OTP, else asked for on a terminal). A session left at a gate goes on only
/// to that gate's own command; any other gets the gate's refusal and what to run instead.
pub fn sign_in<'a>(cli: &Cli, dir: &'a Directory) -> Result<Me<'a>, Failure> {
    let email = cli.global.as_user.as_deref().ok_or_else(|| {
        Failure::Usage("this command needs --as EMAIL: the user it runs as".into())
    })?;
    let password = password(&format!("Password for {email}: "))?;
    let signed = dir.sign_in(email, &password)?;
    let mut me = Me {
        dir,
        session: signed.session,
        email: email.to_string(),
        password,
        info: signed.info,
        otp_taken: false,
    };
    if me.info.gate == Some(Gate::SecondFactor) {
        let code = match code_from(OTP_VAR) {
            Some(code) => {
                me.otp_taken = true;
                code
            }
            None => ask_code(&format!(
                "Code from the authenticator app of {email} (or a recovery code): "
            ))?
            .ok_or_else(|| hinted(Error::SecondFactorRequired, &missing_code_hint()))?,
        };
        me.info = dir.verify_second_factor(me.session, &code)?;
    }
    match me.info.gate {
        Some(gate) if Some(gate) != own_gate(&cli.command) => {
            return Err(hinted(gate.refusal(), &gate_hint(gate, email)));
        }
        Some(_) => {}
        None => notes(&me.info, email, replaces_recovery_codes(&cli.command)),
    }
    Ok(me)
}

/// A note on stderr when a new session waits at a gate the command does not pass (after
/// `users accept` or `account recover`): what the next command must be.
pub fn gate_note(info: &SessionInfo, email: &str) {
    if let Some(gate) = info.gate {
        eprintln!("note: {} {}", gate.refusal(), gate_hint(gate, email));
    }
}

/// Notes on stderr for a sign-in: every use of a recovery code since the last one (shown to
/// Owners once), and, unless `new_codes_coming`, that the recovery codes run low.
pub fn notes(info: &SessionInfo, email: &str, new_codes_coming: bool) {
    for notice in &info.recovery_notices {
        eprintln!(
            "note: {} {} ({}).",
            notice.who,
            notice.what,
            notice.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    if let Some(days) = info.kept_though_dormant {
        eprintln!(
            "note: you had not signed in for {days} days. As the only Active Owner you were not \
             deactivated as dormant: make a second person Owner so that the organization never \
             hangs on one account."
        );
    }
    if new_codes_coming {
        return;
    }
    let run = format!("gatehouse mfa recovery-codes --as {email}");
    match info.recovery_codes_left {
        _ if info.recovery_kit_due => eprintln!(
            "note: you hold no recovery codes: they are an Owner's way back in after a forgotten \
             password or a lost authenticator. Run `{run}` and keep them safe."
        ),
        Some(left) if left as usize <= FEW_LEFT => eprintln!(
            "note: {left} recovery code{} left: run `{run}` for a new set.",
            if left == 1 { "" } else { "s" }
        ),
        _ => {}
    }
}
