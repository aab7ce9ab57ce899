//! `gatehouse roles …`: listing, creating (or copying), updating and deleting roles. The rules
//! are core's; this file reads `--perm MODULE:ACTIONS` as a script writes it.

use crate::args::RolesCommand;
use crate::output::Out;
use crate::{parse_key, Failure, Outcome};
use gatehouse_core::model::{Action, Module, Permission};
use gatehouse_core::{Directory, Error, RoleCopy, RoleInput, SessionId};

pub fn roles(out: &Out, dir: &Directory, s: SessionId, command: &RolesCommand) -> Outcome {
    match command {
        RolesCommand::List => out.roles(&dir.list_roles(s)?),
        RolesCommand::Show { key } => {
            let all = dir.list_roles(s)?;
            let role = all
                .into_iter()
                .find(|r| r.role.key == *key)
                .ok_or(Error::UnknownRole(key.clone()))?;
            out.role(&role);
        }
        RolesCommand::Create { key, name, description, perms, from: None } => {
            let input = RoleInput {
                key: Some(key.clone()),
                name: name.clone().unwrap_or_default(),
                description: description.clone().unwrap_or_default(),
                permissions: parse_perms(perms)?,
            };
            let role = dir.create_role(s, input)?;
            out.done(&format!("Role {} ({}) is created.", role.name, role.key), &role);
        }
        RolesCommand::Create { key, name, description, from: Some(from), .. } => {
            let name = match name {
                Some(name) => name.clone(),
                // The source's name, as the app names a copy (its key when the roles cannot be
                // read); core refuses an unknown source.
                None => {
                    let roles = dir.list_roles(s).unwrap_or_default();
                    let source = roles.into_iter().find(|r| r.role.key == *from);
                    format!("Copy of {}", source.map_or(from.clone(), |r| r.role.name))
                }
            };
            let copy = RoleCopy {
                from: from.clone(),
                key: Some(key.clone()),
                name,
                description: description.clone(),
                permissions: None,
            };
            let role = dir.duplicate_role(s, copy)?;
            out.done(
                &format!("Role {} ({}) is created as a copy of {from}.", role.name, role.key),
                &role,
            );
        }
        RolesCommand::Update { key, name, description, perms } => {
            let current = dir
                .list_roles(s)?
                .into_iter()
                .find(|r| r.role.key == *key)
                .ok_or(Error::UnknownRole(key.clone()))?;
            let input = RoleInput {
                key: None,
                name: name.clone().unwrap_or(current.role.name),
                description: description.clone().unwrap_or(current.role.description),
                permissions: parse_perms(perms)?,
            };
            let role = dir.update_role(s, key, input)?;
            out.done(&format!("Role {} ({}) is updated.", role.name, role.key), &role);
        }
        RolesCommand::Delete { key } => {
            dir.delete_role(s, key)?;
            out.done(&format!("Role {key} is deleted."), &serde_json::json!({ "key": key }));
        }
    }
    Ok(())
}

/// `--perm customers:ru` → customers:read and customers:update.
fn parse_perms(perms: &[String]) -> Result<Vec<Permission>, Failure> {
    let mut out = Vec::new();
    for perm in perms {
        let (module, actions) = perm.split_once(':').ok_or_else(|| {
            Failure::Usage(format!("{perm:?}: write MODULE:ACTIONS, e.g. customers:ru"))
        })?;
        let module: Module = parse_key(module, "module")?;
        for letter in actions.chars() {
            let action = match letter.to_ascii_lowercase() {
                'c' => Action::Create,
                'r' => Action::Read,
                'u' => Action::Update,
                'd' => Action::Delete,
                other => {
                    return Err(Failure::Usage(format!(
                        "{other:?} in {perm:?} is not one of c, r, u, d"
                    )))
                }
            };
            out.push(Permission { module, action });
        }
    }
    Ok(out)
}
