//! What the sandbox put on the wire. WhatsApp delivers a message id once: a send that repeats
//! an id already transmitted (wasl retrying after a crash) reaches nobody a second time. The
//! sandbox does the same, and writes every send — first ones and repeats — to a log file in
//! the data dir before it answers, so that what it transmitted survives the process being
//! killed and anyone can check that each accepted message went out exactly once.
//!
//! The ids it remembers are bounded (the newest [`KEEP`] over all sessions: a repeat after a
//! crash comes within minutes, and so do read receipts); the file is compacted to those when
//! it is opened and has grown large.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wasl_domain::{PhoneNumber, SessionId};

use crate::MessageKind;

/// How many sent ids the sandbox remembers, over all sessions (for repeats and read receipts).
pub const KEEP: usize = 100_000;
/// A log file larger than this is rewritten with only the remembered ids when opened.
const COMPACT_ABOVE: u64 = 64 * 1024 * 1024;
pub const FILE_NAME: &str = "sandbox-transmissions.log";

/// A message the sandbox "put on the wire".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission {
    pub message_id: String,
    pub to: PhoneNumber,
    pub kind: MessageKind,
    pub at: i64,
}

/// What a send was: the first transmission of its id, or a repeat (not delivered again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    First { at: i64 },
    Repeat { first_at: i64 },
}

/// The newest transmissions, by session, in the order they were sent.
#[derive(Default)]
struct Recent {
    order: VecDeque<(SessionId, String)>,
    sent: HashMap<SessionId, HashMap<String, Transmission>>,
}

impl Recent {
    fn remember(&mut self, session: &SessionId, t: Transmission) {
        self.order
            .push_back((session.clone(), t.message_id.clone()));
        self.sent
            .entry(session.clone())
            .or_default()
            .insert(t.message_id.clone(), t);
        while self.order.len() > KEEP {
            if let Some((session, id)) = self.order.pop_front() {
                if let Some(ids) = self.sent.get_mut(&session) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        self.sent.remove(&session);
                    }
                }
            }
        }
    }

    fn get(&self, session: &SessionId, message_id: &str) -> Option<&Transmission> {
        self.sent.get(session).and_then(|ids| ids.get(message_id))
    }
}

#[derive(Default)]
pub struct TransmissionLog {
    file: Option<Mutex<File>>,
    recent: Mutex<Recent>,
}

impl std::fmt::Debug for TransmissionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransmissionLog")
            .field("durable", &self.file.is_some())
            .finish_non_exhaustive()
    }
}

/// One line of the file: tab-separated `session, message id, to, kind, at, first|repeat`.
/// None of the fields can hold a tab or a newline (ids and numbers are checked on the way in).
fn line(session: &SessionId, t: &Transmission, sent: Sent) -> String {
    let what = match sent {
        Sent::First { .. } => "first",
        Sent::Repeat { .. } => "repeat",
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{what}\n",
        session.as_str(),
        t.message_id.replace(['\t', '\n'], " "),
        t.to.as_str(),
        t.kind.as_str(),
        t.at
    )
}

/// A line of the file read back: (session, transmission, first?).
pub fn parse_line(text: &str) -> Option<(String, Transmission, bool)> {
    let mut parts = text.trim_end_matches('\n').split('\t');
    let session = parts.next()?.to_owned();
    let message_id = parts.next()?.to_owned();
    let to = PhoneNumber::from_trusted(parts.next()?.to_owned());
    let kind = MessageKind::parse(parts.next()?)?;
    let at = parts.next()?.parse().ok()?;
    let first = parts.next()? == "first";
    Some((
        session,
        Transmission {
            message_id,
            to,
            kind,
            at,
        },
        first,
    ))
}

impl TransmissionLog {
    /// A log kept in memory only (tests of the engine alone).
    pub fn in_memory() -> Self {
        TransmissionLog::default()
    }

    /// The log in `dir`, with what earlier runs transmitted.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut recent = Recent::default();
        let mut lines = 0u64;
        if let Ok(file) = File::open(&path) {
            for text in BufReader::new(file).lines() {
                // A line cut short by a crash mid-write is the only kind that fails to parse.
                let Some((session, t, first)) = text.ok().as_deref().and_then(parse_line) else {
                    continue;
                };
                lines += 1;
                if first {
                    recent.remember(&SessionId::from_trusted(session), t);
                }
            }
        }
        let large = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > COMPACT_ABOVE;
        if large {
            compact(&path, &recent)?;
            tracing::info!(lines, "the sandbox transmission log was compacted");
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(TransmissionLog {
            file: Some(Mutex::new(file)),
            recent: Mutex::new(recent),
        })
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a send of `t` by `session`: written to the file before this returns.
    pub fn transmit(&self, session: &SessionId, t: Transmission) -> std::io::Result<Sent> {
        let mut recent = self.recent();
        let sent = match recent.get(session, &t.message_id) {
            Some(first) => Sent::Repeat { first_at: first.at },
            None => Sent::First { at: t.at },
        };
        if let Some(file) = &self.file {
            // One write of one line: a process killed after it returns has the line in the
            // file (the operating system holds it), which is what the crash test relies on.
            file.lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(line(session, &t, sent).as_bytes())?;
        }
        if matches!(sent, Sent::First { .. }) {
            recent.remember(session, t);
        }
        Ok(sent)
    }

    pub fn was_sent(&self, session: &SessionId, message_id: &str) -> bool {
        self.recent().get(session, message_id).is_some()
    }

    /// The session's remembered transmissions, oldest first.
    pub fn sent(&self, session: &SessionId) -> Vec<Transmission> {
        let recent = self.recent();
        recent
            .order
            .iter()
            .filter(|(s, _)| s == session)
            .filter_map(|(s, id)| recent.get(s, id).cloned())
            .collect()
    }

    /// Forgets a session (logged out): a new pairing starts a new history.
    pub fn forget(&self, session: &SessionId) {
        let mut recent = self.recent();
        recent.sent.remove(session);
        recent.order.retain(|(s, _)| s != session);
    }
}

/// Rewrites the file with the remembered first transmissions only, atomically.
fn compact(path: &Path, recent: &Recent) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("log.tmp");
    {
        let mut out = std::io::BufWriter::new(File::create(&tmp)?);
        for (session, id) in &recent.order {
            if let Some(t) = recent.get(session, id) {
                out.write_all(line(session, t, Sent::First { at: t.at }).as_bytes())?;
            }
        }
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> Transmission {
        Transmission {
            message_id: id.into(),
            to: PhoneNumber::from_trusted("966501234567"),
            kind: MessageKind::Text,
            at: 1,
        }
    }

    #[test]
    fn repeats_are_told_apart_and_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("wasl-sbx-{}", uuid::Uuid::now_v7()));
        let session = SessionId::from_trusted("org_a");
        {
            let log = TransmissionLog::open(&dir).expect("open");
            assert_eq!(
                log.transmit(&session, t("A")).ok(),
                Some(Sent::First { at: 1 })
            );
            assert_eq!(
                log.transmit(&session, t("A")).ok(),
                Some(Sent::Repeat { first_at: 1 })
            );
            assert!(log.was_sent(&session, "A"));
            assert!(!log.was_sent(&SessionId::from_trusted("org_b"), "A"));
        }
        let log = TransmissionLog::open(&dir).expect("reopen");
        assert_eq!(
            log.transmit(&session, t("A")).ok(),
            Some(Sent::Repeat { first_at: 1 })
        );
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).expect("read");
        let kinds: Vec<bool> = text
            .lines()
            .filter_map(parse_line)
            .map(|(_, _, first)| first)
            .collect();
        assert_eq!(kinds, [true, false, false]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn memory_is_bounded_over_all_sessions() {
        let log = TransmissionLog::in_memory();
        let (a, b) = (
            SessionId::from_trusted("org_a"),
            SessionId::from_trusted("org_b"),
        );
        for i in 0..KEEP + 10 {
            let session = if i % 2 == 0 { &a } else { &b };
            let _ = log.transmit(session, t(&format!("M{i}")));
        }
        assert_eq!(log.sent(&a).len() + log.sent(&b).len(), KEEP);
        assert!(!log.was_sent(&a, "M0"));
        assert!(log.was_sent(&b, &format!("M{}", KEEP + 9)));
        log.forget(&a);
        assert!(log.sent(&a).is_empty());
        assert_eq!(log.sent(&b).len(), KEEP / 2);
    }
}
