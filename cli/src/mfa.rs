//! The second factor and recovery codes (`mfa …`), and an Owner's way back in
//! (`account recover`).

use crate::args::MfaCommand;
use crate::output::Out;
use crate::session::{self, ask_code, code_from, hinted, Me, NEW_OTP_VAR, OTP_VAR};
use crate::{Failure, Outcome};
use gatehouse_core::{Directory, Error, ErrorBody, ErrorCode, RecoverInput};

pub fn mfa(out: &Out, dir: &Directory, me: &Me<'_>, command: &MfaCommand) -> Outcome {
    let email = me.email.as_str();
    match command {
        MfaCommand::Enroll => {
            let enrolment = dir.start_enrolment(me.session)?;
            out.enrolment(&enrolment, email, me.info.second_factor);
        }
        MfaCommand::Confirm => {
            let code = new_authenticator_code(me)?;
            let enrolled = dir.confirm_enrolment(me.session, &code)?;
            // Past the enrolment gate, the sign-in's notes are due now.
            session::notes(&enrolled.session, email, true);
            out.recovery_codes(
                &format!("Your authenticator app now guards {email}."),
                &enrolled.recovery_codes,
            );
        }
        MfaCommand::RecoveryCodes => {
            let codes = dir.new_recovery_codes(me.session)?;
            out.recovery_codes(
                &format!("New recovery codes for {email}; the old ones no longer work."),
                &codes,
            );
        }
        MfaCommand::Reset { user } => {
            let id = dir.find_user_for(me.session, user)?.id;
            let view = dir.remove_second_factor(me.session, id)?;
            out.done(
                &format!("The second factor of {} is removed; their sessions ended.", view.email),
                &view,
            );
        }
    }
    Ok(())
}

/// The code the new authenticator app shows: GATEHOUSE_NEW_OTP; else GATEHOUSE_OTP when the
/// sign-in did not take it (no authenticator yet); else asked for on a terminal.
fn new_authenticator_code(me: &Me<'_>) -> Result<String, Failure> {
    let given =
        code_from(NEW_OTP_VAR).or_else(|| if me.otp_taken { None } else { code_from(OTP_VAR) });
    if let Some(code) = given {
        return Ok(code);
    }
    if let Some(code) = ask_code("Code your new authenticator app shows: ")? {
        return Ok(code);
    }
    let message = if me.otp_taken {
        format!(
            "Type the 6-digit code your new authenticator app shows: {OTP_VAR} signed you in \
             with your current app's code, so give the new one in {NEW_OTP_VAR}."
        )
    } else {
        format!(
            "Type the 6-digit code your new authenticator app shows: give it in {OTP_VAR}, or \
             run the command on a terminal to be asked for it."
        )
    };
    Err(Failure::Refused(ErrorBody::new(ErrorCode::SecondFactorRequired, message)))
}

/// `account recover EMAIL --recovery-code CODE`: a new password (GATEHOUSE_PASSWORD, or asked
/// for twice), and a second code when the Owner has an authenticator (GATEHOUSE_OTP, or asked
/// for). Signed out again at once: the next command signs in with the new password.
pub fn recover(out: &Out, dir: &Directory, email: &str, code: &str) -> Outcome {
    let password =
        session::secret("GATEHOUSE_PASSWORD", "New password: ", Some("New password again: "))?;
    let attempt = |second_code: Option<String>| {
        dir.recover_account(RecoverInput {
            email: email.to_string(),
            code: code.to_string(),
            second_code,
            password: password.clone(),
        })
    };
    let given = code_from(OTP_VAR);
    let signed = match attempt(given.clone()) {
        Err(Error::SecondFactorRequired) if given.is_none() => {
            let hint = format!(
                "Give your authenticator app's code, or another recovery code, in {OTP_VAR}, or \
                 run the command on a terminal to be asked for it."
            );
            let prompt = "Second code: your authenticator app's code, or another recovery code: ";
            match ask_code(prompt)? {
                Some(second) => attempt(Some(second))?,
                None => return Err(hinted(Error::SecondFactorRequired, &hint)),
            }
        }
        other => other?,
    };
    let _ = dir.sign_out(signed.session);
    let info = signed.info;
    session::notes(&info, &info.user.email, false);
    session::gate_note(&info, &info.user.email);
    let left = info.recovery_codes_left.unwrap_or(0);
    out.done(
        &format!(
            "{} has a new password and may sign in again; {left} recovery code{} left.",
            info.user.email,
            if left == 1 { "" } else { "s" }
        ),
        &serde_json::json!({ "recovered": info.user.email, "recovery_codes_left": left }),
    );
    Ok(())
}
