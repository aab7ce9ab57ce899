//! Talking to the mail server, one step at a time so that a failure names its step: finding
//! the server (DNS), connecting, TLS, signing in, then the sender, the recipient and the
//! message. lettre over rustls, async on tokio.

use super::{MailSettings, Security};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// How long connecting may take, and a whole conversation with the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const CONVERSATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a send stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SendStep {
    /// The mail server settings are missing, or a password is needed and not known.
    Settings,
    Dns,
    Connect,
    Tls,
    Authentication,
    Sender,
    Recipient,
    Message,
}

impl SendStep {
    pub fn label(self) -> &'static str {
        match self {
            SendStep::Settings => "settings",
            SendStep::Dns => "finding the server (DNS)",
            SendStep::Connect => "connecting",
            SendStep::Tls => "TLS",
            SendStep::Authentication => "signing in",
            SendStep::Sender => "the sender address",
            SendStep::Recipient => "the recipient",
            SendStep::Message => "the message",
        }
    }
}

/// Why a send failed: the step, a sentence for a person, and whether trying again later may
/// help (the network or the server being away) or not (a refused password or address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SendFailure {
    pub step: SendStep,
    pub message: String,
    pub transient: bool,
    /// What the server or the network said, as it said it ("550 5.1.1 No such user",
    /// "Connection refused (os error 111)"); empty when nothing was said.
    #[serde(default)]
    pub raw: String,
}

impl SendFailure {
    pub(crate) fn new(step: SendStep, transient: bool, message: impl Into<String>) -> Self {
        SendFailure { step, message: message.into(), transient, raw: String::new() }
    }

    fn with_raw(self, raw: impl Into<String>) -> Self {
        SendFailure { raw: raw.into(), ..self }
    }

    fn from_smtp(step: SendStep, e: &lettre::transport::smtp::Error) -> Self {
        if is_tls_failure(e) {
            let message = format!(
                "The secure (TLS) connection failed: {}. Check the security setting and port.",
                root_cause(e)
            );
            return SendFailure::new(SendStep::Tls, false, message).with_raw(reply_text(e));
        }
        let transient = e.is_transient() || e.is_timeout() || !e.is_permanent();
        SendFailure::new(step, transient, describe(step, e)).with_raw(reply_text(e))
    }

    /// The server at `host` and `port` did not take the connection.
    fn unreachable(host: &str, port: u16, e: &lettre::transport::smtp::Error) -> Self {
        if is_tls_failure(e) || e.is_timeout() || e.status().is_some() {
            return SendFailure::from_smtp(SendStep::Connect, e);
        }
        let cause = root_cause(e);
        let reason = without_os_error(&cause).to_lowercase();
        let message = format!("Could not reach {host} on port {port}: {reason}.");
        SendFailure::new(SendStep::Connect, true, message).with_raw(cause)
    }
}

/// One step of a test: what was tried and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct StepResult {
    pub step: SendStep,
    pub ok: bool,
    pub detail: String,
}

/// The result of "Send test email": each step reached, the last one failed if `failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TestReport {
    /// Who the test was sent to.
    pub to: String,
    /// The outcome in a sentence ("Sent to ada@example.com. The server accepted it.").
    pub summary: String,
    /// The server's last reply as it said it, or the failure's own words; may be empty.
    pub raw: String,
    pub steps: Vec<StepResult>,
    pub failure: Option<SendFailure>,
}

/// Sends one formatted message to the envelope's recipients. Returns the server's reply to
/// the message ("250 2.0.0 Ok: queued as ...").
pub async fn send(
    settings: &MailSettings,
    password: Option<&str>,
    envelope: &Envelope,
    message: &[u8],
) -> Result<String, SendFailure> {
    timed(settings, password, envelope, message).await.1
}

/// Sends a test message and reports each step: connected, TLS, signed in, accepted.
pub async fn test_connection(
    settings: &MailSettings,
    password: Option<&str>,
    envelope: &Envelope,
    message: &[u8],
) -> TestReport {
    let (mut steps, result) = timed(settings, password, envelope, message).await;
    let to = envelope.to().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    match result {
        Ok(reply) => TestReport {
            summary: format!("Sent to {to}. The server accepted it."),
            to,
            raw: reply,
            steps,
            failure: None,
        },
        Err(f) => {
            steps.push(StepResult { step: f.step, ok: false, detail: f.message.clone() });
            TestReport {
                to,
                summary: f.message.clone(),
                raw: f.raw.clone(),
                steps,
                failure: Some(f),
            }
        }
    }
}

/// The conversation within [`CONVERSATION_TIMEOUT`]: the steps passed, and the outcome (a
/// timeout is a failure at the last step reached, worth retrying).
async fn timed(
    settings: &MailSettings,
    password: Option<&str>,
    envelope: &Envelope,
    message: &[u8],
) -> (Vec<StepResult>, Result<String, SendFailure>) {
    let mut steps = Vec::new();
    let result = tokio::time::timeout(
        CONVERSATION_TIMEOUT,
        converse(settings, password, envelope, message, &mut steps),
    )
    .await
    .unwrap_or_else(|_| {
        Err(SendFailure::new(
            steps.last().map_or(SendStep::Connect, |s| s.step),
            true,
            "The mail server stopped answering (timed out).",
        )
        .with_raw("timed out"))
    });
    (steps, result)
}

async fn converse(
    settings: &MailSettings,
    password: Option<&str>,
    envelope: &Envelope,
    message: &[u8],
    steps: &mut Vec<StepResult>,
) -> Result<String, SendFailure> {
    let mut ok = |step, detail: String| steps.push(StepResult { step, ok: true, detail });
    let password = match (settings.needs_password(), password) {
        (false, _) => None,
        (true, Some(p)) => Some(p),
        (true, None) => {
            return Err(SendFailure::new(
                SendStep::Settings,
                false,
                "The mail server's password is not known: enter it in Settings › Email.",
            ))
        }
    };
    let address = resolve(&settings.host, settings.port).await?;
    ok(SendStep::Dns, format!("{} is {}", settings.host, address.ip()));
    let server = (settings.host.trim_matches(|c| c == '[' || c == ']'), settings.port);
    let tls = || {
        TlsParameters::new(settings.host.clone())
            .map_err(|e| SendFailure::from_smtp(SendStep::Tls, &e))
    };
    let implicit = match settings.security {
        Security::Tls => Some(tls()?),
        Security::StartTls | Security::LocalRelay => None,
    };
    let hello = ClientId::default();
    let mut conn =
        AsyncSmtpConnection::connect_tokio1(server, Some(CONNECT_TIMEOUT), &hello, implicit, None)
            .await
            .map_err(|e| SendFailure::unreachable(&settings.host, settings.port, &e))?;
    ok(SendStep::Connect, format!("connected to {}:{}", settings.host, settings.port));
    match settings.security {
        Security::Tls => ok(SendStep::Tls, "TLS from the start".into()),
        Security::StartTls => {
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(SendFailure::new(
                    SendStep::Tls,
                    false,
                    "The server does not offer STARTTLS, which this setting requires: nothing \
                     was sent unencrypted. Choose TLS (port 465) if the server uses it.",
                ));
            }
            conn.starttls(tls()?, &hello)
                .await
                .map_err(|e| SendFailure::from_smtp(SendStep::Tls, &e))?;
            ok(SendStep::Tls, "STARTTLS".into());
        }
        Security::LocalRelay => {}
    }
    if let Some(password) = password {
        let credentials = Credentials::new(settings.username.clone(), password.to_string());
        if let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await {
            conn.abort().await;
            let offered = e.is_client();
            return Err(SendFailure::new(
                SendStep::Authentication,
                false,
                if offered {
                    "The server does not offer a way to sign in that Gatehouse supports \
                     (PLAIN or LOGIN)."
                        .to_string()
                } else {
                    format!("The server refused the user name or password ({}).", reply_text(&e))
                },
            )
            .with_raw(reply_text(&e)));
        }
        ok(SendStep::Authentication, format!("signed in as {}", settings.username));
    }
    let step = |conn_step| move |e: lettre::transport::smtp::Error| (conn_step, e);
    let outcome = async {
        conn.command(Mail::new(envelope.from().cloned(), vec![]))
            .await
            .map_err(step(SendStep::Sender))?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), vec![])).await.map_err(step(SendStep::Recipient))?;
        }
        conn.command(Data).await.map_err(step(SendStep::Message))?;
        conn.message(message).await.map_err(step(SendStep::Message))
    }
    .await;
    match outcome {
        Ok(reply) => {
            let _ = conn.quit().await;
            let text = reply.message().collect::<Vec<_>>().join(" ");
            let reply = format!("{} {}", reply.code(), text).trim().to_string();
            ok(SendStep::Message, format!("accepted: {reply}"));
            Ok(reply)
        }
        Err((step, e)) => {
            conn.abort().await;
            Err(SendFailure::from_smtp(step, &e))
        }
    }
}

/// The server's first address. A failure is a DNS failure (often: this computer is offline).
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, SendFailure> {
    let host = host.trim_matches(|c| c == '[' || c == ']');
    match tokio::net::lookup_host((host, port)).await {
        Ok(mut addresses) => addresses.next().ok_or_else(|| {
            SendFailure::new(SendStep::Dns, true, format!("The name {host} has no address."))
        }),
        Err(e) => Err(SendFailure::new(
            SendStep::Dns,
            true,
            format!("Could not find the mail server {host} ({e}). Is this computer online?"),
        )
        .with_raw(e.to_string())),
    }
}

/// A TLS failure: lettre's own, or the handshake failing inside the connection (rustls
/// reports what is not TLS, such as a plain SMTP greeting, as invalid data).
fn is_tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        cause = c.source();
    }
    e.is_tls()
}

fn describe(step: SendStep, e: &lettre::transport::smtp::Error) -> String {
    if e.is_timeout() {
        return "The mail server did not answer in time.".into();
    }
    match step {
        SendStep::Connect if e.status().is_none() => {
            format!("Could not connect to the mail server: {}.", root_cause(e))
        }
        SendStep::Sender => format!("The server refused the sender address ({}).", reply_text(e)),
        SendStep::Recipient => {
            format!("The server refused the recipient address ({}).", reply_text(e))
        }
        SendStep::Message => format!("The server refused the message ({}).", reply_text(e)),
        _ => format!("The mail server answered: {}.", reply_text(e)),
    }
}

/// The reply code and text of a refusal, or the error's own words.
fn reply_text(e: &lettre::transport::smtp::Error) -> String {
    let text = root_cause(e);
    match e.status() {
        Some(code) if !text.contains(&code.to_string()) => format!("{code} {text}"),
        _ => text,
    }
}

/// An I/O error's words without " (os error 111)".
fn without_os_error(text: &str) -> &str {
    text.find(" (os error").map_or(text, |i| &text[..i])
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
