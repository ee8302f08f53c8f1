//! `tcp`: the port accepts a connection. The connection is closed at once; nothing is sent.

use std::time::Instant;

use tokio::net::TcpStream;

use super::{io_cause, resolve};
use crate::domain::probe::{Cause, ProbeResult};

pub(super) async fn check(host: &str, port: u16, started: Instant) -> ProbeResult {
    let addrs = match resolve(host, port).await {
        Ok(addrs) => addrs,
        Err(cause) => return ProbeResult::down(cause, started.elapsed(), "could not resolve"),
    };
    let mut last_error = None;
    // Like a browser: try every address the name has, stop at the first that accepts.
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(_stream) => {
                return ProbeResult::up(started.elapsed(), format!("connected to {addr}"));
            }
            Err(e) => last_error = Some((addr, e)),
        }
    }
    match last_error {
        Some((addr, e)) => {
            ProbeResult::down(io_cause(&e), started.elapsed(), format!("{addr}: {e}"))
        }
        None => ProbeResult::down(
            Cause::DnsError(format!("{host} has no addresses")),
            started.elapsed(),
            "nothing to connect to",
        ),
    }
}
