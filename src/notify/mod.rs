//! Sending notices: each delivery is one HTTP POST of JSON, to a Slack incoming webhook, a
//! generic signed webhook or PagerDuty's Events API v2. The bodies are built by pure functions
//! ([`slack::body`], [`webhook::body`], [`pagerduty::body`]); [`Sender`] holds the one HTTP
//! client and makes the request; [`RetryPolicy::decide`] turns what came back into the
//! delivery's next state. No storage and no scheduling here: `workers::notifications` does that.

pub mod pagerduty;
pub mod slack;
pub mod webhook;

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::redirect::Policy;

use crate::domain::Timestamp;
use crate::domain::notification::{ChannelConfig, ClaimedDelivery, DeliveryResult};

/// Longest wait a `Retry-After` header can impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Longest wait between two attempts by backoff alone.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How much of a refusing receiver's body is kept in the delivery log.
const MAX_ERROR_BODY: usize = 200;

/// One request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub url: String,
    /// Besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The request for a claimed delivery, from its channel's settings and its notice.
pub fn outgoing(d: &ClaimedDelivery) -> Outgoing {
    match &d.channel.config {
        ChannelConfig::Slack { webhook_url } => Outgoing {
            url: webhook_url.clone(),
            headers: Vec::new(),
            body: slack::body(&d.notice, d.test).to_string().into_bytes(),
        },
        ChannelConfig::Webhook { url, secret } => {
            let body = webhook::body(&d.notice, d.id, d.test)
                .to_string()
                .into_bytes();
            Outgoing {
                url: url.clone(),
                headers: webhook::headers(&d.notice, d.id, secret, &body),
                body,
            }
        }
        ChannelConfig::PagerDuty {
            routing_key,
            events_url,
            severity,
        } => Outgoing {
            url: events_url.clone(),
            headers: Vec::new(),
            body: pagerduty::body(&d.notice, routing_key, *severity, d.test)
                .to_string()
                .into_bytes(),
        },
    }
}

/// How one HTTP attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered. `body` is the start of what it said (for the log).
    Answered {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// No complete answer within the timeout.
    TimedOut(Duration),
    /// No answer at all: connection refused or reset, DNS failure, TLS failure…
    Failed(String),
}

/// Retries: 429, 5xx, timeouts and connection errors are tried again after
/// `base × 2^(attempts − 1)` (at most [`MAX_BACKOFF`]), or after the receiver's `Retry-After`
/// (at most [`MAX_RETRY_AFTER`]), until `max_attempts` attempts were made. Any other answer
/// outside 2xx fails the delivery at once: sending the same body again would be refused again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_attempts: i64,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th attempt failed (attempts from 1).
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(MAX_BACKOFF)
            .min(MAX_BACKOFF)
    }

    /// What the `attempts`-th attempt (from 1), ending as `attempt` at `now`, makes of the
    /// delivery.
    pub fn decide(&self, attempt: &Attempt, attempts: i64, now: Timestamp) -> DeliveryResult {
        let (status_code, error, retry_after) = match attempt {
            Attempt::Answered { status, .. } if (200..300).contains(status) => {
                return DeliveryResult::Delivered {
                    status_code: *status,
                };
            }
            Attempt::Answered {
                status,
                retry_after,
                body,
            } => {
                let error = if body.is_empty() {
                    format!("HTTP {status}")
                } else {
                    format!("HTTP {status}: {body}")
                };
                if *status != 429 && !(500..600).contains(status) {
                    return DeliveryResult::Failed {
                        status_code: Some(*status),
                        error,
                    };
                }
                (Some(*status), error, *retry_after)
            }
            Attempt::TimedOut(after) => (
                None,
                format!("no answer within {} s", after.as_secs_f64()),
                None,
            ),
            Attempt::Failed(e) => (None, e.clone(), None),
        };
        if attempts >= self.max_attempts {
            return DeliveryResult::Failed {
                status_code,
                error: format!("{error} (gave up after {attempts} attempts)"),
            };
        }
        let wait = retry_after.map_or_else(|| self.backoff(attempts), |d| d.min(MAX_RETRY_AFTER));
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        DeliveryResult::Retry {
            status_code,
            error,
            at: Timestamp(now.millis().saturating_add(wait_ms)),
        }
    }
}

/// `Retry-After`: seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), as a wait
/// from `now`. A date in the past means no wait.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Makes the requests. One HTTP client for every channel: connections to one receiver are
/// reused. Redirects are not followed (a receiver that moved must be reconfigured, and a
/// signed body must not be replayed elsewhere), so a 3xx fails the delivery.
pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    /// `timeout` bounds each request, from connecting to the end of the answer.
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("flagwatch/", env!("CARGO_PKG_VERSION")))
            .redirect(Policy::none())
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { client, timeout })
    }

    /// Sends `out`. Never fails: every outcome is an [`Attempt`]. Error texts leave the URL out
    /// (a Slack URL is a secret).
    pub async fn send(&self, out: &Outgoing) -> Attempt {
        let mut request = self
            .client
            .post(&out.url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(out.body.clone());
        for (name, value) in &out.headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return self.failure(e),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        // The start of the answer, for the log; the rest is not downloaded.
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Attempt::TimedOut(self.timeout),
                // The status is what counts; a broken body only costs the log its text.
                Err(_) => break,
            }
        }
        Attempt::Answered {
            status,
            retry_after,
            body: one_line(&String::from_utf8_lossy(&body), MAX_ERROR_BODY),
        }
    }

    fn failure(&self, e: reqwest::Error) -> Attempt {
        if e.is_timeout() {
            return Attempt::TimedOut(self.timeout);
        }
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let msg = s.to_string();
            if !text.contains(&msg) {
                text.push_str(": ");
                text.push_str(&msg);
            }
            source = s.source();
        }
        Attempt::Failed(text)
    }
}

/// `text` on one line, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// At most `max` characters of `text`, with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_000_000);

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(500),
            max_attempts: 5,
        }
    }

    fn answered(status: u16) -> Attempt {
        Attempt::Answered {
            status,
            retry_after: None,
            body: String::new(),
        }
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_a_cap() {
        let p = policy();
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000]);
        assert_eq!(p.backoff(40), MAX_BACKOFF);
        assert_eq!(p.backoff(i64::MAX), MAX_BACKOFF);
        assert_eq!(p.backoff(0), Duration::from_millis(500));
    }

    #[test]
    fn success_is_any_2xx_including_pagerdutys_202() {
        for status in [200, 202, 204] {
            assert_eq!(
                policy().decide(&answered(status), 1, NOW),
                DeliveryResult::Delivered {
                    status_code: status
                }
            );
        }
    }

    #[test]
    fn retries_429_5xx_timeouts_and_connection_errors_with_backoff() {
        let p = policy();
        for attempt in [
            answered(429),
            answered(500),
            answered(503),
            Attempt::TimedOut(Duration::from_secs(1)),
            Attempt::Failed("connection refused".into()),
        ] {
            match p.decide(&attempt, 2, NOW) {
                DeliveryResult::Retry { at, .. } => assert_eq!(at, Timestamp(1_001_000)),
                other => panic!("{attempt:?} → {other:?}"),
            }
        }
    }

    #[test]
    fn other_answers_fail_at_once() {
        for status in [301, 400, 401, 403, 404, 410] {
            let got = policy().decide(
                &Attempt::Answered {
                    status,
                    retry_after: None,
                    body: "invalid_payload".into(),
                },
                1,
                NOW,
            );
            assert_eq!(
                got,
                DeliveryResult::Failed {
                    status_code: Some(status),
                    error: format!("HTTP {status}: invalid_payload")
                }
            );
        }
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        match policy().decide(&answered(500), 5, NOW) {
            DeliveryResult::Failed { status_code, error } => {
                assert_eq!(status_code, Some(500));
                assert!(error.contains("gave up after 5 attempts"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_wins_over_backoff_within_a_bound() {
        let p = policy();
        let with = |secs: u64| Attempt::Answered {
            status: 429,
            retry_after: Some(Duration::from_secs(secs)),
            body: String::new(),
        };
        assert!(matches!(
            p.decide(&with(7), 1, NOW),
            DeliveryResult::Retry {
                at: Timestamp(1_007_000),
                ..
            }
        ));
        assert!(matches!(
            p.decide(&with(1_000_000), 1, NOW),
            DeliveryResult::Retry { at: Timestamp(t), .. } if t == 1_000_000 + 3_600_000
        ));
    }

    #[test]
    fn reads_retry_after_as_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_400); // 2015-10-21T07:26:40Z
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
    }
}
