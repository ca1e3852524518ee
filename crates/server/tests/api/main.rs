//! Black-box tests: each starts the real wasl server on port 0 with a fresh database and
//! speaks HTTP to it, once on SQLite and once on PostgreSQL.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod admin;
mod api_keys;
mod auth;
mod auto_replies;
mod bad_input;
mod broadcasts;
mod calendar;
mod conventions;
mod conversations;
mod hardening;
mod isolation;
mod media_safety;
mod messaging;
mod paging;
mod phones;
mod private_data;
mod replies;
mod scheduled_messages;
mod schemathesis;
mod sessions;
mod templates;
mod users;
mod web_engine;
mod web_link;
mod webhooks;
