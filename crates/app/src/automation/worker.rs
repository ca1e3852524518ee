//! The automation worker: takes customers' messages off the automation queue in batches,
//! decides on each (a stop or start word, an auto-reply, or nothing) and settles the batch in
//! one transaction — the answers into the outbox, keyed by what they answer, the opt-outs on
//! their contacts, the messages off the queue. It reads the queue, never only the in-memory
//! news of new messages (which only wakes it), so `kill -9` at any point neither skips a
//! message nor answers one twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wasl_domain::opt_out::Keyword;
use wasl_domain::{
    Automation, AutomationKind, MessageMetadata, OrgId, PhoneNumber, Session, SessionId,
};
use wasl_store::{Claimed, OptOutChange, Sent, Settlement, Store};

use super::decide::{consider, Consideration, Facts, OrgContext};
use super::library::Library;
use super::reply::{render, Answer};
use super::templates::Templates;
use crate::clock::Clock;
use crate::error::AppResult;
use crate::messaging::{Messaging, OutgoingDraft};

/// Messages decided and settled together.
const BATCH: u32 = 100;
/// How long a worker holds the messages it took; one that dies lets them go after this.
const LEASE_MS: i64 = 15_000;
/// The longest an idle worker waits before it looks at the queue on its own (messages left
/// by a worker that died, or stored by another node).
const IDLE_CHECK: Duration = Duration::from_secs(1);

pub struct AutomationWorker {
    store: Store,
    messaging: Arc<Messaging>,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
}

/// The session a message came to, as a send from it needs it.
type Sessions = HashMap<SessionId, Option<Session>>;

impl AutomationWorker {
    pub fn new(
        store: Store,
        messaging: Arc<Messaging>,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        AutomationWorker {
            store,
            messaging,
            templates,
            library,
            clock,
        }
    }

    /// Works until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let signal = self.messaging.inbound_signal();
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match self.step().await {
                Ok(0) => {
                    failures = 0;
                    Some(IDLE_CHECK)
                }
                Ok(_) => {
                    failures = 0;
                    None
                }
                Err(e) => {
                    failures += 1;
                    let wait = Duration::from_millis(200 * 2u64.pow(failures.min(7)));
                    tracing::error!(error = %e, failures, retry_in_ms = wait.as_millis() as u64, "automation cannot settle its messages; trying again");
                    Some(wait)
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    () = signal.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// Decides on and settles one batch of queued messages; how many it took.
    pub async fn step(&self) -> AppResult<usize> {
        let now = self.clock.now_millis();
        let claimed = self
            .store
            .automation()
            .claim(now, now + LEASE_MS, BATCH)
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }

        let mut contexts: HashMap<OrgId, Option<OrgContext>> = HashMap::new();
        let mut history: HashMap<OrgId, HashMap<String, Vec<Sent>>> = HashMap::new();
        for c in &claimed {
            let org = &c.message.organization_id;
            if contexts.contains_key(org) {
                continue;
            }
            let context = OrgContext::load(&self.store, org).await?;
            if let Some(ctx) = context.as_ref().filter(|ctx| ctx.has_active_rules()) {
                let phones: Vec<&str> = claimed
                    .iter()
                    .filter(|c| &c.message.organization_id == org)
                    .map(|c| c.message.contact_phone.as_str())
                    .collect();
                let mut by_phone: HashMap<String, Vec<Sent>> = HashMap::new();
                for sent in self
                    .store
                    .automation()
                    .sent_since(org, &phones, ctx.history_since(now))
                    .await?
                {
                    by_phone
                        .entry(sent.contact_phone.clone())
                        .or_default()
                        .push(sent);
                }
                history.insert(org.clone(), by_phone);
            }
            contexts.insert(org.clone(), context);
        }
        let mut sessions = Sessions::new();
        let mut settlements = Vec::with_capacity(claimed.len());
        for c in &claimed {
            let org = &c.message.organization_id;
            let settlement = match contexts.get(org).and_then(Option::as_ref) {
                Some(ctx) if c.contact.is_some() => {
                    let sent = history
                        .entry(org.clone())
                        .or_default()
                        .entry(c.message.contact_phone.clone())
                        .or_default();
                    self.decide(ctx, c, sent, &mut sessions, now).await?
                }
                // The organization or the contact is gone: the message is let go, unanswered.
                _ => Settlement {
                    message_id: c.message.id.clone(),
                    answer: None,
                    opt_out: None,
                },
            };
            settlements.push(settlement);
        }
        let settled = match self
            .store
            .automation()
            .settle(&settlements, self.messaging.renderer().as_ref())
            .await
        {
            Ok(settled) => settled,
            Err(e) => {
                for answer in settlements.iter().filter_map(|s| s.answer.as_ref()) {
                    if let Some(path) = &answer.message.media_path {
                        self.messaging.media().remove(path).await;
                    }
                }
                return Err(e.into());
            }
        };
        for (settlement, stored) in settlements.iter().zip(&settled.answers) {
            let Some(answer) = &settlement.answer else {
                continue;
            };
            match stored {
                Some(recorded) => self.messaging.wake_outbox(&recorded.message.session_id),
                // Stored already by an earlier attempt: this copy's file is nobody's.
                None => {
                    if let Some(path) = &answer.message.media_path {
                        self.messaging.media().remove(path).await;
                    }
                }
            }
        }
        self.messaging.bus().publish(settled.events);
        Ok(claimed.len())
    }

    /// The decision on one message, as a settlement; an answer decided is added to `sent`,
    /// so that the batch's later messages count it.
    async fn decide(
        &self,
        ctx: &OrgContext,
        c: &Claimed,
        sent: &mut Vec<Sent>,
        sessions: &mut Sessions,
        now: i64,
    ) -> AppResult<Settlement> {
        let message = &c.message;
        let Some(contact) = c.contact.as_ref() else {
            return Ok(Settlement {
                message_id: message.id.clone(),
                answer: None,
                opt_out: None,
            });
        };
        let session_name = message
            .session_id
            .as_str()
            .strip_prefix(message.organization_id.as_str())
            .and_then(|rest| rest.strip_prefix('_'))
            .unwrap_or_default();
        let text = message.text.as_deref().or(message.caption.as_deref());
        let consideration = {
            let recent: Vec<&Sent> = sent.iter().collect();
            consider(
                ctx,
                &Facts {
                    text,
                    session_id: message.session_id.as_str(),
                    session_name,
                    at: message.created_at,
                    contact: Some(contact),
                    conversation: c.conversation.as_ref(),
                    sent: &recent,
                },
            )
        };
        let mut settlement = Settlement {
            message_id: message.id.clone(),
            answer: None,
            opt_out: None,
        };
        let (answer, automation, key) = match consideration {
            Consideration::Keyword { changes: false, .. } | Consideration::Guarded(_) => {
                return Ok(settlement)
            }
            Consideration::Keyword {
                keyword,
                changes: true,
            } => {
                settlement.opt_out = Some(OptOutChange {
                    organization_id: message.organization_id.clone(),
                    contact_id: contact.id.clone(),
                    opted_out_at: (keyword == Keyword::Stop).then_some(now),
                    at: now,
                });
                tracing::info!(organization = %message.organization_id, contact = %contact.id, keyword = keyword.as_str(), "a customer changed their subscription");
                if contact.is_blocked {
                    return Ok(settlement);
                }
                let words = &ctx.organization.opt_out_words;
                let start_word = words.start_words().first().map_or("START", String::as_str);
                let answer = Answer {
                    kind: wasl_engine::MessageKind::Text,
                    text: Some(keyword.confirmation(ctx.organization.default_language, start_word)),
                    caption: None,
                    media: None,
                    template: None,
                    marketing: false,
                };
                (
                    answer,
                    Automation {
                        kind: AutomationKind::OptOut,
                        id: keyword.as_str().to_owned(),
                        incoming_message_id: Some(message.id.clone()),
                    },
                    format!("opt-out·{}", message.id),
                )
            }
            Consideration::Decided(decided) => {
                let Some((index, away)) = decided.decision.answer else {
                    return Ok(settlement);
                };
                let Some(rule) = ctx.rules.get(index) else {
                    return Ok(settlement);
                };
                let reply = if away {
                    rule.away_response.as_ref()
                } else {
                    Some(&rule.response)
                };
                let Some(reply) = reply else {
                    return Ok(settlement);
                };
                let answer = match render(
                    &self.templates,
                    &self.library,
                    &ctx.organization,
                    reply,
                    Some(contact),
                    &message.contact_phone,
                )
                .await
                {
                    Ok(answer) => answer,
                    Err(crate::AppError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(rule = %rule.id, error = %e, "an auto-reply cannot be made (its template or file is gone); nothing is sent");
                        return Ok(settlement);
                    }
                };
                if answer.marketing && contact.opted_out_at.is_some() {
                    return Ok(settlement);
                }
                (
                    answer,
                    Automation {
                        kind: AutomationKind::AutoReply,
                        id: rule.id.clone(),
                        incoming_message_id: Some(message.id.clone()),
                    },
                    format!("auto-reply·{}·{}", rule.id, message.id),
                )
            }
        };
        let Some(session) = self.session(sessions, &message.session_id).await? else {
            return Ok(settlement);
        };
        if let (Some(media), Some(limit)) = (
            &answer.media,
            self.messaging
                .engines()
                .capabilities(session.engine)
                .and_then(|c| c.media_limits.of(answer.kind)),
        ) {
            if media.bytes.len() > limit {
                tracing::warn!(session = %session.id, "an automated answer's file is larger than the engine sends; nothing is sent");
                return Ok(settlement);
            }
        }
        let metadata = MessageMetadata {
            automation: Some(automation),
            template: answer.template,
        };
        let item = self
            .messaging
            .prepare(
                OutgoingDraft {
                    session: &session,
                    quoted: None,
                    to: PhoneNumber::from_trusted(&message.contact_phone),
                    kind: answer.kind,
                    text: answer.text,
                    caption: answer.caption,
                    media: answer.media,
                    ptt: false,
                    idempotency_key: Some(key),
                    related_user: None,
                    metadata: metadata.clone(),
                },
                None,
            )
            .await?;
        sent.push(Sent {
            contact_phone: message.contact_phone.clone(),
            session_id: message.session_id.as_str().to_owned(),
            metadata,
            created_at: item.message.created_at,
        });
        settlement.answer = Some(item);
        Ok(settlement)
    }

    async fn session(&self, sessions: &mut Sessions, id: &SessionId) -> AppResult<Option<Session>> {
        if let Some(found) = sessions.get(id) {
            return Ok(found.clone());
        }
        let found = self.store.sessions().by_id(id).await?;
        sessions.insert(id.clone(), found.clone());
        Ok(found)
    }
}
