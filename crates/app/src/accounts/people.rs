//! The people of an organization (SPEC §2). Owners and admins manage them; admins manage
//! admins and agents, only owners touch owners; the organization always keeps an active owner.
//! Whatever ends someone's access (removal, disabling, demotion, a new password) is announced
//! so that their open sockets close.

use wasl_domain::{Email, NewUser, Password, PersonName, Role, User, UserId};
use wasl_store::{Page, PageRequest, UserUpdate};

use super::sign_in::email_taken;
use super::{Accounts, Caller};
use crate::auth::password;
use crate::auth::revocation::Revoked;
use crate::clock::now_millis;
use crate::error::{AppError, AppResult, Conflict};

/// A person to add, as checked at the edge.
pub struct NewPerson {
    pub name: PersonName,
    pub email: Email,
    pub password: Password,
    pub role: Role,
    pub skills: Vec<String>,
    pub max_chats: Option<u32>,
}

/// What to change of a person; `None` leaves it as it is.
#[derive(Default)]
pub struct PersonChanges {
    pub name: Option<PersonName>,
    pub role: Option<Role>,
    pub skills: Option<Vec<String>>,
    /// `Some(None)` removes the limit.
    pub max_chats: Option<Option<u32>>,
    pub is_active: Option<bool>,
    pub password: Option<Password>,
}

/// An admin may not act on owners nor make anyone an owner.
fn check_rank(caller: &Caller, target_role: Role) -> AppResult<()> {
    caller.require_manager()?;
    if target_role == Role::Owner && caller.role != Role::Owner {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

async fn hash(password: &Password) -> AppResult<String> {
    password::hash(password.expose().to_owned())
        .await
        .map_err(AppError::internal)
}

impl Accounts {
    pub async fn add_person(&self, caller: &Caller, new: NewPerson) -> AppResult<User> {
        check_rank(caller, new.role)?;
        let user = NewUser {
            id: UserId::from_trusted(uuid::Uuid::now_v7().to_string()),
            organization_id: caller.org_id.clone(),
            name: new.name,
            email: new.email,
            password_hash: hash(&new.password).await?,
            role: new.role,
            skills: new.skills,
            max_chats: new.max_chats,
            created_at: now_millis(),
        };
        self.store
            .users()
            .create(&user)
            .await
            .map_err(email_taken)?;
        self.store
            .users()
            .get(&caller.org_id, &user.id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The organization's people, oldest first.
    pub async fn people(&self, caller: &Caller, page: PageRequest) -> AppResult<Page<User>> {
        caller.require_manager()?;
        Ok(self.store.users().list(&caller.org_id, page).await?)
    }

    pub async fn person(&self, caller: &Caller, id: &UserId) -> AppResult<User> {
        caller.require_manager()?;
        self.store
            .users()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn change_person(
        &self,
        caller: &Caller,
        id: &UserId,
        changes: PersonChanges,
    ) -> AppResult<User> {
        let target = self.person(caller, id).await?;
        check_rank(caller, target.role)?;
        if let Some(role) = changes.role {
            check_rank(caller, role)?;
        }
        let loses_owner = target.role == Role::Owner
            && (changes.role.is_some_and(|r| r != Role::Owner) || changes.is_active == Some(false));
        if loses_owner {
            self.ensure_another_owner(caller, &target).await?;
        }
        let password_hash = match &changes.password {
            Some(p) => Some(hash(p).await?),
            None => None,
        };
        let ends_access = password_hash.is_some()
            || changes.is_active == Some(false)
            || changes.role.is_some_and(|r| r < target.role);
        let update = UserUpdate {
            name: changes.name,
            role: changes.role,
            skills: changes.skills,
            max_chats: changes.max_chats,
            is_active: changes.is_active,
            password_hash,
        };
        let user = self
            .store
            .users()
            .update(&caller.org_id, id, &update)
            .await?
            .ok_or(AppError::NotFound)?;
        if ends_access {
            // Open sockets of the user and of their API keys check again at once.
            self.revocations.publish(Revoked::User(user.id.clone()));
        }
        Ok(user)
    }

    /// Removes a person; their API keys go with them (the database deletes them too).
    pub async fn remove_person(&self, caller: &Caller, id: &UserId) -> AppResult<()> {
        let target = self.person(caller, id).await?;
        check_rank(caller, target.role)?;
        if target.id == caller.user_id {
            return Err(Conflict::CannotDeleteSelf.into());
        }
        if target.role == Role::Owner {
            self.ensure_another_owner(caller, &target).await?;
        }
        if !self.store.users().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        self.revocations.publish(Revoked::User(id.clone()));
        Ok(())
    }

    async fn ensure_another_owner(&self, caller: &Caller, target: &User) -> AppResult<()> {
        let owners = self.store.users().count_owners(&caller.org_id).await?;
        if owners <= 1 && target.is_active {
            return Err(Conflict::LastOwner.into());
        }
        Ok(())
    }
}
