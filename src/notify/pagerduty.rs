//! PagerDuty Events API v2: notices that start trouble (`NoticeKind::opens`) `trigger` an
//! alert, the others `resolve` it. Both carry the notice's dedup key, so the trigger and the
//! resolve of one incident meet in one alert. A trigger carries the `payload` (summary,
//! source, severity, details); a resolve needs none. Success is 202.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::notification::{MAX_DEDUP_KEY_CHARS, MAX_SUMMARY_CHARS, Notice, Severity};
use crate::notify::truncate;

/// The body for `notice`; `test` marks a notice sent by the channel's `/test` route.
pub fn body(notice: &Notice, routing_key: &str, severity: Severity, test: bool) -> Value {
    let dedup_key = dedup_key(&notice.dedup_key);
    if !notice.kind.opens() {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let prefix = if test { "[test] " } else { "" };
    let source = notice
        .monitor
        .as_ref()
        .map(|m| {
            if m.target.is_empty() {
                &m.name
            } else {
                &m.target
            }
        })
        .filter(|s| !s.is_empty())
        .map_or("flagwatch", String::as_str);
    let mut payload = json!({
        "summary": truncate(&format!("{prefix}{}", notice.summary), MAX_SUMMARY_CHARS),
        "source": source,
        "severity": severity.as_str(),
        "timestamp": notice.at,
        "class": notice.kind.as_str(),
        "custom_details": {
            "event": notice.kind.as_str(),
            "test": test,
            "monitor": notice.monitor,
            "incident": notice.incident,
            "guard": notice.guard,
            "flags_affected": notice.flags,
        },
    });
    if let Some(m) = &notice.monitor {
        payload["component"] = json!(m.name);
    }
    if let Some(g) = &notice.guard {
        payload["group"] = json!(g.name);
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": payload,
        "client": "flagwatch",
    })
}

/// PagerDuty takes at most 255 characters; a longer key is replaced by its SHA-256 (the same
/// for the trigger and the resolve).
pub fn dedup_key(key: &str) -> String {
    if key.chars().count() <= MAX_DEDUP_KEY_CHARS {
        key.to_string()
    } else {
        hex::encode(Sha256::digest(key.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notification::NoticeKind;
    use crate::notify::webhook::tests::sample;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn opening_notices_trigger_with_a_payload() {
        for kind in [NoticeKind::IncidentOpened, NoticeKind::FlagsDisabled] {
            let b = body(&sample(kind), KEY, Severity::Critical, false);
            assert_eq!(b["event_action"], "trigger");
            assert_eq!(b["routing_key"], KEY);
            assert_eq!(b["dedup_key"], "incident-42");
            let p = &b["payload"];
            assert_eq!(p["summary"], "checkout-api is down: connection refused");
            assert_eq!(p["source"], "https://checkout.example.com/health");
            assert_eq!(p["severity"], "critical");
            assert_eq!(p["timestamp"], "2026-01-01T00:00:01.000Z");
            assert_eq!(p["component"], "checkout-api");
            assert_eq!(p["group"], "checkout");
            assert_eq!(p["custom_details"]["incident"]["id"], "42");
            assert_eq!(
                p["custom_details"]["flags_affected"][0]["feature"],
                "new-checkout-flow"
            );
        }
    }

    #[test]
    fn closing_notices_resolve_the_same_alert() {
        for kind in [NoticeKind::IncidentResolved, NoticeKind::FlagsEnabled] {
            let b = body(&sample(kind), KEY, Severity::Warning, false);
            assert_eq!(
                b,
                json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "incident-42"})
            );
        }
    }

    #[test]
    fn bounds_summary_and_dedup_key_and_falls_back_for_source() {
        let mut n = sample(NoticeKind::IncidentOpened);
        n.summary = "s".repeat(2000);
        n.dedup_key = "k".repeat(300);
        n.monitor = None;
        n.guard = None;
        let b = body(&n, KEY, Severity::Info, true);
        let p = &b["payload"];
        let summary = p["summary"].as_str().unwrap();
        assert!(summary.starts_with("[test] "));
        assert_eq!(summary.chars().count(), MAX_SUMMARY_CHARS);
        assert_eq!(p["source"], "flagwatch");
        assert_eq!(p["severity"], "info");
        assert!(p.get("component").is_none() && p.get("group").is_none());
        assert_eq!(b["dedup_key"].as_str().unwrap().len(), 64);
        assert_eq!(b["dedup_key"], dedup_key(&"k".repeat(300)));
        assert_eq!(dedup_key("short"), "short");
    }
}
