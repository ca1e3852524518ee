//! What the sandbox put on the wire. WhatsApp delivers a message id once: a send that repeats
//! an id already transmitted (wasl retrying after a crash) reaches nobody a second time. The
//! sandbox does the same, and writes every send — first ones and repeats — to a log file in
//! the data dir before it answers, so that what it transmitted survives the process being
//! killed and anyone can check that each accepted message went out exactly once.
//!
//! The ids it remembers are bounded (the newest [`KEEP`] over all sessions: a repeat after a
//! crash comes within minutes, and so do read receipts); the file is compacted to those when
//! it is opened and has grown large. What it remembers of each is small (a 128-bit digest of
//! session and id, the session's number in a table and the time: about 60 bytes), since a busy
//! sandbox fills the bound within minutes and the whole of it stays resident.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hash, Hasher};
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

/// Names one sent message, (session, message id), in 128 bits: two independently keyed
/// SipHashes. Two different messages share a digest with a probability of about 10⁻²⁹ over
/// the remembered 100,000, far below any other way a message can be lost.
type Digest = u128;

/// A first transmission, as remembered.
#[derive(Clone, Copy)]
struct Remembered {
    /// Index into [`Recent::sessions`].
    session: u32,
    at: i64,
}

/// The newest first transmissions, over all sessions, in the order they were sent.
struct Recent {
    keys: (RandomState, RandomState),
    order: VecDeque<Digest>,
    sent: HashMap<Digest, Remembered>,
    /// Every session that has sent, numbered; a handful of bytes each, never dropped.
    sessions: Vec<SessionId>,
    session_numbers: HashMap<SessionId, u32>,
    /// Remembered first transmissions whose delivery wasl has not confirmed storing yet: the
    /// recipient's phone confirms them again at the next connection (a crash lost the
    /// confirmation, or it came while wasl could not store it). Few at a time.
    undelivered: HashMap<Digest, (u32, String)>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            keys: (RandomState::new(), RandomState::new()),
            order: VecDeque::new(),
            sent: HashMap::new(),
            sessions: Vec::new(),
            session_numbers: HashMap::new(),
            undelivered: HashMap::new(),
        }
    }
}

impl Recent {
    fn digest(&self, session: &SessionId, message_id: &str) -> Digest {
        let half = |state: &RandomState| {
            let mut h = state.build_hasher();
            session.as_str().hash(&mut h);
            message_id.hash(&mut h);
            h.finish()
        };
        (u128::from(half(&self.keys.0)) << 64) | u128::from(half(&self.keys.1))
    }

    fn session_number(&mut self, session: &SessionId) -> u32 {
        if let Some(n) = self.session_numbers.get(session) {
            return *n;
        }
        let n = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
        self.sessions.push(session.clone());
        self.session_numbers.insert(session.clone(), n);
        n
    }

    fn remember(&mut self, session: &SessionId, message_id: &str, at: i64) {
        if self.order.capacity() == 0 {
            // Full size at the first send: a busy sandbox reaches the bound within minutes,
            // and growing there by doubling would copy the tables and leave the old ones
            // behind as holes in the allocator. The map gets room for twice the bound: every
            // removal leaves a tombstone, and when they fill the free room the map rebuilds
            // itself in place only if it is at most half full, else it doubles. Sized for
            // `KEEP` alone it doubled once, ~115,000 sends in (+4 MB seen in the mixed load).
            self.order.reserve(KEEP + 1);
            self.sent.reserve(2 * KEEP);
        }
        let digest = self.digest(session, message_id);
        let number = self.session_number(session);
        if self
            .sent
            .insert(
                digest,
                Remembered {
                    session: number,
                    at,
                },
            )
            .is_none()
        {
            self.order.push_back(digest);
        }
        while self.order.len() > KEEP {
            if let Some(old) = self.order.pop_front() {
                self.sent.remove(&old);
                self.undelivered.remove(&old);
            }
        }
    }

    /// A first transmission now waits for its delivery to be confirmed.
    fn await_delivery(&mut self, session: &SessionId, message_id: &str) {
        let digest = self.digest(session, message_id);
        if self.sent.contains_key(&digest) {
            let number = self.session_number(session);
            self.undelivered
                .insert(digest, (number, message_id.to_owned()));
        }
    }

    /// wasl stored the delivery; `false` when it was not waited for.
    fn delivered(&mut self, session: &SessionId, message_id: &str) -> bool {
        let digest = self.digest(session, message_id);
        self.undelivered.remove(&digest).is_some()
    }

    fn undelivered(&self, session: &SessionId) -> Vec<String> {
        let Some(number) = self.session_numbers.get(session) else {
            return Vec::new();
        };
        self.undelivered
            .values()
            .filter(|(n, _)| n == number)
            .map(|(_, id)| id.clone())
            .collect()
    }

    fn get(&self, session: &SessionId, message_id: &str) -> Option<Remembered> {
        self.sent.get(&self.digest(session, message_id)).copied()
    }

    fn forget(&mut self, session: &SessionId) {
        let Some(number) = self.session_numbers.get(session).copied() else {
            return;
        };
        self.sent.retain(|_, r| r.session != number);
        self.undelivered.retain(|_, (n, _)| *n != number);
        let sent = &self.sent;
        self.order.retain(|d| sent.contains_key(d));
    }

    #[cfg(test)]
    fn count(&self, session: &SessionId) -> usize {
        match self.session_numbers.get(session) {
            Some(number) => self.sent.values().filter(|r| r.session == *number).count(),
            None => 0,
        }
    }
}

#[derive(Default)]
pub struct TransmissionLog {
    file: Option<Mutex<LogFile>>,
    recent: Mutex<Recent>,
}

/// The file and how long it is when every line written is whole.
struct LogFile {
    file: File,
    len: u64,
}

impl LogFile {
    /// Appends `line` whole, or not at all: a write cut short (a full disk) is cut off again,
    /// so the next line does not run on from half a line and both become unreadable.
    fn append(&mut self, line: &str) -> std::io::Result<()> {
        match self.file.write_all(line.as_bytes()) {
            Ok(()) => {
                self.len += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }
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

/// The line that says wasl stored the delivery of a first transmission: tab-separated
/// `session, message id, (empty), (empty), at, delivered`. It is no transmission, so
/// [`parse_line`] passes over it.
fn delivered_line(session: &SessionId, message_id: &str, at: i64) -> String {
    format!(
        "{}\t{}\t\t\t{at}\tdelivered\n",
        session.as_str(),
        message_id.replace(['\t', '\n'], " ")
    )
}

/// A delivery line read back: (session, message id).
fn parse_delivered(text: &str) -> Option<(String, String)> {
    let mut parts = text.trim_end_matches('\n').split('\t');
    let session = parts.next()?.to_owned();
    let message_id = parts.next()?.to_owned();
    let (to, kind, _at) = (parts.next()?, parts.next()?, parts.next()?);
    (to.is_empty() && kind.is_empty() && parts.next()? == "delivered")
        .then_some((session, message_id))
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
        Self::open_compacting_above(dir, COMPACT_ABOVE)
    }

    fn open_compacting_above(dir: &Path, compact_above: u64) -> std::io::Result<Self> {
        private_dir(dir)?;
        let path = dir.join(FILE_NAME);
        let mut recent = Recent::default();
        let mut lines = 0u64;
        if let Ok(file) = File::open(&path) {
            for text in BufReader::new(file).lines() {
                let Ok(text) = text else { continue };
                if let Some((session, id)) = parse_delivered(&text) {
                    recent.delivered(&SessionId::from_trusted(session), &id);
                    lines += 1;
                    continue;
                }
                // A line cut short by a crash mid-write is the only kind that fails to parse.
                let Some((session, t, first)) = parse_line(&text) else {
                    continue;
                };
                lines += 1;
                if first {
                    let session = SessionId::from_trusted(session);
                    recent.remember(&session, &t.message_id, t.at);
                    recent.await_delivery(&session, &t.message_id);
                }
            }
        }
        let large = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > compact_above;
        if large {
            compact(&path, &recent)?;
            tracing::info!(lines, "the sandbox transmission log was compacted");
        }
        let file = private_file(OpenOptions::new().create(true).append(true)).open(&path)?;
        let len = file.metadata()?.len();
        Ok(TransmissionLog {
            file: Some(Mutex::new(LogFile { file, len })),
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
                .append(&line(session, &t, sent))?;
        }
        if matches!(sent, Sent::First { .. }) {
            recent.remember(session, &t.message_id, t.at);
            recent.await_delivery(session, &t.message_id);
        }
        Ok(sent)
    }

    /// wasl stored the delivery of `message_id`: written down, so that it is not confirmed
    /// again after a restart.
    pub fn delivered(&self, session: &SessionId, message_id: &str, at: i64) -> std::io::Result<()> {
        let mut recent = self.recent();
        if !recent.delivered(session, message_id) {
            return Ok(());
        }
        if let Some(file) = &self.file {
            if let Err(e) = file
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&delivered_line(session, message_id, at))
            {
                // Not written: it stays waiting, and is confirmed again next time.
                recent.await_delivery(session, message_id);
                return Err(e);
            }
        }
        Ok(())
    }

    /// The session's sent messages whose delivery wasl has not confirmed storing.
    pub fn undelivered(&self, session: &SessionId) -> Vec<String> {
        self.recent().undelivered(session)
    }

    pub fn was_sent(&self, session: &SessionId, message_id: &str) -> bool {
        self.recent().get(session, message_id).is_some()
    }

    /// How many of the session's first transmissions are remembered.
    #[cfg(test)]
    fn remembered(&self, session: &SessionId) -> usize {
        self.recent().count(session)
    }

    /// Forgets a session (logged out): a new pairing starts a new history.
    pub fn forget(&self, session: &SessionId) {
        self.recent().forget(session);
    }
}

/// The log lives in wasl's data dir, which only its owner may read (0700, files 0600).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn private_file(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Rewrites the file with the remembered first transmissions only, atomically: the file is
/// read once more and each remembered message's first line is kept, in the order sent.
fn compact(path: &Path, recent: &Recent) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("log.tmp");
    {
        let mut out = std::io::BufWriter::new(
            private_file(OpenOptions::new().write(true).create(true).truncate(true)).open(&tmp)?,
        );
        let mut written = std::collections::HashSet::new();
        for text in BufReader::new(File::open(path)?).lines() {
            let text = text?;
            let Some((session, t, true)) = parse_line(&text) else {
                continue;
            };
            let session = SessionId::from_trusted(session);
            let digest = recent.digest(&session, &t.message_id);
            if recent.sent.contains_key(&digest) && written.insert(digest) {
                out.write_all(line(&session, &t, Sent::First { at: t.at }).as_bytes())?;
                if !recent.undelivered.contains_key(&digest) {
                    out.write_all(delivered_line(&session, &t.message_id, t.at).as_bytes())?;
                }
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
    fn compaction_keeps_each_first_transmission_once_in_order() {
        let dir = std::env::temp_dir().join(format!("wasl-sbx-{}", uuid::Uuid::now_v7()));
        let (a, b) = (
            SessionId::from_trusted("org_a"),
            SessionId::from_trusted("org_b"),
        );
        {
            let log = TransmissionLog::open(&dir).expect("open");
            for (session, id) in [(&a, "A"), (&b, "B"), (&a, "A"), (&a, "C"), (&b, "B")] {
                log.transmit(session, t(id)).expect("transmit");
            }
        }
        let log = TransmissionLog::open_compacting_above(&dir, 0).expect("compact");
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).expect("read");
        let kept: Vec<(String, String, bool)> = text
            .lines()
            .filter_map(parse_line)
            .map(|(s, t, first)| (s, t.message_id, first))
            .collect();
        let expected = [("org_a", "A"), ("org_b", "B"), ("org_a", "C")]
            .map(|(s, id)| (s.to_owned(), id.to_owned(), true));
        assert_eq!(kept, expected);
        // Still remembered after the rewrite: a repeat is told apart.
        assert_eq!(
            log.transmit(&b, t("B")).ok(),
            Some(Sent::Repeat { first_at: 1 })
        );
        assert_eq!((log.remembered(&a), log.remembered(&b)), (2, 1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn undelivered_messages_survive_a_reopen_and_a_compaction() {
        let dir = std::env::temp_dir().join(format!("wasl-sbx-{}", uuid::Uuid::now_v7()));
        let (a, b) = (
            SessionId::from_trusted("org_a"),
            SessionId::from_trusted("org_b"),
        );
        {
            let log = TransmissionLog::open(&dir).expect("open");
            for (session, id) in [(&a, "A1"), (&a, "A2"), (&b, "B1"), (&a, "A1")] {
                log.transmit(session, t(id)).expect("transmit");
            }
            log.delivered(&a, "A1", 5).expect("delivered");
            log.delivered(&a, "unknown", 5).expect("nothing to write");
            assert_eq!(log.undelivered(&a), ["A2"]);
        }
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).expect("read");
        assert_eq!(
            text.lines().filter_map(parse_line).count(),
            4,
            "deliveries are no transmissions"
        );
        let log = TransmissionLog::open(&dir).expect("reopen");
        assert_eq!(
            log.undelivered(&a),
            ["A2"],
            "A1's delivery was stored before"
        );
        assert_eq!(log.undelivered(&b), ["B1"]);
        drop(log);
        let log = TransmissionLog::open_compacting_above(&dir, 0).expect("compact");
        assert_eq!(log.undelivered(&a), ["A2"]);
        assert_eq!(log.undelivered(&b), ["B1"]);
        log.forget(&b);
        assert!(log.undelivered(&b).is_empty());
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
        assert_eq!(log.remembered(&a) + log.remembered(&b), KEEP);
        assert!(!log.was_sent(&a, "M0"));
        assert!(log.was_sent(&b, &format!("M{}", KEEP + 9)));
        log.forget(&a);
        assert_eq!(log.remembered(&a), 0);
        assert_eq!(log.remembered(&b), KEEP / 2);
        assert!(log.was_sent(&b, &format!("M{}", KEEP + 9)));
    }
}
