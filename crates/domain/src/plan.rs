use serde::{Deserialize, Serialize};

use crate::ParseError;

/// An organization's plan, which sets how many WhatsApp sessions it may link (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Basic,
    Pro,
    Enterprise,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Basic, Plan::Pro, Plan::Enterprise];

    /// The most sessions the plan allows; `None` is unlimited.
    pub fn session_limit(self) -> Option<u32> {
        match self {
            Plan::Free => Some(1),
            Plan::Basic => Some(3),
            Plan::Pro => Some(10),
            Plan::Enterprise => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Basic => "basic",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == value)
            .ok_or_else(|| ParseError::new("plan", "must be one of free, basic, pro, enterprise"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_spec() {
        assert_eq!(Plan::Free.session_limit(), Some(1));
        assert_eq!(Plan::Basic.session_limit(), Some(3));
        assert_eq!(Plan::Pro.session_limit(), Some(10));
        assert_eq!(Plan::Enterprise.session_limit(), None);
        for plan in Plan::ALL {
            assert_eq!(Plan::parse(plan.as_str()), Ok(plan));
        }
        assert!(Plan::parse("gold").is_err());
    }
}
