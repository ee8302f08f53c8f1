//! Slack incoming webhooks: `{"text", "attachments": [{"color", "blocks"}]}`. `text` is the
//! one-line fallback Slack shows in notifications; the coloured attachment holds the detail
//! (red when trouble starts, green when it ends), as Uptime Kuma and Gatus send it.

use serde_json::{Value, json};

use crate::domain::notification::{Notice, NoticeKind};
use crate::notify::truncate;

/// Slack's limits: 3,000 characters in a section's text, 10 fields of 2,000.
const MAX_SECTION: usize = 2900;
const MAX_FIELD: usize = 1900;
/// Flags listed by name; the rest are counted.
const MAX_FLAGS_LISTED: usize = 10;

const RED: &str = "#e01e5a";
const GREEN: &str = "#2eb886";

/// The body for `notice`; `test` marks a notice sent by the channel's `/test` route.
pub fn body(notice: &Notice, test: bool) -> Value {
    let (emoji, color) = match notice.kind {
        NoticeKind::IncidentOpened => (":red_circle:", RED),
        NoticeKind::FlagsDisabled => (":no_entry:", RED),
        NoticeKind::IncidentResolved => (":large_green_circle:", GREEN),
        NoticeKind::FlagsEnabled => (":white_check_mark:", GREEN),
    };
    let prefix = if test { "[test] " } else { "" };
    let title = notice.kind.title();
    let text = format!("{prefix}{emoji} {title}: {}", notice.summary);

    let mut fields = Vec::new();
    if let Some(m) = &notice.monitor {
        let target = if m.target.is_empty() {
            String::new()
        } else {
            format!("\n{}", escape(&m.target))
        };
        fields.push(field("Monitor", &format!("{}{target}", escape(&m.name))));
    }
    if let Some(i) = &notice.incident {
        let mut value = format!("{}\nstarted {}", escape(&i.id), i.started_at.to_rfc3339());
        if let Some(resolved) = i.resolved_at {
            value.push_str(&format!("\nresolved {}", resolved.to_rfc3339()));
        }
        fields.push(field("Incident", &value));
        if !i.cause.is_empty() {
            fields.push(field("Cause", &escape(&i.cause)));
        }
    }
    if let Some(g) = &notice.guard {
        fields.push(field("Guard", &escape(&g.name)));
    }
    if !notice.flags.is_empty() {
        let mut lines: Vec<String> = notice
            .flags
            .iter()
            .take(MAX_FLAGS_LISTED)
            .map(|f| {
                format!(
                    "`{}` in {} ({})",
                    escape(&f.feature),
                    escape(&f.environment),
                    escape(&f.project)
                )
            })
            .collect();
        if notice.flags.len() > MAX_FLAGS_LISTED {
            lines.push(format!(
                "and {} more",
                notice.flags.len() - MAX_FLAGS_LISTED
            ));
        }
        fields.push(field("Flags", &lines.join("\n")));
    }

    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(
            &format!("*{prefix}{title}*\n{}", escape(&notice.summary)),
            MAX_SECTION,
        )},
    })];
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let seconds = notice.at.millis().div_euclid(1000);
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!(
            "flagwatch · <!date^{seconds}^{{date_short_pretty}} {{time_secs}}|{}>",
            notice.at.to_rfc3339()
        )}],
    }));
    json!({
        "text": text,
        "attachments": [{"color": color, "fallback": text, "blocks": blocks}],
    })
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": truncate(&format!("*{name}*\n{value}"), MAX_FIELD)})
}

/// Slack's mrkdwn reserves `&`, `<` and `>`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::webhook::tests::sample;

    #[test]
    fn has_a_text_fallback_a_colour_and_the_details() {
        let n = sample(NoticeKind::IncidentOpened);
        let b = body(&n, false);
        assert_eq!(
            b["text"],
            ":red_circle: Incident opened: checkout-api is down: connection refused"
        );
        let a = &b["attachments"][0];
        assert_eq!(a["color"], RED);
        let blocks = a["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "section");
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Incident opened*\n")
        );
        let fields: Vec<&str> = blocks[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert_eq!(fields.len(), 5, "{fields:?}");
        assert!(
            fields[0].starts_with("*Monitor*\ncheckout-api\nhttps://checkout.example.com/health")
        );
        assert!(fields[4].contains("`new-checkout-flow` in production (default)"));
        assert_eq!(blocks[2]["type"], "context");
    }

    #[test]
    fn recoveries_are_green_and_tests_say_so() {
        let b = body(&sample(NoticeKind::FlagsEnabled), true);
        assert_eq!(b["attachments"][0]["color"], GREEN);
        assert!(
            b["text"]
                .as_str()
                .unwrap()
                .starts_with("[test] :white_check_mark: Flags switched back on")
        );
    }

    #[test]
    fn escapes_mrkdwn_and_bounds_long_text() {
        let mut n = sample(NoticeKind::IncidentOpened);
        n.summary = format!("<b>&{}", "x".repeat(5000));
        n.monitor = None;
        n.incident = None;
        n.guard = None;
        n.flags.clear();
        let b = body(&n, false);
        let blocks = b["attachments"][0]["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 2, "no fields section without details");
        let text = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("&lt;b&gt;&amp;"));
        assert!(text.chars().count() <= MAX_SECTION);
    }
}
