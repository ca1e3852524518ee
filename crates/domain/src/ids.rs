//! Ids are strings in the API (SPEC §3). Each kind gets its own type so that a user id can
//! never be passed where an organization id is expected.

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id that came from our own store or generator.
            pub fn from_trusted(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// An organization (tenant). Contains no `_`, because a session id is `<orgId>_<name>`.
    OrgId
);
string_id!(
    /// A person who signs in to an organization.
    UserId
);
string_id!(
    /// An API key's public id (never the key itself).
    ApiKeyId
);
