//! A monitor's status machine, with Better Stack's semantics (`../shared/reference/uptime.md`
//! §0 fact 5, §1.2 `status`). Pure: the caller passes the stored state, the monitor's
//! periods and one check result with the time it was taken, and gets the next state and the
//! transition, if any. No clock is read here.
//!
//! - `pending` → `up` at the first success.
//! - A failure starts a failure streak (`failing_since`); the status does not move until the
//!   streak has lasted `confirmation_period` seconds (0: at the first failure). Then `down`,
//!   and an incident opens — unless one is still open (a failure while `validating`).
//! - From `down`, a success starts a success streak (`succeeding_since`) and the status is
//!   `validating` until the streak has lasted `recovery_period` seconds (0: `up` at once).
//!   A failure while `validating` is `down` again, in the same incident.
//! - Reaching `up` with an incident open is [`Transition::Recovered`]: the incident resolves.
//! - `paused` and `maintenance` are set by configuration, not by checks: results are ignored.

use std::fmt;

use crate::domain::Timestamp;
use crate::domain::probe::{Cause, ProbeResult};

/// Better Stack's monitor `status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Created, no check yet.
    Pending,
    Up,
    /// Looks back up, but `recovery_period` has not passed yet.
    Validating,
    Down,
    Paused,
    Maintenance,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Up => "up",
            Self::Validating => "validating",
            Self::Down => "down",
            Self::Paused => "paused",
            Self::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Up,
            Self::Validating,
            Self::Down,
            Self::Paused,
            Self::Maintenance,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the machine remembers between checks (stored on the monitor row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorState {
    pub status: Status,
    /// Start of the current run of failures; `None` after a success.
    pub failing_since: Option<Timestamp>,
    /// Start of the current run of successes; `None` after a failure.
    pub succeeding_since: Option<Timestamp>,
    /// The open incident, if any. A new `down` with `None` here opens one; the caller sets it.
    pub open_incident: Option<i64>,
}

impl MonitorState {
    pub fn pending() -> Self {
        Self {
            status: Status::Pending,
            failing_since: None,
            succeeding_since: None,
            open_incident: None,
        }
    }
}

/// The monitor's hysteresis, in seconds (`confirmation_period`, `recovery_period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub confirmation_period: i64,
    pub recovery_period: i64,
}

/// One check result, as the machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub up: bool,
    /// Why it failed; `None` when up.
    pub cause: Option<Cause>,
    /// When the check was taken.
    pub at: Timestamp,
}

impl Observation {
    pub fn from_probe(result: &ProbeResult, at: Timestamp) -> Self {
        Self {
            up: result.up,
            cause: result.cause.clone(),
            at,
        }
    }
}

/// A status change worth announcing (and auditing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// To `up` with no incident open (from `pending`).
    Up,
    /// To `down`. Opens an incident when the new state has none (`open_incident` is `None`);
    /// from `validating` the open incident continues. `cause` is the failure that confirmed it.
    Down { cause: Option<Cause> },
    /// From `down` to `validating`: the first success, `recovery_period` not over yet.
    Validating,
    /// To `up` with an incident open: the incident resolves.
    Recovered,
}

impl Transition {
    pub fn to(&self) -> Status {
        match self {
            Self::Up | Self::Recovered => Status::Up,
            Self::Down { .. } => Status::Down,
            Self::Validating => Status::Validating,
        }
    }
}

/// A stored incident: a monitor's stretch of `down` (and `validating`), opened at `down` and
/// resolved at `up`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: i64,
    pub monitor_id: i64,
    pub started_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// [`Cause::code`] of the failure that confirmed `down` (`None` if the check gave none).
    pub cause_code: Option<String>,
    /// The cause as a sentence (Better Stack's `cause`).
    pub cause: String,
    /// What the failed check saw: its status code and its one-line detail.
    pub response_status: Option<i64>,
    pub response_detail: String,
    /// The monitor's name and URL when the incident is read (Better Stack's `name`, `url`,
    /// `http_method`); `None` once the monitor is gone.
    pub monitor_name: Option<String>,
    pub monitor_url: Option<String>,
    pub http_method: Option<String>,
}

/// What opening an incident stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub monitor_id: i64,
    pub started_at: Timestamp,
    pub cause_code: Option<String>,
    pub cause: String,
    pub response_status: Option<i64>,
    pub response_detail: String,
}

/// Which incidents to list; unset matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    pub monitor_id: Option<i64>,
    /// Incidents still open at or after `from` (started before `to`).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub resolved: Option<bool>,
}

fn elapsed_secs(since: Timestamp, at: Timestamp) -> i64 {
    at.millis().saturating_sub(since.millis()) / 1000
}

/// The next state after `obs`, and the transition if the status moved.
pub fn evaluate(
    state: &MonitorState,
    policy: &Policy,
    obs: &Observation,
) -> (MonitorState, Option<Transition>) {
    if matches!(state.status, Status::Paused | Status::Maintenance) {
        return (state.clone(), None);
    }
    let mut next = state.clone();
    if obs.up {
        next.failing_since = None;
        let since = *next.succeeding_since.get_or_insert(obs.at);
        let to_up = |mut next: MonitorState| {
            next.status = Status::Up;
            if next.open_incident.take().is_some() {
                (next, Some(Transition::Recovered))
            } else {
                (next, Some(Transition::Up))
            }
        };
        match state.status {
            Status::Up => (next, None),
            Status::Pending => to_up(next),
            Status::Down | Status::Validating => {
                if elapsed_secs(since, obs.at) >= policy.recovery_period.max(0) {
                    to_up(next)
                } else if state.status == Status::Down {
                    next.status = Status::Validating;
                    (next, Some(Transition::Validating))
                } else {
                    (next, None)
                }
            }
            Status::Paused | Status::Maintenance => unreachable!("returned above"),
        }
    } else {
        next.succeeding_since = None;
        let since = *next.failing_since.get_or_insert(obs.at);
        let down = |mut next: MonitorState| {
            next.status = Status::Down;
            (
                next,
                Some(Transition::Down {
                    cause: obs.cause.clone(),
                }),
            )
        };
        match state.status {
            Status::Down => (next, None),
            // Back down in the same incident: no confirmation wait, it was never resolved.
            Status::Validating => down(next),
            Status::Pending | Status::Up => {
                if elapsed_secs(since, obs.at) >= policy.confirmation_period.max(0) {
                    down(next)
                } else {
                    (next, None)
                }
            }
            Status::Paused | Status::Maintenance => unreachable!("returned above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn at(secs: i64) -> Timestamp {
        Timestamp(T0 + secs * 1000)
    }

    fn ok(secs: i64) -> Observation {
        Observation {
            up: true,
            cause: None,
            at: at(secs),
        }
    }

    fn fail(secs: i64) -> Observation {
        Observation {
            up: false,
            cause: Some(Cause::Timeout),
            at: at(secs),
        }
    }

    fn state(status: Status, failing: Option<i64>, succeeding: Option<i64>) -> MonitorState {
        MonitorState {
            status,
            failing_since: failing.map(at),
            succeeding_since: succeeding.map(at),
            open_incident: None,
        }
    }

    fn with_incident(mut s: MonitorState) -> MonitorState {
        s.open_incident = Some(7);
        s
    }

    fn down() -> Option<Transition> {
        Some(Transition::Down {
            cause: Some(Cause::Timeout),
        })
    }

    /// (what, state before, policy, result, state after, transition)
    type Case = (
        &'static str,
        MonitorState,
        Policy,
        Observation,
        MonitorState,
        Option<Transition>,
    );

    #[test]
    fn every_path() {
        use Status::*;
        let p = |confirmation_period, recovery_period| Policy {
            confirmation_period,
            recovery_period,
        };
        let cases: Vec<Case> = vec![
            (
                "pending: first success is up",
                state(Pending, None, None),
                p(0, 0),
                ok(0),
                state(Up, None, Some(0)),
                Some(Transition::Up),
            ),
            (
                "pending: first failure, no confirmation period: down",
                state(Pending, None, None),
                p(0, 0),
                fail(0),
                state(Down, Some(0), None),
                down(),
            ),
            (
                "pending: first failure inside the confirmation period",
                state(Pending, None, None),
                p(60, 0),
                fail(0),
                state(Pending, Some(0), None),
                None,
            ),
            (
                "pending: failing long enough: down",
                state(Pending, Some(0), None),
                p(60, 0),
                fail(60),
                state(Down, Some(0), None),
                down(),
            ),
            (
                "pending: failures, then a success: up",
                state(Pending, Some(0), None),
                p(60, 0),
                ok(30),
                state(Up, None, Some(30)),
                Some(Transition::Up),
            ),
            (
                "up: success stays up",
                state(Up, None, Some(0)),
                p(0, 0),
                ok(30),
                state(Up, None, Some(0)),
                None,
            ),
            (
                "up: failure with no confirmation period: down",
                state(Up, None, Some(0)),
                p(0, 0),
                fail(30),
                state(Down, Some(30), None),
                down(),
            ),
            (
                "up: failure starts a streak",
                state(Up, None, Some(0)),
                p(120, 0),
                fail(30),
                state(Up, Some(30), None),
                None,
            ),
            (
                "up: streak shorter than the confirmation period",
                state(Up, Some(30), None),
                p(120, 0),
                fail(149),
                state(Up, Some(30), None),
                None,
            ),
            (
                "up: streak of exactly the confirmation period: down",
                state(Up, Some(30), None),
                p(120, 0),
                fail(150),
                state(Down, Some(30), None),
                down(),
            ),
            (
                "up: a success breaks the streak",
                state(Up, Some(30), None),
                p(120, 0),
                ok(60),
                state(Up, None, Some(60)),
                None,
            ),
            (
                "down: failure stays down",
                with_incident(state(Down, Some(0), None)),
                p(0, 0),
                fail(30),
                with_incident(state(Down, Some(0), None)),
                None,
            ),
            (
                "down: success with no recovery period: recovered",
                with_incident(state(Down, Some(0), None)),
                p(0, 0),
                ok(30),
                state(Up, None, Some(30)),
                Some(Transition::Recovered),
            ),
            (
                "down: success inside the recovery period: validating",
                with_incident(state(Down, Some(0), None)),
                p(0, 60),
                ok(30),
                with_incident(state(Validating, None, Some(30))),
                Some(Transition::Validating),
            ),
            (
                "validating: success inside the recovery period",
                with_incident(state(Validating, None, Some(30))),
                p(0, 60),
                ok(60),
                with_incident(state(Validating, None, Some(30))),
                None,
            ),
            (
                "validating: recovery period over: recovered",
                with_incident(state(Validating, None, Some(30))),
                p(0, 60),
                ok(90),
                state(Up, None, Some(30)),
                Some(Transition::Recovered),
            ),
            (
                "validating: failure is down again, same incident",
                with_incident(state(Validating, None, Some(30))),
                p(300, 60),
                fail(60),
                with_incident(state(Down, Some(60), None)),
                down(),
            ),
            (
                "pending with an incident left open (resumed): success recovers",
                with_incident(state(Pending, None, None)),
                p(0, 60),
                ok(0),
                state(Up, None, Some(0)),
                Some(Transition::Recovered),
            ),
            (
                "paused: results ignored",
                state(Paused, None, None),
                p(0, 0),
                fail(0),
                state(Paused, None, None),
                None,
            ),
            (
                "maintenance: results ignored",
                state(Maintenance, None, None),
                p(0, 0),
                ok(0),
                state(Maintenance, None, None),
                None,
            ),
        ];
        for (what, before, policy, obs, want_state, want_transition) in cases {
            let (got_state, got_transition) = evaluate(&before, &policy, &obs);
            assert_eq!(got_state, want_state, "{what}: state");
            assert_eq!(got_transition, want_transition, "{what}: transition");
        }
    }

    #[test]
    fn a_whole_incident_in_sequence() {
        let policy = Policy {
            confirmation_period: 60,
            recovery_period: 60,
        };
        let mut s = MonitorState::pending();
        let mut seen = Vec::new();
        let steps = [
            ok(0),
            fail(30),
            fail(60),
            fail(90),
            ok(120),
            fail(150),
            ok(180),
            ok(210),
            ok(240),
        ];
        for obs in steps {
            let (next, t) = evaluate(&s, &policy, &obs);
            s = next;
            if let Some(Transition::Down { .. }) = t
                && s.open_incident.is_none()
            {
                s.open_incident = Some(1); // what the service does
            }
            seen.push((s.status, t.map(|t| t.to())));
        }
        use Status::*;
        assert_eq!(
            seen,
            [
                (Up, Some(Up)),
                (Up, None),
                (Up, None),
                (Down, Some(Down)), // 60 s of failure
                (Validating, Some(Validating)),
                (Down, Some(Down)), // same incident
                (Validating, Some(Validating)),
                (Validating, None),
                (Up, Some(Up)), // 60 s of success
            ]
        );
        assert_eq!(s.open_incident, None);
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            "pending",
            "up",
            "validating",
            "down",
            "paused",
            "maintenance",
        ] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
        assert_eq!(Status::parse("sideways"), None);
    }
}
