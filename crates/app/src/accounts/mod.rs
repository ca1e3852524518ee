//! Organizations and the people and servers that act in them: who a caller is (a sign-in
//! token or an API key), signing up and in and out, the people of an organization and what
//! each role may do to whom, API keys, and the platform administrator's plans.

mod keys;
mod organization;
mod people;
mod platform;
mod sign_in;

use wasl_domain::{ApiKeyId, Country, OrgId, Role, UserId};
use wasl_store::Store;

pub use keys::CreatedKey;
pub use organization::OrganizationChanges;
pub use people::{NewPerson, PersonChanges};
pub use platform::PlatformAdmin;
pub use sign_in::{Registration, SignedIn};

use crate::auth::limiter::{Limits, LoginLimiter};
use crate::auth::revocation::{Revocations, Revoked};
use crate::auth::{api_keys, jwt};
use crate::clock::now_millis;
use crate::error::{AppError, AppResult};

/// How sign-in tokens are made.
#[derive(Clone)]
pub struct TokenSettings {
    /// Signs them (HS256).
    pub secret: Vec<u8>,
    /// How long one lasts.
    pub ttl_secs: u64,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("secret", &"<redacted>")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A person's sign-in token: its id and when it expires (Unix ms).
    User { jti: String, expires_at: i64 },
    /// A server's API key.
    ApiKey(ApiKeyId),
}

/// The authenticated caller and their organization. Everything a use case does for them is
/// scoped by `org_id`, which is how one organization can never reach another's data.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org_id: OrgId,
    /// The person, or the person who created the API key in use.
    pub user_id: UserId,
    pub role: Role,
    pub credential: Credential,
    /// The organization's default country: phone numbers written without a country code are
    /// read in its local form.
    pub default_country: Option<Country>,
}

impl Caller {
    /// Owners and admins manage the organization's people, keys and settings.
    pub fn require_manager(&self) -> AppResult<()> {
        if self.role.can_manage() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether a person (not a server's key) is calling.
    pub fn is_person(&self) -> bool {
        matches!(self.credential, Credential::User { .. })
    }

    /// Whether a change of `revoked` may end this caller's access.
    pub fn concerned_by(&self, revoked: &Revoked) -> bool {
        match (revoked, &self.credential) {
            (Revoked::User(user), _) => *user == self.user_id,
            (Revoked::ApiKey(key), Credential::ApiKey(mine)) => key == mine,
            (Revoked::Token(jti), Credential::User { jti: mine, .. }) => jti == mine,
            _ => false,
        }
    }
}

/// API keys' "last used" time is written at most this often, so busy keys do not turn every
/// request into a write.
const KEY_USE_RESOLUTION_MS: i64 = 60_000;

pub struct Accounts {
    store: Store,
    tokens: TokenSettings,
    limiter: LoginLimiter,
    revocations: Revocations,
    admin_token: Option<String>,
}

impl Accounts {
    pub fn new(
        store: Store,
        tokens: TokenSettings,
        limits: Limits,
        admin_token: Option<String>,
    ) -> Self {
        Accounts {
            store,
            tokens,
            limiter: LoginLimiter::new(limits),
            revocations: Revocations::default(),
            admin_token,
        }
    }

    /// Tells open sockets that someone's access ended.
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// Checks a sign-in token or an API key and returns the caller.
    /// Tokens follow the wall clock (not a test's moved clock: a day of webhook retries passes
    /// in an instant there, and must not expire the test's own sign-in).
    pub async fn authenticate(&self, token: &str) -> AppResult<Caller> {
        let now = now_millis();
        if api_keys::looks_like_key(token) {
            // A key holds no more than its creator holds now: it stops while they are
            // disabled, is capped at their role, and was deleted with them.
            let holder = self
                .store
                .api_keys()
                .by_hash(&api_keys::hash(token))
                .await?
                .filter(|h| h.creator_active)
                .ok_or(AppError::InvalidToken)?;
            let key = holder.key;
            if key
                .last_used_at
                .is_none_or(|t| now - t > KEY_USE_RESOLUTION_MS)
            {
                self.store.api_keys().record_use(&key.id, now).await?;
            }
            return Ok(Caller {
                org_id: key.organization_id,
                user_id: key.created_by,
                role: key.role.min(holder.creator_role),
                credential: Credential::ApiKey(key.id),
                default_country: holder.default_country,
            });
        }
        let claims =
            jwt::verify(token, &self.tokens.secret, now / 1000).ok_or(AppError::InvalidToken)?;
        // The role and the account's state come from the database, not the token, so a
        // removed or demoted user loses access at once; so does a token signed out, or issued
        // before the user's password last changed.
        let holder = self
            .store
            .users()
            .for_token(
                &OrgId::from_trusted(claims.org),
                &UserId::from_trusted(claims.sub),
                &claims.jti,
            )
            .await?
            .filter(|h| {
                h.user.is_active && !h.token_revoked && h.token_generation == claims.generation
            })
            .ok_or(AppError::InvalidToken)?;
        Ok(Caller {
            org_id: holder.user.organization_id,
            user_id: holder.user.id,
            role: holder.user.role,
            credential: Credential::User {
                jti: claims.jti,
                expires_at: claims.exp.saturating_mul(1000),
            },
            default_country: holder.default_country,
        })
    }

    /// A new sign-in token for the user, carrying their current token generation.
    fn issue_token(&self, user: &UserId, org: &OrgId, generation: i64) -> String {
        let now = now_millis() / 1000;
        let ttl = i64::try_from(self.tokens.ttl_secs).unwrap_or(86_400);
        jwt::issue(
            &jwt::Claims {
                sub: user.to_string(),
                org: org.to_string(),
                iat: now,
                exp: now + ttl,
                jti: uuid::Uuid::now_v7().simple().to_string(),
                generation,
            },
            &self.tokens.secret,
        )
    }
}
