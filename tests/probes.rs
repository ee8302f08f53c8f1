//! Probe checks against real targets on loopback: HTTP (axum and raw sockets), TLS with a
//! self-signed certificate, TCP, UDP, DNS (a tiny responder built on hickory-proto) and ICMP.
//! Every test asserts the cause and that the check ended within its timeout.
#![allow(clippy::disallowed_methods)] // test servers are spawned bare; they die with the runtime
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use flagwatch::domain::probe::{
    BasicAuth, Cause, DnsRecordType, HttpExpectation, HttpMethod, HttpTarget, NameServer,
    ProbeResult, ProbeTarget,
};
use flagwatch::probes::{Prober, check};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use url::Url;

/// Slack on top of a check's timeout for scheduling and teardown.
const SLACK: Duration = Duration::from_millis(750);
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
const PORT_TIMEOUT: Duration = Duration::from_millis(1000);

/// Run one check and assert it ended within its timeout (wall clock and reported time).
async fn run(target: &ProbeTarget) -> ProbeResult {
    let started = Instant::now();
    let result = check(target).await;
    let wall = started.elapsed();
    let limit = target.timeout() + SLACK;
    assert!(
        wall <= limit,
        "check took {wall:?}, limit {limit:?}: {result:?}"
    );
    assert!(result.response_time <= limit, "{result:?}");
    assert_eq!(result.up, result.cause.is_none(), "{result:?}");
    result
}

fn assert_down(result: &ProbeResult, cause: &Cause) {
    assert!(!result.up, "expected down with {cause:?}: {result:?}");
    assert_eq!(result.cause.as_ref(), Some(cause), "{result:?}");
}

fn assert_down_with(result: &ProbeResult, code: &str) {
    assert!(!result.up, "expected down with {code}: {result:?}");
    assert_eq!(
        result.cause.as_ref().map(Cause::code),
        Some(code),
        "{result:?}"
    );
}

// ---------------------------------------------------------------- HTTP

async fn http_server() -> SocketAddr {
    let app = Router::new()
        .route("/ok", get(|| async { "all systems operational" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/redirect", get(|| async { Redirect::to("/ok") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/login",
            get(|| async {
                (
                    [(header::SET_COOKIE, "session=s3cret; Path=/")],
                    Redirect::to("/private"),
                )
            }),
        )
        .route(
            "/private",
            get(|headers: HeaderMap| async move {
                let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
                if cookie == Some("session=s3cret") {
                    (StatusCode::OK, "welcome")
                } else {
                    (StatusCode::UNAUTHORIZED, "who are you")
                }
            }),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: String| async move {
                // "Basic dTpw" is base64("u:p").
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                let custom = headers.get("x-probe").and_then(|v| v.to_str().ok());
                if auth != Some("Basic dTpw") || custom != Some("yes") {
                    return (StatusCode::FORBIDDEN, String::new()).into_response();
                }
                format!("echo: {body}").into_response()
            }),
        );
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A TCP server that answers every connection with `reply` and closes (or, with `None`,
/// accepts and never answers). Returns its address and a count of accepted connections.
async fn raw_server(reply: Option<&'static [u8]>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            match reply {
                Some(reply) => {
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf).await;
                    let _ = stream.write_all(reply).await;
                    let _ = stream.shutdown().await;
                }
                None => held.push(stream),
            }
        }
    });
    (addr, accepted)
}

/// A port nothing listens on: bind, note the port, drop.
async fn refused_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

fn http(url: &str, expect: HttpExpectation) -> HttpTarget {
    HttpTarget {
        url: Url::parse(url).unwrap(),
        method: HttpMethod::Get,
        headers: Vec::new(),
        body: None,
        basic_auth: None,
        follow_redirects: true,
        remember_cookies: false,
        verify_ssl: true,
        timeout: HTTP_TIMEOUT,
        expect,
        ssl_expiration_days: None,
    }
}

#[tokio::test]
async fn a_2xx_answer_is_up_with_its_status_code() {
    let addr = http_server().await;
    let result = run(&ProbeTarget::Http(http(
        &format!("http://{addr}/ok"),
        HttpExpectation::StatusOk,
    )))
    .await;
    assert!(result.up, "{result:?}");
    assert_eq!(result.status_code, Some(200));
}

#[tokio::test]
async fn a_500_is_down_with_the_status_code_unless_it_is_expected() {
    let addr = http_server().await;
    let url = format!("http://{addr}/fail");
    let result = run(&ProbeTarget::Http(http(&url, HttpExpectation::StatusOk))).await;
    assert_down(&result, &Cause::StatusCode(500));
    assert_eq!(result.status_code, Some(500));

    let result = run(&ProbeTarget::Http(http(
        &url,
        HttpExpectation::StatusIn(vec![200, 500]),
    )))
    .await;
    assert!(result.up, "{result:?}");
}

#[tokio::test]
async fn redirects_are_followed_only_when_asked() {
    let addr = http_server().await;
    let mut target = http(
        &format!("http://{addr}/redirect"),
        HttpExpectation::StatusOk,
    );
    let result = run(&ProbeTarget::Http(target.clone())).await;
    assert!(result.up, "{result:?}");
    assert_eq!(result.status_code, Some(200));

    target.follow_redirects = false;
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down(&result, &Cause::StatusCode(303));
}

#[tokio::test]
async fn a_slow_answer_times_out_within_the_request_timeout() {
    let addr = http_server().await;
    let mut target = http(&format!("http://{addr}/slow"), HttpExpectation::StatusOk);
    target.timeout = Duration::from_millis(500);
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down(&result, &Cause::Timeout);
    assert!(
        result.response_time >= Duration::from_millis(500),
        "{result:?}"
    );
}

#[tokio::test]
async fn keywords_are_looked_for_in_the_body() {
    let addr = http_server().await;
    let url = format!("http://{addr}/ok");
    let found = run(&ProbeTarget::Http(http(
        &url,
        HttpExpectation::Keyword("operational".into()),
    )))
    .await;
    assert!(found.up, "{found:?}");

    let missing = run(&ProbeTarget::Http(http(
        &url,
        HttpExpectation::Keyword("degraded".into()),
    )))
    .await;
    assert_down(&missing, &Cause::KeywordMissing);

    let present = run(&ProbeTarget::Http(http(
        &url,
        HttpExpectation::KeywordAbsent("operational".into()),
    )))
    .await;
    assert_down(&present, &Cause::KeywordPresent);

    let absent = run(&ProbeTarget::Http(http(
        &url,
        HttpExpectation::KeywordAbsent("degraded".into()),
    )))
    .await;
    assert!(absent.up, "{absent:?}");
}

#[tokio::test]
async fn method_headers_body_and_basic_auth_are_sent() {
    let addr = http_server().await;
    let mut target = http(
        &format!("http://{addr}/echo"),
        HttpExpectation::Keyword("echo: ping".into()),
    );
    target.method = HttpMethod::Post;
    target.headers = vec![("X-Probe".into(), "yes".into())];
    target.body = Some("ping".into());
    target.basic_auth = Some(BasicAuth {
        username: "u".into(),
        password: "p".into(),
    });
    let result = run(&ProbeTarget::Http(target.clone())).await;
    assert!(result.up, "{result:?}");

    target.basic_auth = None;
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down(&result, &Cause::StatusCode(403));
}

#[tokio::test]
async fn cookies_set_on_a_redirect_are_sent_on_when_remembered() {
    let addr = http_server().await;
    let mut target = http(&format!("http://{addr}/login"), HttpExpectation::StatusOk);
    let forgotten = run(&ProbeTarget::Http(target.clone())).await;
    assert_down(&forgotten, &Cause::StatusCode(401));

    target.remember_cookies = true;
    let remembered = run(&ProbeTarget::Http(target)).await;
    assert!(remembered.up, "{remembered:?}");
}

#[tokio::test]
async fn a_server_answering_garbage_is_a_protocol_error() {
    let (addr, _) = raw_server(Some(b"\x00\x01garbage, not HTTP at all\r\n\r\n")).await;
    let result = run(&ProbeTarget::Http(http(
        &format!("http://{addr}/"),
        HttpExpectation::StatusOk,
    )))
    .await;
    assert_down_with(&result, "protocol_error");
}

#[tokio::test]
async fn a_server_closing_mid_body_is_a_protocol_error_with_the_status() {
    let (addr, _) = raw_server(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly a few bytes",
    ))
    .await;
    let result = run(&ProbeTarget::Http(http(
        &format!("http://{addr}/"),
        HttpExpectation::StatusOk,
    )))
    .await;
    assert_down_with(&result, "protocol_error");
    assert_eq!(result.status_code, Some(200));
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out() {
    let (addr, _) = raw_server(None).await;
    let mut target = http(&format!("http://{addr}/"), HttpExpectation::StatusOk);
    target.timeout = Duration::from_millis(500);
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down(&result, &Cause::Timeout);
}

#[tokio::test]
async fn a_refused_http_connection_is_connection_refused() {
    let port = refused_port().await;
    let result = run(&ProbeTarget::Http(http(
        &format!("http://127.0.0.1:{port}/"),
        HttpExpectation::StatusOk,
    )))
    .await;
    assert_down(&result, &Cause::ConnectionRefused);
}

#[tokio::test]
async fn one_prober_reuses_keep_alive_connections() {
    // Arrange: a keep-alive HTTP server that records the client port of every request.
    let peers = Arc::new(Mutex::new(HashSet::new()));
    let seen = peers.clone();
    let app = Router::new().route(
        "/ok",
        get(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                seen.lock().unwrap().insert(peer);
                "ok"
            },
        ),
    );
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let prober = Prober::new();
    let target = ProbeTarget::Http(http(
        &format!("http://{addr}/ok"),
        HttpExpectation::StatusOk,
    ));

    // Act
    for _ in 0..3 {
        assert!(prober.check(&target).await.up);
    }

    // Assert
    assert_eq!(
        peers.lock().unwrap().len(),
        1,
        "all three checks used one connection"
    );
}

// ---------------------------------------------------------------- TLS

/// An HTTPS server with a self-signed certificate for `localhost` valid for `days` more days.
async fn tls_server(days: i64) -> SocketAddr {
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    // Half a day short, so the whole days left are `days - 1` with no edge at midnight.
    params.not_after = now + time::Duration::days(days) - time::Duration::hours(12);
    let cert = params.self_signed(&key).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_certificate_expiring_within_the_warning_window_is_down() {
    let addr = tls_server(5).await;
    let mut target = http(
        &format!("https://localhost:{}/", addr.port()),
        HttpExpectation::StatusOk,
    );
    target.verify_ssl = false;
    target.ssl_expiration_days = Some(7);
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down(&result, &Cause::TlsExpiringSoon(4));
    assert_eq!(result.tls_days_left, Some(4));
    assert_eq!(result.status_code, Some(200));
}

#[tokio::test]
async fn a_certificate_outside_the_warning_window_is_up_with_its_days_left() {
    let addr = tls_server(5).await;
    let mut target = http(
        &format!("https://localhost:{}/", addr.port()),
        HttpExpectation::StatusOk,
    );
    target.verify_ssl = false;
    target.ssl_expiration_days = Some(3);
    let result = run(&ProbeTarget::Http(target)).await;
    assert!(result.up, "{result:?}");
    assert_eq!(result.tls_days_left, Some(4));
}

#[tokio::test]
async fn a_self_signed_certificate_fails_when_verified() {
    let addr = tls_server(30).await;
    let target = http(
        &format!("https://localhost:{}/", addr.port()),
        HttpExpectation::StatusOk,
    );
    let result = run(&ProbeTarget::Http(target)).await;
    assert_down_with(&result, "tls_error");
}

// ---------------------------------------------------------------- TCP

#[tokio::test]
async fn a_listening_tcp_port_is_up_and_a_closed_one_refused() {
    let (addr, accepted) = raw_server(None).await;
    let open = ProbeTarget::Tcp {
        host: "127.0.0.1".into(),
        port: addr.port(),
        timeout: PORT_TIMEOUT,
    };
    let result = run(&open).await;
    assert!(result.up, "{result:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    let closed = ProbeTarget::Tcp {
        host: "localhost".into(),
        port: refused_port().await,
        timeout: PORT_TIMEOUT,
    };
    assert_down(&run(&closed).await, &Cause::ConnectionRefused);
}

// ---------------------------------------------------------------- UDP

/// A UDP server that echoes what it gets, prefixed with "pong: ".
async fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let reply = [b"pong: ", &buf[..n]].concat();
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

fn udp(port: u16, keyword: Option<&str>) -> ProbeTarget {
    ProbeTarget::Udp {
        host: "127.0.0.1".into(),
        port,
        payload: b"ping".to_vec(),
        expect_keyword: keyword.map(str::to_owned),
        timeout: PORT_TIMEOUT,
    }
}

#[tokio::test]
async fn a_udp_reply_with_the_keyword_is_up() {
    let addr = udp_echo().await;
    let result = run(&udp(addr.port(), Some("pong: ping"))).await;
    assert!(result.up, "{result:?}");
}

#[tokio::test]
async fn a_udp_reply_without_the_keyword_is_keyword_missing() {
    let addr = udp_echo().await;
    assert_down(
        &run(&udp(addr.port(), Some("hello"))).await,
        &Cause::KeywordMissing,
    );
}

#[tokio::test]
async fn a_silent_udp_port_is_no_reply_and_a_closed_one_refused() {
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = silent.local_addr().unwrap().port();
    assert_down(&run(&udp(port, Some("pong"))).await, &Cause::NoReply);

    drop(silent);
    assert_down(
        &run(&udp(port, Some("pong"))).await,
        &Cause::ConnectionRefused,
    );
}

// ---------------------------------------------------------------- DNS

/// A DNS responder: `up.test.` has A 10.0.0.7 and TXT "v=ok"; every other name is NXDOMAIN.
/// Returns its address and the number of queries it has answered.
async fn dns_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = queries.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.message_type = MessageType::Response;
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.queries = request.queries.clone();
            for query in &request.queries {
                let name = query.name().clone();
                if name.to_ascii() != "up.test." {
                    response.metadata.response_code = ResponseCode::NXDomain;
                    continue;
                }
                let data = match query.query_type() {
                    RecordType::A => RData::A(A::new(10, 0, 0, 7)),
                    RecordType::TXT => RData::TXT(TXT::new(vec!["v=ok".to_owned()])),
                    _ => continue,
                };
                response.answers.push(Record::from_rdata(name, 60, data));
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), from).await;
        }
    });
    (addr, queries)
}

fn dns(
    server: SocketAddr,
    domain: &str,
    record_type: DnsRecordType,
    expected: Option<&str>,
) -> ProbeTarget {
    ProbeTarget::Dns {
        nameserver: NameServer::parse(&server.to_string()).unwrap(),
        domain: domain.into(),
        record_type,
        expected: expected.map(str::to_owned),
        timeout: PORT_TIMEOUT,
    }
}

#[tokio::test]
async fn a_dns_answer_is_up_and_asked_again_every_check() {
    let (addr, queries) = dns_server().await;
    let target = dns(addr, "up.test", DnsRecordType::A, None);
    let prober = Prober::new();
    for _ in 0..2 {
        let result = prober.check(&target).await;
        assert!(result.up, "{result:?}");
        assert!(result.detail.contains("10.0.0.7"), "{result:?}");
        assert!(result.response_time <= PORT_TIMEOUT);
    }
    assert_eq!(
        queries.load(Ordering::SeqCst),
        2,
        "no cache: each check asks the server"
    );
}

#[tokio::test]
async fn a_dns_answer_is_compared_with_the_expected_value() {
    let (addr, _) = dns_server().await;
    assert!(
        run(&dns(addr, "up.test.", DnsRecordType::A, Some("10.0.0.7")))
            .await
            .up
    );
    assert!(
        run(&dns(addr, "up.test", DnsRecordType::Txt, Some("v=ok")))
            .await
            .up
    );
    let wrong = run(&dns(addr, "up.test", DnsRecordType::A, Some("10.0.0.8"))).await;
    assert_down(&wrong, &Cause::UnexpectedAnswer("10.0.0.7".into()));
}

#[tokio::test]
async fn an_unknown_dns_name_is_a_dns_error() {
    let (addr, _) = dns_server().await;
    let result = run(&dns(addr, "missing.test", DnsRecordType::A, None)).await;
    assert_down_with(&result, "dns_error");
}

#[tokio::test]
async fn a_dns_server_that_never_answers_times_out() {
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = silent.local_addr().unwrap();
    let result = run(&dns(addr, "up.test", DnsRecordType::A, None)).await;
    assert_down(&result, &Cause::Timeout);
    drop(silent);
}

// ---------------------------------------------------------------- ICMP

#[tokio::test]
async fn icmp_to_loopback_is_up_or_honestly_not_permitted() {
    let target = ProbeTarget::Icmp {
        host: "127.0.0.1".into(),
        timeout: PORT_TIMEOUT,
    };
    let result = run(&target).await;
    eprintln!("ICMP to 127.0.0.1 here: {result:?}");
    if !result.up {
        assert_down(&result, &Cause::IcmpNotPermitted);
        assert!(
            Cause::IcmpNotPermitted
                .to_string()
                .contains("ping_group_range")
        );
    }
}
