//! Who is calling: passwords, the tokens people sign in with, API keys for servers, and the
//! limiter that slows down password guessing.

pub mod api_keys;
pub mod jwt;
pub mod limiter;
pub mod password;
pub mod revocation;
