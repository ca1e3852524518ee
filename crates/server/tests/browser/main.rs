//! Browser tests of the dashboard: the real wasl server and headless Chromium driven through
//! chromedriver, in Arabic and in English, on a desktop window and on a phone-sized one.
//! They need `chromium` and `chromedriver` on the PATH and fail (never skip) without them.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod journey;
mod server;
mod serving;
mod webdriver;

use journey::{Live, Viewport};

/// Two browsers at a time: enough to overlap waiting, few enough for a two-core machine.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn run(lang: &'static str, viewport: Viewport, live: Live) {
    let _permit = BROWSERS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    journey::run(lang, viewport, live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_desktop() {
    run("ar", Viewport::Desktop, Live::Events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_desktop() {
    run("en", Viewport::Desktop, Live::Events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_phone() {
    run("ar", Viewport::Phone, Live::Events).await;
}

/// Without WebSocket support the dashboard polls, and everything still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_phone_polling() {
    run("en", Viewport::Phone, Live::Polling).await;
}
