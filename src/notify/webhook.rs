//! Generic webhooks: a JSON body describing the notice, signed with the channel's secret.
//!
//! Headers: `X-Flagwatch-Event` (the notice kind, `incident.opened`…), `X-Flagwatch-Delivery`
//! (the delivery id: the same on every retry, so a receiver can drop repeats) and
//! `X-Flagwatch-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes keyed with
//! the secret, as GitHub signs its webhooks. A receiver recomputes it over the raw body and
//! compares in constant time.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::domain::notification::Notice;

pub const EVENT_HEADER: &str = "X-Flagwatch-Event";
pub const DELIVERY_HEADER: &str = "X-Flagwatch-Delivery";
pub const SIGNATURE_HEADER: &str = "X-Flagwatch-Signature";

/// The body for `notice` as delivery `delivery_id`; `test` marks a notice sent by the
/// channel's `/test` route.
pub fn body(notice: &Notice, delivery_id: i64, test: bool) -> Value {
    json!({
        "event": notice.kind.as_str(),
        "delivery_id": delivery_id,
        "test": test,
        "summary": notice.summary,
        "at": notice.at,
        "dedup_key": notice.dedup_key,
        "monitor": notice.monitor,
        "incident": notice.incident,
        "guard": notice.guard,
        "flags_affected": notice.flags,
    })
}

/// `sha256=<hex HMAC-SHA256 of body, keyed with secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(e) => unreachable!("HMAC accepts any key length: {e}"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The headers besides `Content-Type`.
pub fn headers(
    notice: &Notice,
    delivery_id: i64,
    secret: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (EVENT_HEADER, notice.kind.as_str().to_string()),
        (DELIVERY_HEADER, delivery_id.to_string()),
        (SIGNATURE_HEADER, signature(secret, body)),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::guard::FlagRef;
    use crate::domain::notification::{GuardRef, IncidentRef, MonitorRef, NoticeKind};

    /// A notice with every part filled in, shared by the body builders' tests.
    pub(crate) fn sample(kind: NoticeKind) -> Notice {
        Notice {
            kind,
            summary: "checkout-api is down: connection refused".into(),
            monitor: Some(MonitorRef {
                id: 7,
                name: "checkout-api".into(),
                target: "https://checkout.example.com/health".into(),
            }),
            incident: Some(IncidentRef {
                id: "42".into(),
                started_at: Timestamp(1_767_225_600_000),
                resolved_at: None,
                cause: "connection refused".into(),
            }),
            guard: Some(GuardRef {
                id: 3,
                name: "checkout".into(),
            }),
            flags: vec![FlagRef {
                project: "default".into(),
                feature: "new-checkout-flow".into(),
                environment: "production".into(),
            }],
            at: Timestamp(1_767_225_601_000),
            dedup_key: "incident-42".into(),
        }
    }

    #[test]
    fn describes_the_notice() {
        let b = body(&sample(NoticeKind::IncidentOpened), 12, false);
        assert_eq!(
            b,
            json!({
                "event": "incident.opened",
                "delivery_id": 12,
                "test": false,
                "summary": "checkout-api is down: connection refused",
                "at": "2026-01-01T00:00:01.000Z",
                "dedup_key": "incident-42",
                "monitor": {"id": 7, "name": "checkout-api", "target": "https://checkout.example.com/health"},
                "incident": {"id": "42", "started_at": "2026-01-01T00:00:00.000Z", "resolved_at": null, "cause": "connection refused"},
                "guard": {"id": 3, "name": "checkout"},
                "flags_affected": [{"project": "default", "feature": "new-checkout-flow", "environment": "production"}],
            })
        );
    }

    #[test]
    fn signs_like_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn headers_name_the_event_and_the_delivery() {
        let n = sample(NoticeKind::FlagsDisabled);
        let h = headers(&n, 9, "k", b"{}");
        assert_eq!(h[0], (EVENT_HEADER, "flags.disabled".to_string()));
        assert_eq!(h[1], (DELIVERY_HEADER, "9".to_string()));
        assert_eq!(h[2], (SIGNATURE_HEADER, signature("k", b"{}")));
    }
}
