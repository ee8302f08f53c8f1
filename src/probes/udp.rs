//! `udp`: send the payload, wait for one datagram back, look for the keyword in it.
//!
//! The socket is connected, so an ICMP "port unreachable" from the target surfaces as
//! `ConnectionRefused` instead of silence. Silence ends at the check's timeout as `NoReply`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use tokio::net::UdpSocket;

use super::{io_cause, resolve};
use crate::domain::probe::{Cause, ProbeResult};

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

pub(super) async fn check(
    host: &str,
    port: u16,
    payload: &[u8],
    expect_keyword: Option<&str>,
    started: Instant,
) -> ProbeResult {
    let down = |cause, detail: String| ProbeResult::down(cause, started.elapsed(), detail);
    let addr = match resolve(host, port).await {
        Ok(addrs) => addrs[0],
        Err(cause) => return down(cause, "could not resolve".into()),
    };
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match UdpSocket::bind(local).await {
        Ok(socket) => socket,
        Err(e) => return down(io_cause(&e), format!("bind {local}: {e}")),
    };
    if let Err(e) = socket.connect(addr).await {
        return down(io_cause(&e), format!("connect {addr}: {e}"));
    }
    if let Err(e) = socket.send(payload).await {
        return down(io_cause(&e), format!("send to {addr}: {e}"));
    }
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let n = match socket.recv(&mut buf).await {
        Ok(n) => n,
        Err(e) => return down(io_cause(&e), format!("receive from {addr}: {e}")),
    };
    let reply = String::from_utf8_lossy(&buf[..n]);
    match expect_keyword {
        Some(word) if !reply.contains(word) => down(
            Cause::KeywordMissing,
            format!("{n}-byte reply from {addr} without {word:?}"),
        ),
        _ => ProbeResult::up(started.elapsed(), format!("{n}-byte reply from {addr}")),
    }
}
