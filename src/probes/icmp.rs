//! `ping`: one ICMP echo with surge-ping.
//!
//! One surge-ping `Client` (one socket and its receive task) per address family, opened on
//! first use and shared by all checks. It asks for a raw socket (root or CAP_NET_RAW) and
//! surge-ping falls back to an unprivileged datagram "ping socket" (Linux, when the process's
//! group is inside `net.ipv4.ping_group_range`). When neither may be opened the check fails with
//! `IcmpNotPermitted`, a configuration problem to show on the monitor rather than a silent
//! "down"; opening is retried on the next check, so fixing the sysctl needs no restart.

use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};

use super::resolve;
use crate::domain::probe::{Cause, ProbeResult};

/// Echo payload size, as `ping` sends by default.
const PAYLOAD: [u8; 56] = [0; 56];

#[derive(Default)]
pub(super) struct Clients {
    v4: Mutex<Option<Client>>,
    v6: Mutex<Option<Client>>,
    /// Each check gets its own identifier (with raw sockets, replies are matched by it).
    next_ident: AtomicU16,
}

impl Clients {
    fn get(&self, ip: IpAddr) -> io::Result<Client> {
        let (slot, kind) = match ip {
            IpAddr::V4(_) => (&self.v4, ICMP::V4),
            IpAddr::V6(_) => (&self.v6, ICMP::V6),
        };
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let config = Config::builder()
            .kind(kind)
            .sock_type_hint(socket2::Type::RAW)
            .build();
        let client = Client::new(&config)?;
        *slot = Some(client.clone());
        Ok(client)
    }
}

pub(super) async fn check(
    clients: &Clients,
    host: &str,
    timeout: Duration,
    started: Instant,
) -> ProbeResult {
    let down = |cause, detail: String| ProbeResult::down(cause, started.elapsed(), detail);
    let ip = match resolve(host, 0).await {
        Ok(addrs) => addrs[0].ip(),
        Err(cause) => return down(cause, "could not resolve".into()),
    };
    let client = match clients.get(ip) {
        Ok(client) => client,
        Err(e) if is_not_permitted(&e) => {
            return down(
                Cause::IcmpNotPermitted,
                format!("opening an ICMP socket: {e}"),
            );
        }
        Err(e) => {
            return down(
                Cause::ProtocolError(e.to_string()),
                "opening an ICMP socket".into(),
            );
        }
    };
    let ident = PingIdentifier(clients.next_ident.fetch_add(1, Ordering::Relaxed));
    let mut pinger = client.pinger(ip, ident).await;
    pinger.timeout(timeout);
    match pinger.ping(PingSequence(0), &PAYLOAD).await {
        Ok((_packet, rtt)) => ProbeResult {
            response_time: rtt,
            ..ProbeResult::up(
                started.elapsed(),
                format!("echo reply from {ip} in {rtt:?}"),
            )
        },
        Err(SurgeError::Timeout { .. }) => down(Cause::NoReply, format!("no echo reply from {ip}")),
        Err(SurgeError::IOError(e)) if is_not_permitted(&e) => {
            down(Cause::IcmpNotPermitted, format!("sending to {ip}: {e}"))
        }
        Err(e) => down(Cause::ProtocolError(e.to_string()), format!("pinging {ip}")),
    }
}

fn is_not_permitted(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}
