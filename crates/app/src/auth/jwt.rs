//! The tokens people sign in with: JWTs signed with HMAC-SHA256 (HS256). Only HS256 is
//! accepted, whatever the header says, so `alg: none` and algorithm confusion cannot work.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The organization id.
    pub org: String,
    pub iat: i64,
    pub exp: i64,
    /// This token's own id: signing out lists it as ended.
    pub jti: String,
    /// The user's token generation when it was issued: a password change moves the user's
    /// generation on, which ends every token issued before.
    #[serde(rename = "gen")]
    pub generation: i64,
}

/// How far in the future a token's issue time may be (clocks of several nodes differ a
/// little); a token "issued" later than that was not issued by wasl.
pub const IAT_LEEWAY_SECS: i64 = 60;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

pub fn issue(claims: &Claims, secret: &[u8]) -> String {
    let header = B64.encode(HEADER);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = B64.encode(sign(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// The claims of a valid, unexpired token signed with `secret`; `None` for anything else.
pub fn verify(token: &str, secret: &[u8], now_secs: i64) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&B64.decode(signature).ok()?).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    (claims.exp > now_secs && claims.iat <= now_secs + IAT_LEEWAY_SECS).then_some(claims)
}

fn sign(secret: &[u8], input: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u1".into(),
            org: "o1".into(),
            iat: 0,
            exp,
            jti: "t1".into(),
            generation: 0,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let token = issue(&claims(100), secret);
        assert_eq!(verify(&token, secret, 50), Some(claims(100)));
        assert_eq!(verify(&token, secret, 100), None, "expired");
        assert_eq!(
            verify(&token, b"another secret of enough length!", 50),
            None
        );
        let mut forged = token.clone();
        forged.push('A');
        assert_eq!(verify(&forged, secret, 50), None);
        let none_alg = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap_or_default()
        );
        assert_eq!(verify(&none_alg, secret, 50), None);
        assert_eq!(verify("a.b", secret, 50), None);
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let mut later = claims(10_000);
        later.iat = 1_000 + IAT_LEEWAY_SECS + 1;
        assert_eq!(verify(&issue(&later, secret), secret, 1_000), None);
        later.iat = 1_000 + IAT_LEEWAY_SECS;
        assert!(
            verify(&issue(&later, secret), secret, 1_000).is_some(),
            "within the leeway"
        );
        // A token without an id or generation (not issued by this version) is refused.
        let old = B64.encode(r#"{"sub":"u1","org":"o1","iat":0,"exp":10000}"#);
        let input = format!("{}.{old}", B64.encode(HEADER));
        let forged = format!("{input}.{}", B64.encode(sign(secret, input.as_bytes())));
        assert_eq!(verify(&forged, secret, 1_000), None);
    }
}
