//! Gives memory the process has freed back to the operating system.
//!
//! glibc's allocator keeps freed memory in its arenas for reuse and only returns the top of
//! each heap. wasl allocates on many threads (the tokio workers and one thread per SQLite
//! connection, each with an arena of its own) and its allocations live for very different
//! times, so under steady load the freed holes between live blocks add up: measured in the
//! mixed-load benchmark, the live heap stayed flat while resident memory kept climbing.
//! `malloc_trim` hands those free pages back (it also releases whole free pages inside the
//! heaps, not only at their tops); done every few seconds it keeps resident memory at what
//! is really in use. Elsewhere than glibc this does nothing.

use std::time::Duration;

/// Allocator arenas per process. glibc's default, eight per core, lets every thread that ever
/// allocated keep an arena of its own with its own free holes; wasl's threads are a few
/// workers and one per SQLite connection, and two arenas serve them without contention that
/// shows. Set before the database's threads start, so that they share.
const ARENAS: i32 = 2;

/// Caps the allocator's arenas; called once at start-up, before the store is opened.
pub fn configure() {
    limit_arenas();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_arenas() {
    // SAFETY: `mallopt` takes two integers and changes only the allocator's settings, under
    // its own lock; arenas that exist already stay valid.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_arenas() {}

/// How often freed memory is given back. A trim walks every arena under its lock, which
/// takes a few milliseconds at most; more often would only cost.
const EVERY: Duration = Duration::from_secs(10);

/// Trims every [`EVERY`] until `stop` turns true.
pub async fn release_freed_memory(mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        // The trim holds the allocator's locks; it runs off the async workers.
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: `malloc_trim` takes a plain integer, touches only the allocator's own state
    // under its own locks, and is safe to call from any thread at any time.
    let before = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let t = std::time::Instant::now();
    let r = unsafe { libc::malloc_trim(0) };
    eprintln!(
        "TRIM {r} {:?} before {before:?} after {:?}",
        t.elapsed(),
        std::fs::read_to_string("/proc/self/statm").unwrap_or_default()
    );
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
