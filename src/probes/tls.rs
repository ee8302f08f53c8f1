//! Certificate expiry. reqwest does not expose the peer certificate, so when a monitor asks for
//! `ssl_expiration` a second, separate TLS handshake reads the leaf certificate's `notAfter`.
//!
//! This handshake accepts any certificate on purpose: it only reads a date. Whether the chain is
//! trusted is decided by the HTTP request itself (`verify_ssl`), and a monitor with
//! `verify_ssl = false` on a self-signed certificate still wants its expiry watched.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    CryptoProvider, ring, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, SignatureScheme};

use super::{error_chain, io_cause};
use crate::domain::probe::Cause;

/// Seconds until the certificate `host:port` presents expires (negative once expired).
pub(super) async fn seconds_left(host: &str, port: u16) -> Result<i64, Cause> {
    let tls_error = |e: &dyn std::fmt::Display| Cause::TlsError(e.to_string());
    let provider = Arc::new(ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ReadExpiryOnly(provider)))
        .with_no_client_auth();
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| tls_error(&e))?;
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| io_cause(&e))?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| Cause::TlsError(error_chain(&e)))?;
    let (_, connection) = stream.get_ref();
    let leaf = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| Cause::TlsError("the server sent no certificate".into()))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| tls_error(&e))?;
    let not_after = cert.validity().not_after.timestamp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok(not_after - now)
}

/// Accepts any certificate, but still checks handshake signatures with the provider's
/// algorithms, so the handshake completes as a normal one would.
#[derive(Debug)]
struct ReadExpiryOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for ReadExpiryOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
