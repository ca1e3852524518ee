//! Broadcasts (SPEC §15): one message to an audience of customers, chosen by a filter on
//! their tags and last message or given as a list, fixed when the broadcast starts, and sent
//! at a pace that protects the number (a random 6–15 s between messages on WhatsApp Web, and
//! a daily cap that grows for new numbers).

use serde::{Deserialize, Serialize};

use crate::automation::Reply;
use crate::{OrgId, ParseError, SessionName};

/// The most numbers a list audience may hold.
pub const MOST_LIST: usize = 100_000;
/// The most tags a filter names (each list).
pub const MOST_TAGS: usize = 30;
/// New numbers send at most this many broadcast messages their first day.
pub const WARM_UP_FIRST_DAY: u32 = 50;

/// Where a broadcast stands: draft → scheduled → running ⇄ paused → completed | cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastStatus {
    Draft,
    /// Starts by itself at its `sendAt`.
    Scheduled,
    Running,
    Paused,
    /// Every recipient was sent to (or skipped).
    Completed,
    Cancelled,
}

impl BroadcastStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStatus::Draft => "draft",
            BroadcastStatus::Scheduled => "scheduled",
            BroadcastStatus::Running => "running",
            BroadcastStatus::Paused => "paused",
            BroadcastStatus::Completed => "completed",
            BroadcastStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_stored(value: &str) -> Self {
        match value {
            "scheduled" => BroadcastStatus::Scheduled,
            "running" => BroadcastStatus::Running,
            "paused" => BroadcastStatus::Paused,
            "completed" => BroadcastStatus::Completed,
            "cancelled" => BroadcastStatus::Cancelled,
            _ => BroadcastStatus::Draft,
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "draft" => Ok(BroadcastStatus::Draft),
            "scheduled" => Ok(BroadcastStatus::Scheduled),
            "running" => Ok(BroadcastStatus::Running),
            "paused" => Ok(BroadcastStatus::Paused),
            "completed" => Ok(BroadcastStatus::Completed),
            "cancelled" => Ok(BroadcastStatus::Cancelled),
            _ => Err(ParseError::new(
                field,
                "draft, scheduled, running, paused, completed or cancelled",
            )),
        }
    }

    /// Whether it has ended for good.
    pub fn ended(self) -> bool {
        matches!(
            self,
            BroadcastStatus::Completed | BroadcastStatus::Cancelled
        )
    }
}

/// Whether a contact must carry any or all of the filter's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagsMode {
    #[default]
    Any,
    All,
}

/// Which contacts a filter audience holds. Tags compare without regard to case, as the
/// contacts page shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudienceFilter {
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub tags_mode: TagsMode,
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// Only contacts whose last message came before this instant (ms).
    #[serde(default)]
    pub last_message_before: Option<i64>,
    /// Only contacts whose last message came after this instant (ms).
    #[serde(default)]
    pub last_message_after: Option<i64>,
}

impl AudienceFilter {
    /// Whether a contact with these tags and last message is in the audience.
    pub fn admits(&self, tags: &[String], last_message_at: Option<i64>) -> bool {
        let has = |wanted: &String| {
            tags.iter()
                .any(|t| t.to_lowercase() == wanted.to_lowercase())
        };
        let tagged = match (self.tags.is_empty(), self.tags_mode) {
            (true, _) => true,
            (false, TagsMode::Any) => self.tags.iter().any(has),
            (false, TagsMode::All) => self.tags.iter().all(has),
        };
        let excluded = self.exclude_tags.iter().any(has);
        let before = self
            .last_message_before
            .is_none_or(|b| last_message_at.is_some_and(|at| at < b));
        let after = self
            .last_message_after
            .is_none_or(|a| last_message_at.is_some_and(|at| at > a));
        tagged && !excluded && before && after
    }

    /// Checks the tags as the contacts page takes them.
    pub fn check(&self) -> Result<(), ParseError> {
        for (field, tags) in [
            ("recipients.filters.tags", &self.tags),
            ("recipients.filters.excludeTags", &self.exclude_tags),
        ] {
            if tags.len() > MOST_TAGS {
                return Err(ParseError::new(field, format!("at most {MOST_TAGS} tags")));
            }
            if tags.iter().any(|t| {
                t.trim().is_empty() || t.chars().count() > 50 || t.chars().any(char::is_control)
            }) {
                return Err(ParseError::new(
                    field,
                    "each tag is 1 to 50 characters, without control characters",
                ));
            }
        }
        Ok(())
    }
}

/// Who a broadcast goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Audience {
    Filter {
        filters: AudienceFilter,
    },
    /// Numbers as given: each read when the broadcast starts (an invalid one is skipped with
    /// its reason, the same number twice is one recipient).
    List {
        phones: Vec<String>,
    },
}

/// How fast a broadcast sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pacing {
    /// Messages a minute on average; `None`: the engine's default (a random 6–15 s between
    /// messages on WhatsApp Web and the sandbox); `Some(0)`: no pause (the sandbox and the
    /// Cloud API only).
    pub per_minute: Option<u32>,
    /// How much each pause varies around the average, ±percent.
    pub jitter_percent: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            per_minute: None,
            jitter_percent: 40,
        }
    }
}

/// The fastest a broadcast may go on WhatsApp Web: one message every 3 s.
pub const MOST_PER_MINUTE_WEB: u32 = 20;
/// The fastest on engines that may go without a pause.
pub const MOST_PER_MINUTE: u32 = 6_000;

impl Pacing {
    /// The pause before the next message, in ms, from a uniform draw `unit` in [0, 1).
    pub fn pause_ms(&self, unit: f64) -> i64 {
        let unit = unit.clamp(0.0, 1.0);
        match self.per_minute {
            None => 6_000 + (9_000.0 * unit) as i64,
            Some(0) => 0,
            Some(n) => {
                let mean = 60_000.0 / f64::from(n);
                let spread = mean * f64::from(self.jitter_percent.min(90)) / 100.0;
                (mean - spread + 2.0 * spread * unit).max(0.0) as i64
            }
        }
    }

    /// Whether it sends without pausing.
    pub fn is_off(&self) -> bool {
        self.per_minute == Some(0)
    }
}

/// The most broadcast messages a number sends in 24 hours: the configured cap, and for a
/// number linked `days` days ago 50 on its first day, doubling each day up to the cap.
pub fn daily_cap(configured: u32, days: i64) -> u32 {
    let days = u32::try_from(days.max(0)).unwrap_or(u32::MAX).min(20);
    WARM_UP_FIRST_DAY
        .saturating_mul(1u32 << days)
        .min(configured)
}

/// A broadcast as stored.
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub id: String,
    pub organization_id: OrgId,
    pub name: String,
    pub session_name: SessionName,
    pub audience: Audience,
    pub message: Reply,
    /// When it starts by itself, once started with a time.
    pub send_at: Option<i64>,
    pub pacing: Pacing,
    pub status: BroadcastStatus,
    /// Why it is paused or waiting when it is not by someone's hand: `daily_cap`,
    /// `session_not_connected`, `number_restricted`.
    pub waiting_reason: Option<String>,
    /// Recipients fixed at the start, and how many of them were skipped.
    pub total: i64,
    pub skipped: i64,
    /// The next recipient (by its number) to hand to the outbox.
    pub next_seq: i64,
    /// When the runner may hand the next one over.
    pub next_send_at: Option<i64>,
    pub revision: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A broadcast's recipients by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Waiting their turn or in the outbox.
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub skipped: i64,
    pub cancelled: i64,
}

impl Progress {
    /// Recipients past the outbox (sent, delivered, read or failed).
    pub fn done(&self) -> i64 {
        self.sent + self.delivered + self.read + self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_reads_tags_without_case_and_times_strictly() {
        let f = AudienceFilter {
            tags: vec!["VIP".into(), "riyadh".into()],
            tags_mode: TagsMode::Any,
            exclude_tags: vec!["churned".into()],
            last_message_before: Some(1_000),
            last_message_after: None,
        };
        assert!(f.admits(&["vip".into()], Some(999)));
        assert!(!f.admits(&["vip".into(), "Churned".into()], Some(10)));
        assert!(!f.admits(&["vip".into()], Some(1_000)), "before is strict");
        assert!(
            !f.admits(&["vip".into()], None),
            "never wrote: no last message before"
        );
        assert!(!f.admits(&["jeddah".into()], Some(10)));
        let all = AudienceFilter {
            tags_mode: TagsMode::All,
            last_message_before: None,
            ..f
        };
        assert!(all.admits(&["Riyadh".into(), "vip".into()], None));
        assert!(!all.admits(&["vip".into()], None));
        assert!(
            AudienceFilter::default().admits(&[], None),
            "no filter: everyone"
        );
    }

    #[test]
    fn pauses_are_6_to_15_seconds_by_default_and_follow_a_rate() {
        let p = Pacing::default();
        assert_eq!(p.pause_ms(0.0), 6_000);
        assert_eq!(p.pause_ms(0.999_999), 14_999);
        let steady = Pacing {
            per_minute: Some(10),
            jitter_percent: 0,
        };
        assert_eq!(steady.pause_ms(0.3), 6_000);
        let jittered = Pacing {
            per_minute: Some(10),
            jitter_percent: 50,
        };
        assert_eq!(jittered.pause_ms(0.0), 3_000);
        assert_eq!(jittered.pause_ms(1.0), 9_000);
        assert_eq!(
            Pacing {
                per_minute: Some(0),
                jitter_percent: 0
            }
            .pause_ms(0.5),
            0
        );
    }

    #[test]
    fn new_numbers_warm_up_from_fifty_a_day() {
        let caps: Vec<u32> = (0..6).map(|d| daily_cap(1_000, d)).collect();
        assert_eq!(caps, [50, 100, 200, 400, 800, 1_000]);
        assert_eq!(daily_cap(30, 0), 30, "the configured cap is never passed");
        assert_eq!(daily_cap(1_000, 400), 1_000);
    }
}
