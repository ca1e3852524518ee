//! Gives memory the process has freed back to the operating system.
//!
//! glibc's allocator keeps freed memory in its arenas for reuse and returns only the top of
//! each heap to the system. After a burst (linking a thousand sessions, a backlog drained)
//! that can leave tens of MB resident that nothing uses. `malloc_trim` also releases whole
//! free pages inside the heaps; run every few seconds off the async workers, it measured
//! 0.3-6 ms and handed back 16 MB after the mixed-load benchmark's session set-up and about
//! 0.5 MB per run under steady load. It does not undo fragmentation inside pages still in
//! use. Elsewhere than glibc this does nothing.

use std::time::Duration;

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
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
