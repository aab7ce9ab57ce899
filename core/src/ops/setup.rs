//! First run: creates the organization and its first Owner. Runs once.

use crate::auth::password;
use crate::error::{Error, Result};
use crate::model::audit::AuditEntry;
use crate::model::email::clean_name;
use crate::model::{
    role, AuditAction, AuditActor, Email, Organization, Outcome, Settings, User, UserStatus,
};
use crate::ops::SignedIn;
use crate::store::tx_abort;
use crate::Directory;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SetupInput {
    pub organization: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

impl Directory {
    /// Creates the organization and its Owner, and signs the Owner in.
    /// Errors: `already_set_up`, `invalid_name`, `invalid_email`, the password policy's codes.
    pub fn setup(&self, input: SetupInput) -> Result<SignedIn> {
        if self.store.organization()?.is_some() {
            return Err(Error::AlreadySetUp);
        }
        let org_name = clean_name(&input.organization, "The organization name")?;
        let name = clean_name(&input.name, "Your name")?;
        let email = Email::parse(&input.email)?;
        password::check_policy(&input.password, &[&name, email.as_str(), &org_name])?;
        let hash = password::hash(&input.password)?;
        let write = self.unattended();
        let now = write.now;
        let owner = User {
            id: uuid::Uuid::now_v7(),
            name,
            email,
            status: UserStatus::Active,
            roles: vec![role::OWNER.to_string()],
            created_at: now,
            updated_at: now,
            activated_at: Some(now),
            deactivated_at: None,
            last_sign_in_at: Some(now),
            password_hash: Some(hash),
            previous_hashes: Vec::new(),
            invitation_id: None,
            reset_id: None,
            factors: Default::default(),
            access_until: None,
            reactivated_at: None,
        };
        let org = Organization {
            name: org_name,
            created_at: now,
            // PCI DSS v4 8.2.6: dormant accounts off after 90 days, recommended on from the start.
            settings: Settings { dormant_days: Some(90), ..Settings::default() },
            mail: None,
        };
        write.commit(|tx| {
            // Checked again inside the transaction: two setups racing must not both win.
            if tx.organization()?.is_some() {
                return tx_abort(Error::AlreadySetUp);
            }
            tx.put_organization(&org)?;
            tx.put_user(&owner)?;
            tx.audit(
                AuditEntry {
                    actor: AuditActor::User(owner.id),
                    action: AuditAction::Setup,
                    target: Some(owner.email.to_string()),
                    summary: format!(
                        "created organization “{}” with Owner {}",
                        org.name, owner.name
                    ),
                    outcome: Outcome::Success,
                    code: None,
                },
                now,
            )?;
            Ok(())
        })?;
        drop(write);
        self.start_session(&owner, None)
    }
}
