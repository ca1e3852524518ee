//! What automation makes of one customer's message, from the facts gathered for it: a stop or
//! start word, a reason not to answer at all (a blocked contact, an agent on the chat), or the
//! rules' decision in the organization's local time. Shared by the worker, which acts on it,
//! and by `POST …/auto-replies/test`, which explains it.

use wasl_domain::automation::{self, AutoReply, Decision, History, Incoming};
use wasl_domain::opt_out::Keyword;
use wasl_domain::{
    AutomationKind, BusinessHours, Contact, Conversation, ConversationStatus, OrgId, Organization,
};
use wasl_store::{Sent, Store};

use crate::error::AppResult;

/// What a decision needs of an organization.
pub(crate) struct OrgContext {
    pub organization: Organization,
    pub hours: BusinessHours,
    pub rules: Vec<AutoReply>,
}

impl OrgContext {
    pub(crate) async fn load(store: &Store, org: &OrgId) -> AppResult<Option<Self>> {
        let Some(organization) = store.organizations().get(org).await? else {
            return Ok(None);
        };
        Ok(Some(OrgContext {
            hours: store.calendars().business_hours(org).await?,
            rules: store.auto_replies().all(org).await?,
            organization,
        }))
    }

    /// How far back the history of a decision at `at` reaches: the longest cooldown of an
    /// active rule, the hour of the flood limit, and a day for a template's numbered choices.
    pub(crate) fn history_since(&self, at: i64) -> i64 {
        let longest = self
            .rules
            .iter()
            .filter(|r| r.is_active)
            .map(AutoReply::cooldown_ms)
            .max()
            .unwrap_or(0);
        at - longest.max(24 * automation::HOUR_MS)
    }

    pub(crate) fn has_active_rules(&self) -> bool {
        self.rules.iter().any(|r| r.is_active)
    }
}

/// Why automation does not answer a message at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    Blocked,
    /// The conversation is assigned to a person who has not resolved it.
    AgentHandling,
}

impl Guard {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Guard::Blocked => "contact_blocked",
            Guard::AgentHandling => "agent_handling",
        }
    }
}

pub(crate) enum Consideration {
    /// A stop or start word; `changes` when the contact's subscription changes with it (and
    /// one confirmation goes out).
    Keyword {
        keyword: Keyword,
        changes: bool,
    },
    Guarded(Guard),
    Decided(Decided),
}

pub(crate) struct Decided {
    pub decision: Decision,
}

/// The facts about one message.
pub(crate) struct Facts<'a> {
    /// Its text or caption.
    pub text: Option<&'a str>,
    pub session_id: &'a str,
    pub session_name: &'a str,
    pub at: i64,
    pub contact: Option<&'a Contact>,
    pub conversation: Option<&'a Conversation>,
    /// What was sent to the contact lately, oldest first.
    pub sent: &'a [&'a Sent],
}

/// The automated answers in `sent`, as the rules count them for a message at `at`.
fn history(sent: &[&Sent], at: i64) -> History {
    let mut history = History::default();
    for s in sent {
        let Some(automation) = &s.metadata.automation else {
            continue;
        };
        // Answers made after the message count too: a backlog worked off late (after a
        // restart) must not answer more than the limit.
        if s.created_at > at - automation::HOUR_MS {
            history.answers_last_hour += 1;
        }
        if automation.kind == AutomationKind::AutoReply {
            let last = history
                .last_by_rule
                .entry(automation.id.clone())
                .or_insert(0);
            *last = (*last).max(s.created_at);
        }
    }
    history
}

/// The numbered choices the customer may be answering: those of the last message sent to
/// them on this session, when it was a template with quick replies.
fn choices<'s>(sent: &[&'s Sent], session_id: &str) -> &'s [String] {
    sent.iter()
        .rev()
        .find(|s| s.session_id == session_id)
        .and_then(|s| s.metadata.template.as_ref())
        .map_or(&[], |t| t.choices.as_slice())
}

pub(crate) fn consider(ctx: &OrgContext, facts: &Facts<'_>) -> Consideration {
    let opted_out = facts.contact.is_some_and(|c| c.opted_out_at.is_some());
    if let Some(keyword) = facts
        .text
        .and_then(|t| ctx.organization.opt_out_words.keyword(t))
    {
        match keyword {
            Keyword::Stop => {
                return Consideration::Keyword {
                    keyword,
                    changes: !opted_out,
                }
            }
            // A start word from someone subscribed is an ordinary message.
            Keyword::Start if opted_out => {
                return Consideration::Keyword {
                    keyword,
                    changes: true,
                }
            }
            Keyword::Start => {}
        }
    }
    if facts.contact.is_some_and(|c| c.is_blocked) {
        return Consideration::Guarded(Guard::Blocked);
    }
    if facts
        .conversation
        .is_some_and(|c| c.assignee_id.is_some() && c.status != ConversationStatus::Resolved)
    {
        return Consideration::Guarded(Guard::AgentHandling);
    }
    let zone = ctx.organization.timezone;
    let local = zone.local(facts.at);
    let open = ctx.hours.is_open(zone, facts.at);
    let choices = choices(facts.sent, facts.session_id);
    let incoming = Incoming {
        text: facts.text,
        choice: facts.text.and_then(|t| automation::choice(t, choices)),
        session_name: facts.session_name,
        local,
        open,
        at: facts.at,
    };
    Consideration::Decided(Decided {
        decision: automation::decide(&ctx.rules, &incoming, &history(facts.sent, facts.at)),
    })
}
