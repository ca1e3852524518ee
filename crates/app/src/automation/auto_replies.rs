//! Auto-reply rules (SPEC §14): written by owners and admins, read by everyone, and tried out
//! with `test`, which runs the very decision the worker makes and says why.

use std::sync::Arc;

use chrono::NaiveDateTime;
use wasl_domain::automation::{AutoReply, Conditions, Reply, Trigger, Verdict};
use wasl_domain::opt_out::Keyword;
use wasl_domain::{ParseError, PhoneNumber, SessionName};
use wasl_store::{Page, PageRequest, Store};

use super::decide::{consider, Consideration, Facts, OrgContext};
use super::library::Library;
use super::reply::{check_reply, render};
use super::templates::Templates;
use crate::accounts::Caller;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};

/// A rule as asked for, its parts already parsed.
pub struct RuleDraft {
    pub name: String,
    pub trigger: Trigger,
    pub response: Reply,
    pub conditions: Conditions,
    pub away_response: Option<Reply>,
    pub session_name: Option<SessionName>,
    pub priority: i64,
    pub cooldown_minutes: u32,
    pub is_active: bool,
}

/// A message to try the rules on.
pub struct TestMessage {
    pub text: Option<String>,
    /// Whose message: their blocking, opting out, conversation and recent answers count.
    pub from: Option<PhoneNumber>,
    /// When; now when not given.
    pub at: Option<i64>,
    /// The session it comes to; `default` when not given.
    pub session_name: Option<SessionName>,
}

/// One rule's verdict in a test.
pub struct RuleVerdict {
    pub rule: AutoReply,
    pub verdict: Verdict,
}

/// What the rules would do with a message, and why.
pub struct TestOutcome {
    /// The rule that answers, and whether with its away response.
    pub rule: Option<(AutoReply, bool)>,
    /// The text the customer would get (a caption for a file), filled for them.
    pub text: Option<String>,
    /// `answers` or why not: `no_rule_matched`, `conditions_not_met`, `cooldown`,
    /// `hourly_limit`, `contact_blocked`, `agent_handling`, `stop_word`, `start_word`,
    /// `already_opted_out`.
    pub reason: &'static str,
    pub verdicts: Vec<RuleVerdict>,
    pub local_time: NaiveDateTime,
    pub within_business_hours: bool,
    pub at: i64,
}

pub struct AutoReplies {
    store: Store,
    templates: Arc<Templates>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
}

impl AutoReplies {
    pub fn new(
        store: Store,
        templates: Arc<Templates>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        AutoReplies {
            store,
            templates,
            library,
            clock,
        }
    }

    async fn check(&self, caller: &Caller, draft: &RuleDraft) -> AppResult<()> {
        caller.require_manager()?;
        let mut errors = Vec::new();
        if let Err(e) = check_reply(&self.store, &caller.org_id, "response", &draft.response).await
        {
            errors.push(e);
        }
        if let Some(away) = &draft.away_response {
            if let Err(e) = check_reply(&self.store, &caller.org_id, "awayResponse", away).await {
                errors.push(e);
            }
        }
        if let Some(name) = &draft.session_name {
            if self
                .store
                .sessions()
                .get(&caller.org_id, name)
                .await?
                .is_none()
            {
                errors.push(ParseError::new("sessionName", "no session of this name"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    pub async fn create(&self, caller: &Caller, draft: RuleDraft) -> AppResult<AutoReply> {
        self.check(caller, &draft).await?;
        let now = self.clock.now_millis();
        let rule = AutoReply {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: caller.org_id.clone(),
            name: draft.name,
            trigger: draft.trigger,
            response: draft.response,
            conditions: draft.conditions,
            away_response: draft.away_response,
            session_name: draft.session_name,
            priority: draft.priority,
            cooldown_minutes: draft.cooldown_minutes,
            is_active: draft.is_active,
            created_at: now,
            updated_at: now,
        };
        self.store.auto_replies().insert(&rule).await?;
        tracing::info!(organization = %caller.org_id, rule = %rule.id, "auto-reply created");
        Ok(rule)
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        draft: RuleDraft,
    ) -> AppResult<AutoReply> {
        let before = self.get(caller, id).await?;
        self.check(caller, &draft).await?;
        let rule = AutoReply {
            name: draft.name,
            trigger: draft.trigger,
            response: draft.response,
            conditions: draft.conditions,
            away_response: draft.away_response,
            session_name: draft.session_name,
            priority: draft.priority,
            cooldown_minutes: draft.cooldown_minutes,
            is_active: draft.is_active,
            updated_at: self.clock.now_millis(),
            ..before
        };
        if !self.store.auto_replies().update(&rule).await? {
            return Err(AppError::NotFound);
        }
        Ok(rule)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> AppResult<AutoReply> {
        self.store
            .auto_replies()
            .get(&caller.org_id, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn list(&self, caller: &Caller, page: &PageRequest) -> AppResult<Page<AutoReply>> {
        Ok(self.store.auto_replies().list(&caller.org_id, page).await?)
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> AppResult<AutoReply> {
        caller.require_manager()?;
        let rule = self.get(caller, id).await?;
        if !self.store.auto_replies().delete(&caller.org_id, id).await? {
            return Err(AppError::NotFound);
        }
        Ok(rule)
    }

    /// What the rules would do with `message` now (or at its time): the decision the worker
    /// makes, with every rule's verdict and the answer's text. Nothing is sent or stored.
    pub async fn test(&self, caller: &Caller, message: TestMessage) -> AppResult<TestOutcome> {
        let ctx = OrgContext::load(&self.store, &caller.org_id)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let at = message.at.unwrap_or_else(|| self.clock.now_millis());
        let session_name = message
            .session_name
            .as_ref()
            .map_or("default", SessionName::as_str);
        let session_id = format!("{}_{session_name}", caller.org_id);
        let (contact, conversation, sent) = match &message.from {
            Some(phone) => {
                let contact = self
                    .store
                    .contacts()
                    .by_phone(&caller.org_id, phone.as_str())
                    .await?;
                let conversation = match &contact {
                    Some(c) => {
                        self.store
                            .automation()
                            .conversation_of(&session_id, &c.id)
                            .await?
                    }
                    None => None,
                };
                let sent = self
                    .store
                    .automation()
                    .sent_since(&caller.org_id, &[phone.as_str()], ctx.history_since(at))
                    .await?;
                (contact, conversation, sent)
            }
            None => (None, None, Vec::new()),
        };
        let recent: Vec<&wasl_store::Sent> = sent.iter().collect();
        let consideration = consider(
            &ctx,
            &Facts {
                text: message.text.as_deref(),
                session_id: &session_id,
                session_name,
                at,
                contact: contact.as_ref(),
                conversation: conversation.as_ref(),
                sent: &recent,
            },
        );
        let zone = ctx.organization.timezone;
        let mut outcome = TestOutcome {
            rule: None,
            text: None,
            reason: "no_rule_matched",
            verdicts: Vec::new(),
            local_time: zone.local(at),
            within_business_hours: ctx.hours.is_open(zone, at),
            at,
        };
        let phone = message.from.as_ref().map_or("", PhoneNumber::as_str);
        match consideration {
            Consideration::Keyword { keyword, changes } => {
                outcome.reason = match (keyword, changes) {
                    (Keyword::Stop, true) => "stop_word",
                    (Keyword::Stop, false) => "already_opted_out",
                    (Keyword::Start, _) => "start_word",
                };
                if changes {
                    let start = ctx
                        .organization
                        .opt_out_words
                        .start_words()
                        .first()
                        .map_or("START", String::as_str);
                    outcome.text =
                        Some(keyword.confirmation(ctx.organization.default_language, start));
                }
            }
            Consideration::Guarded(guard) => outcome.reason = guard.code(),
            Consideration::Decided(decided) => {
                outcome.reason = decided.decision.reason().unwrap_or("answers");
                if let Some((index, away)) = decided.decision.answer {
                    let rule = &ctx.rules[index];
                    let reply = if away {
                        rule.away_response.as_ref()
                    } else {
                        Some(&rule.response)
                    };
                    if let Some(reply) = reply {
                        let answer = render(
                            &self.templates,
                            &self.library,
                            &ctx.organization,
                            reply,
                            contact.as_ref(),
                            phone,
                        )
                        .await?;
                        outcome.text = answer.text.or(answer.caption);
                    }
                    outcome.rule = Some((rule.clone(), away));
                }
                outcome.verdicts = ctx
                    .rules
                    .iter()
                    .cloned()
                    .zip(decided.decision.verdicts)
                    .map(|(rule, verdict)| RuleVerdict { rule, verdict })
                    .collect();
            }
        }
        Ok(outcome)
    }
}
