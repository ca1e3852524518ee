//! Signing up, in and out, and changing one's own password (SPEC §2).

use std::net::IpAddr;
use std::time::Instant;

use wasl_domain::{
    Email, NewUser, OrgId, Organization, Password, PersonName, Plan, Role, User, UserId,
};
use wasl_store::UserUpdate;

use super::{Accounts, Caller, Credential};
use crate::auth::password;
use crate::auth::revocation::Revoked;
use crate::clock::now_millis;
use crate::error::{AppError, AppResult, Conflict};

/// A new organization and its owner, as checked at the edge.
pub struct Registration {
    pub organization_name: PersonName,
    pub name: PersonName,
    pub email: Email,
    pub password: Password,
}

/// A person signed in: their new token, and who and where they are.
pub struct SignedIn {
    pub token: String,
    pub user: User,
    pub organization: Organization,
}

impl Accounts {
    /// Creates an organization and its owner, and signs the owner in. Each client address
    /// may register a few organizations an hour.
    pub async fn register(&self, new: Registration, from: IpAddr) -> AppResult<SignedIn> {
        if let Some(wait) = self.limiter.register(&from.to_string(), Instant::now()) {
            return Err(AppError::RateLimited(wait));
        }
        let now = now_millis();
        let organization = Organization {
            id: OrgId::from_trusted(uuid::Uuid::now_v7().to_string()),
            name: new.organization_name,
            plan: Plan::Free,
            default_country: None,
            timezone: wasl_domain::TimeZone::DEFAULT,
            default_language: wasl_domain::Lang::Ar,
            opt_out_words: Default::default(),
            created_at: now,
        };
        let owner = NewUser {
            id: UserId::from_trusted(uuid::Uuid::now_v7().to_string()),
            organization_id: organization.id.clone(),
            name: new.name,
            email: new.email,
            password_hash: password::hash(new.password.expose().to_owned())
                .await
                .map_err(AppError::internal)?,
            role: Role::Owner,
            skills: Vec::new(),
            max_chats: None,
            created_at: now,
        };
        self.store
            .organizations()
            .create(&organization, &owner)
            .await
            .map_err(email_taken)?;
        let user = self
            .store
            .users()
            .get(&organization.id, &owner.id)
            .await?
            .ok_or_else(|| AppError::internal("the new owner was not found"))?;
        tracing::info!(organization = %organization.id, user = %user.id, "organization registered");
        Ok(SignedIn {
            token: self.issue_token(&user.id, &organization.id, 0),
            user,
            organization,
        })
    }

    /// Signs in with e-mail and password. Failures are counted (see the limiter): an address
    /// that keeps failing is refused for a while, an account failing from many addresses is
    /// only slowed. An unknown e-mail costs as much time and answers the same as a wrong
    /// password.
    pub async fn login(&self, email: &str, password: String, from: IpAddr) -> AppResult<SignedIn> {
        let account = Email::account_key(email);
        let ip = from.to_string();
        if let Some(wait) = self.limiter.blocked(&account, &ip, Instant::now()) {
            return Err(AppError::RateLimited(wait));
        }
        let delay = self.limiter.delay(&account, Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let found = match Email::parse(email) {
            Ok(email) => self.store.users().by_email(&email).await?,
            Err(_) => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, password::dummy_hash().await.to_owned()),
        };
        let valid = password::verify(password, hash).await;
        let Some(user) = user.filter(|_| valid) else {
            self.limiter.record_failure(&account, &ip, Instant::now());
            return Err(AppError::InvalidCredentials);
        };
        if !user.is_active {
            return Err(AppError::AccountDisabled);
        }
        self.limiter.record_success(&account, &ip);
        self.store
            .users()
            .record_login(&user.id, now_millis())
            .await?;
        let organization = self
            .store
            .organizations()
            .get(&user.organization_id)
            .await?
            .ok_or_else(|| AppError::internal("a user without an organization"))?;
        let generation = self.store.users().token_generation(&user.id).await?;
        Ok(SignedIn {
            token: self.issue_token(&user.id, &organization.id, generation),
            user,
            organization,
        })
    }

    /// Signs out: the caller's token stops working at once, on every socket too. An API key is
    /// revoked by deleting it instead.
    pub async fn logout(&self, caller: &Caller) -> AppResult<()> {
        let Credential::User { jti, expires_at } = &caller.credential else {
            return Err(AppError::Forbidden);
        };
        self.store
            .users()
            .revoke_token(jti, &caller.user_id, *expires_at, now_millis())
            .await?;
        self.revocations.publish(Revoked::Token(jti.clone()));
        tracing::info!(user = %caller.user_id, "signed out");
        Ok(())
    }

    /// Changes the caller's own password. Every sign-in token issued before stops working
    /// (on other devices too); the caller gets a new one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: String,
        new: Password,
    ) -> AppResult<SignedIn> {
        if !caller.is_person() {
            return Err(AppError::Forbidden);
        }
        let user = self
            .store
            .users()
            .get(&caller.org_id, &caller.user_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let (_, hash) = self
            .store
            .users()
            .by_email(&user.email)
            .await?
            .ok_or(AppError::InvalidToken)?;
        if !password::verify(current, hash).await {
            return Err(AppError::WrongCurrentPassword);
        }
        let update = UserUpdate {
            password_hash: Some(
                password::hash(new.expose().to_owned())
                    .await
                    .map_err(AppError::internal)?,
            ),
            ..UserUpdate::default()
        };
        let user = self
            .store
            .users()
            .update(&caller.org_id, &caller.user_id, &update)
            .await?
            .ok_or(AppError::InvalidToken)?;
        self.revocations.publish(Revoked::User(user.id.clone()));
        let organization = self
            .store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let generation = self.store.users().token_generation(&user.id).await?;
        tracing::info!(user = %user.id, "password changed; earlier sign-ins ended");
        Ok(SignedIn {
            token: self.issue_token(&user.id, &organization.id, generation),
            user,
            organization,
        })
    }

    /// The caller: their user (for a token, or the key's creator) and organization.
    pub async fn me(&self, caller: &Caller) -> AppResult<(Option<User>, Organization)> {
        let user = self
            .store
            .users()
            .get(&caller.org_id, &caller.user_id)
            .await?;
        let organization = self
            .store
            .organizations()
            .get(&caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        Ok((user, organization))
    }
}

/// A taken e-mail is the person's to fix, not a fault.
pub(super) fn email_taken(e: wasl_store::StoreError) -> AppError {
    match e {
        wasl_store::StoreError::Conflict(wasl_store::Conflict::Email) => {
            AppError::Conflict(Conflict::EmailTaken)
        }
        other => other.into(),
    }
}
