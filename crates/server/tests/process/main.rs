//! Tests that run the `wasl` binary as a separate process: crash safety (SIGKILL mid-load and a
//! restart on the same data), a disk that fills up and frees again, and what reaches the disk
//! and the logs.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auto_reply_crash;
mod broadcast_crash;
mod crash;
mod disk_full;
mod schedule_crash;
mod secrets;
mod server;
mod web_redelivery;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_nothing_and_sends_nothing_twice_on_sqlite() {
    crash::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_loses_nothing_and_sends_nothing_twice_on_postgres() {
    crash::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_answers_each_customers_message_exactly_once_on_sqlite() {
    auto_reply_crash::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_answers_each_customers_message_exactly_once_on_postgres() {
    auto_reply_crash::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_sends_a_broadcast_to_each_recipient_exactly_once_on_sqlite() {
    broadcast_crash::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_sends_a_broadcast_to_each_recipient_exactly_once_on_postgres() {
    broadcast_crash::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_fires_each_due_schedule_exactly_once_on_sqlite() {
    schedule_crash::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_server_fires_each_due_schedule_exactly_once_on_postgres() {
    schedule_crash::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_stored_or_logged_in_clear_on_sqlite() {
    secrets::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_stored_or_logged_in_clear_on_postgres() {
    secrets::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_is_refused_cleanly_and_writes_recover_when_freed_on_sqlite() {
    disk_full::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_is_refused_cleanly_and_writes_recover_when_freed_on_postgres() {
    disk_full::story(server::Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_web_session_killed_before_storing_a_message_gets_it_again_on_sqlite() {
    web_redelivery::story(server::Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_web_session_killed_before_storing_a_message_gets_it_again_on_postgres() {
    web_redelivery::story(server::Db::Postgres).await;
}
