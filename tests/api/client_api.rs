//! The client API server-side SDKs poll (`GET /api/client/features[/{name}]`), end to end:
//! its answers against what a real Unleash 8 answered for the same state, its strong ETag and
//! 304s (read-your-writes after an admin write), gzip, query filters and token scoping, the
//! `Unleash-Client-Spec` header, and agreement between replicas on one PostgreSQL database.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::golden::assert_shape;
use crate::helpers::{
    ADMIN, CLIENT_DEV, CLIENT_PROD, TestApp, TestDb, send, standard_args, wait_for,
};

const FEATURES: &str = "/api/client/features";

fn load(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/unleash-golden")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A raw answer: status, headers and the body's bytes, undecoded.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn etag(&self) -> String {
        self.headers
            .get(ETAG)
            .expect("an ETag header")
            .to_str()
            .unwrap()
            .to_string()
    }

    fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// `GET path` with `token` and extra headers. The test client does not decode gzip (reqwest is
/// built without its `gzip` feature), so what is read is what the server sent.
async fn get(app: &TestApp, path: &str, token: &str, headers: &[(&str, &str)]) -> Raw {
    let mut rb = app.request(Method::GET, path, Some(token));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("request sent");
    Raw {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.expect("body read"),
    }
}

/// `GET path` that must answer 200 with JSON; the body.
async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let raw = get(app, path, token, &[]).await;
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&raw.body)
    );
    raw.json()
}

/// The flag names in a `/api/client/features` body, sorted.
fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no features in {body}"))
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

async fn names_for(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    names(&get_ok(app, path, token).await)
}

/// The id of the newest event: the revision every replica's snapshot is at.
async fn highest_event_id(app: &TestApp) -> i64 {
    let (status, body) = app.admin(Method::GET, "/api/admin/events", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"][0]["id"].as_i64().expect("an event id")
}

/// `"<8 hex>:<revision>:v1"` → the revision.
fn etag_revision(etag: &str) -> i64 {
    let inner = etag
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or_else(|| panic!("a strong, quoted ETag: {etag}"));
    let parts: Vec<&str> = inner.split(':').collect();
    assert_eq!(parts.len(), 3, "{etag}");
    assert!(
        parts[0].len() == 8
            && parts[0]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "query hash of 8 lower-case hex digits: {etag}"
    );
    assert_eq!(parts[2], "v1", "{etag}");
    parts[1]
        .parse()
        .unwrap_or_else(|_| panic!("a numeric revision: {etag}"))
}

/// Sends a recorded admin request as recorded (its token and body, with the recorded segment
/// id swapped for ours) and checks it got the recorded status. Returns our answer.
async fn replay(app: &TestApp, file: &str, segment: Option<(i64, i64)>) -> Value {
    let recording = load(file);
    let request = &recording["request"];
    let method = Method::from_bytes(request["method"].as_str().unwrap().as_bytes()).unwrap();
    let path = request["path"].as_str().unwrap();
    let mut rb = app.request(
        method,
        path,
        request["headers"]["Authorization"].as_str().or(Some(ADMIN)),
    );
    if !request["body"].is_null() {
        let mut body = request["body"].clone();
        if let Some(pair) = segment {
            swap_segment_ids(&mut body, pair);
        }
        rb = rb.json(&body);
    }
    let (status, ours) = send(rb).await;
    assert_eq!(
        status.as_u16(),
        recording["status"].as_u64().unwrap() as u16,
        "{file}: {ours}"
    );
    ours
}

/// Replaces segment id `from` by `to` in every `segments` list of ids and every segment's `id`
/// in a top-level `segments` list.
fn swap_segment_ids(v: &mut Value, (from, to): (i64, i64)) {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "segments"
                    && let Value::Array(items) = value
                {
                    for item in items.iter_mut() {
                        if item.as_i64() == Some(from) {
                            *item = json!(to);
                        } else if item["id"].as_i64() == Some(from) {
                            item["id"] = json!(to);
                        }
                    }
                }
                swap_segment_ids(value, (from, to));
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| swap_segment_ids(i, (from, to))),
        _ => {}
    }
}

/// A constraint without the defaults one side writes out and the other leaves out
/// (`inverted: false`, `caseInsensitive: false`, `values: []`, `value: ""`).
fn without_defaults(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !(v == &&json!(false) || v == &&json!([]) || v == &&json!("")))
                .map(|(k, v)| (k.clone(), without_defaults(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_defaults).collect()),
        _ => v.clone(),
    }
}

/// One flag as Unleash sent it: same name, state, and per strategy exactly the same
/// parameters, constraints (defaults aside) and variants, in the same order; no strategy id,
/// title or sort order.
fn assert_same_flag(at: &str, golden: &Value, ours: &Value) {
    assert_eq!(golden["name"], ours["name"], "{at}");
    assert_eq!(golden["enabled"], ours["enabled"], "{at}: {ours}");
    assert_eq!(golden["variants"], ours["variants"], "{at}: flag variants");
    let (g, o) = (
        golden["strategies"].as_array().unwrap(),
        ours["strategies"].as_array().unwrap(),
    );
    assert_eq!(g.len(), o.len(), "{at}: strategies {ours}");
    for (i, (gs, os)) in g.iter().zip(o).enumerate() {
        let at = format!("{at}.strategies[{i}]");
        assert_eq!(gs["name"], os["name"], "{at}");
        assert_eq!(gs["parameters"], os["parameters"], "{at}: parameters");
        assert_eq!(
            without_defaults(&gs["constraints"]),
            without_defaults(&os["constraints"]),
            "{at}: constraints"
        );
        assert_eq!(gs["variants"], os["variants"], "{at}: variants");
        assert_eq!(gs.get("segments"), os.get("segments"), "{at}: segments");
        for key in ["id", "title", "sortOrder"] {
            assert!(os.get(key).is_none(), "{at}: has {key}: {os}");
        }
    }
}

/// A `/api/client/features` answer against a recording: status, shape, flags, `version`, `query`, segments, and an ETag that is `meta.etag` and names the
/// current revision.
async fn assert_features_as_recorded(
    app: &TestApp,
    file: &str,
    token: &str,
    spec: Option<&str>,
    segment: Option<(i64, i64)>,
) {
    let at = format!("{file} ({:?})", app.backend);
    let recording = load(file);
    let mut golden = recording["body"].clone();
    if let Some(pair) = segment {
        swap_segment_ids(&mut golden, pair);
    }
    let headers: Vec<(&str, &str)> = spec
        .map(|s| ("Unleash-Client-Spec", s))
        .into_iter()
        .collect();
    let raw = get(app, FEATURES, token, &headers).await;
    assert_eq!(raw.status, StatusCode::OK, "{at}");
    assert!(
        raw.header(CONTENT_TYPE)
            .is_some_and(|ct| ct.starts_with("application/json")),
        "{at}: {:?}",
        raw.headers
    );
    let ours = raw.json();
    // Flagwatch sends flags sorted by name, Unleash in creation order: same flags, and order
    // means nothing to an SDK. Compared in Unleash's order.
    let flags = |b: &Value| b["features"].as_array().unwrap().clone();
    let (g, o) = (flags(&golden), flags(&ours));
    assert_eq!(names(&golden), names(&ours), "{at}: flags");
    let reordered: Vec<Value> = g
        .iter()
        .map(|gf| {
            o.iter()
                .find(|of| of["name"] == gf["name"])
                .unwrap()
                .clone()
        })
        .collect();
    let mut in_their_order = ours.clone();
    in_their_order["features"] = Value::Array(reordered.clone());
    assert_shape(&at, &golden, &in_their_order);
    for (gf, of) in g.iter().zip(&reordered) {
        assert_same_flag(&format!("{at}: {}", gf["name"]), gf, of);
    }
    assert_eq!(ours["version"], 2, "{at}");
    assert_eq!(ours["query"], golden["query"], "{at}: query");
    assert_eq!(
        ours.get("segments").map(without_defaults),
        golden.get("segments").map(without_defaults),
        "{at}: top-level segments"
    );

    let etag = raw.etag();
    assert_eq!(ours["meta"]["etag"], etag, "{at}");
    assert_eq!(
        etag_revision(&etag),
        ours["meta"]["revisionId"].as_i64().unwrap(),
        "{at}"
    );
    assert_eq!(
        ours["meta"]["revisionId"].as_i64().unwrap(),
        highest_event_id(app).await,
        "{at}: meta.revisionId is the newest event's id"
    );
    assert!(
        etag.contains(ours["meta"]["queryHash"].as_str().unwrap()),
        "{at}"
    );
}

both_backends!(features_answer_as_unleash_did, |app| {
    for file in [
        "01-create-feature.json",
        "02-enable-development.json",
        "03-add-strategy-production.json",
        "05-disable-production-already-off.json",
        "06-enable-production.json",
        "07-disable-production.json",
    ] {
        replay(app, file, None).await;
    }
    assert_features_as_recorded(app, "15-client-features-dev.json", CLIENT_DEV, None, None).await;
    assert_features_as_recorded(app, "17-client-features-prod.json", CLIENT_PROD, None, None).await;

    let recording = load("18-client-feature-single.json");
    let ours = get_ok(app, "/api/client/features/new-checkout-flow", CLIENT_DEV).await;
    assert_shape("18", &recording["body"], &ours);
    assert_same_flag("18", &recording["body"], &ours);

    // 22–28 add a segment and a second flag with constraints, a segment and variants. 26 is
    // left out: Unleash 8 refused it (403), and flagwatch would accept it.
    let created = replay(app, "22-create-segment.json", None).await;
    let recorded_id = load("22-create-segment.json")["body"]["id"]
        .as_i64()
        .unwrap();
    let segment = Some((recorded_id, created["id"].as_i64().expect("segment id")));
    for file in [
        "23-create-feature-2.json",
        "24-add-constrained-strategy.json",
        "25-add-default-strategy.json",
        "27-enable-feature-2-dev.json",
    ] {
        replay(app, file, segment).await;
    }
    let recorded = [
        ("29-client-features-dev-nospec.json", None),
        ("30-client-features-dev-spec5.json", Some("5.0.0")),
        ("31-client-features-dev-spec4.json", Some("4.2.0")),
    ];
    for (file, spec) in recorded {
        assert_features_as_recorded(app, file, CLIENT_DEV, spec, segment).await;
    }

    // Inlined: the segment's constraints follow the strategy's own, and no segment ids.
    let inline = get_ok(app, FEATURES, CLIENT_DEV).await;
    assert!(inline.get("segments").is_none(), "{inline}");
    let banner = inline["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "checkout-banner")
        .unwrap();
    assert_eq!(
        banner["strategies"][0]["constraints"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert!(banner["strategies"][0].get("segments").is_none());
});

both_backends!(etag_gives_304_until_a_write_changes_the_answer, |app| {
    app.create_flag("first").await;
    let first = get(app, FEATURES, CLIENT_DEV, &[]).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.etag();
    assert_eq!(etag_revision(&etag), highest_event_id(app).await);

    let again = get(app, FEATURES, CLIENT_DEV, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty(), "{:?}", again.body);
    // Also with gzip asked for: still a 304 and nothing in it.
    let again = get(
        app,
        FEATURES,
        CLIENT_DEV,
        &[("If-None-Match", &etag), ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // The same request gets the same ETag; another query another one.
    assert_eq!(get(app, FEATURES, CLIENT_DEV, &[]).await.etag(), etag);
    let narrowed = get(app, &format!("{FEATURES}?namePrefix=x"), CLIENT_DEV, &[]).await;
    assert_eq!(narrowed.status, StatusCode::OK);
    assert_ne!(narrowed.etag(), etag);
    assert_eq!(etag_revision(&narrowed.etag()), etag_revision(&etag));
    let stale = get(
        app,
        &format!("{FEATURES}?namePrefix=x"),
        CLIENT_DEV,
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(
        stale.status,
        StatusCode::OK,
        "another query's ETag is no match"
    );
    let spec = get(
        app,
        FEATURES,
        CLIENT_DEV,
        &[("Unleash-Client-Spec", "4.2.0")],
    )
    .await;
    assert_ne!(spec.etag(), etag, "segments by id is another answer");

    // Right after an admin write (no waiting), the old ETag is stale.
    app.switch_in("default", "first", "development", true).await;
    let after = get(app, FEATURES, CLIENT_DEV, &[("If-None-Match", &etag)]).await;
    assert_eq!(after.status, StatusCode::OK);
    let new_etag = after.etag();
    assert_ne!(new_etag, etag);
    assert!(etag_revision(&new_etag) > etag_revision(&etag));
    assert_eq!(etag_revision(&new_etag), highest_event_id(app).await);
    assert_eq!(after.json()["meta"]["etag"], new_etag);
    assert_eq!(after.json()["features"][0]["enabled"], true);
    let current = get(app, FEATURES, CLIENT_DEV, &[("If-None-Match", &new_etag)]).await;
    assert_eq!(current.status, StatusCode::NOT_MODIFIED);
});

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

both_backends!(features_are_gzipped_when_asked, |app| {
    app.create_flag_from(
        "default",
        json!({"name": "zipped", "description": "a flag ".repeat(50)}),
    )
    .await;
    let plain = get(app, FEATURES, CLIENT_DEV, &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header(CONTENT_ENCODING), None);
    assert_eq!(plain.json()["features"][0]["name"], "zipped");

    for accept in ["gzip", "deflate, gzip;q=0.8, br"] {
        let zipped = get(
            app,
            FEATURES,
            CLIENT_DEV,
            &[(ACCEPT_ENCODING.as_str(), accept)],
        )
        .await;
        assert_eq!(zipped.status, StatusCode::OK, "{accept}");
        assert_eq!(zipped.header(CONTENT_ENCODING), Some("gzip"), "{accept}");
        assert!(
            zipped
                .header(reqwest::header::VARY)
                .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
            "{:?}",
            zipped.headers
        );
        assert_eq!(
            zipped.etag(),
            plain.etag(),
            "one ETag whatever the encoding"
        );
        assert_ne!(zipped.body, plain.body);
        assert_eq!(gunzip(&zipped.body), plain.body.to_vec(), "{accept}");
    }
    let refused = get(
        app,
        FEATURES,
        CLIENT_DEV,
        &[("Accept-Encoding", "gzip;q=0")],
    )
    .await;
    assert_eq!(refused.header(CONTENT_ENCODING), None);
    assert_eq!(refused.body, plain.body);

    // The single-flag route too.
    let path = "/api/client/features/zipped";
    let plain = get(app, path, CLIENT_DEV, &[]).await;
    assert_eq!(plain.header(CONTENT_ENCODING), None);
    let zipped = get(app, path, CLIENT_DEV, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(zipped.header(CONTENT_ENCODING), Some("gzip"));
    assert_eq!(gunzip(&zipped.body), plain.body.to_vec());
});

both_backends!(queries_filter_and_tokens_scope_the_flags, |app| {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects",
            Some(json!({"id": "other", "name": "Other"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let simple = |v: &str| json!([{"type": "simple", "value": v}]);
    app.create_flag_from(
        "default",
        json!({"name": "alpha-one", "tags": simple("xx")}),
    )
    .await;
    app.create_flag_from(
        "default",
        json!({"name": "alpha-two", "tags": simple("yy")}),
    )
    .await;
    app.create_flag("alphabet").await;
    app.create_flag_from(
        "default",
        json!({"name": "the-alpha-one", "tags": simple("zz")}),
    )
    .await;
    app.create_flag_from("default", json!({"name": "gone", "tags": simple("xx")}))
        .await;
    app.create_flag_from("other", json!({"name": "other-flag", "tags": simple("xx")}))
        .await;
    app.switch_in("default", "alpha-one", "development", true)
        .await;
    app.switch_in("other", "other-flag", "development", true)
        .await;
    let (status, body) = app
        .admin(
            Method::DELETE,
            "/api/admin/projects/default/features/gone",
            None,
        )
        .await;
    assert!(status.is_success(), "archive: {status} {body}");

    let default_flags = ["alpha-one", "alpha-two", "alphabet", "the-alpha-one"];

    // A token for project default: only default's live flags, whatever the query says.
    let all = get_ok(app, FEATURES, CLIENT_DEV).await;
    assert_eq!(names(&all), default_flags, "archived flags are absent");
    let enabled: Vec<(String, bool)> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["enabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(enabled.contains(&("alpha-one".into(), true)), "{enabled:?}");
    assert!(
        enabled.contains(&("alpha-two".into(), false)),
        "disabled flags are sent, off: {enabled:?}"
    );
    for path in [
        "?project=other",
        "?project=default&project=other",
        "?tag=simple:xx",
    ] {
        let got = names_for(app, &format!("{FEATURES}{path}"), CLIENT_DEV).await;
        assert!(!got.contains(&"other-flag".to_string()), "{path}: {got:?}");
    }
    assert_eq!(
        names_for(app, &format!("{FEATURES}?project=other"), CLIENT_DEV).await,
        default_flags,
        "the token's project, not the one asked for"
    );
    for name in ["other-flag", "gone", "nope"] {
        let raw = get(app, &format!("{FEATURES}/{name}"), CLIENT_DEV, &[]).await;
        assert_eq!(raw.status, StatusCode::NOT_FOUND, "{name}");
    }

    // Production: the same flags, in their production state.
    let prod = get_ok(app, FEATURES, CLIENT_PROD).await;
    assert_eq!(names(&prod), default_flags);
    assert!(
        prod["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["enabled"] == false),
        "{prod}"
    );
    assert_eq!(prod["query"]["environment"], "production");

    // A backend token for every project sees them all, and may narrow them.
    let (status, created) = app
        .admin(
            Method::POST,
            "/api/admin/api-tokens",
            Some(json!({"tokenName": "all-projects", "type": "backend", "environment": "development", "projects": ["*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let star = created["secret"].as_str().unwrap().to_string();
    assert!(star.starts_with("*:development."), "{star}");
    let with_other: Vec<&str> = [
        "alpha-one",
        "alpha-two",
        "alphabet",
        "other-flag",
        "the-alpha-one",
    ]
    .to_vec();
    let cases: &[(&str, &[&str])] = &[
        ("", &with_other),
        ("?project=other", &["other-flag"]),
        ("?project=default", &default_flags),
        ("?project=other&project=default", &with_other),
        ("?project=nope", &[]),
        ("?namePrefix=alpha", &["alpha-one", "alpha-two", "alphabet"]),
        ("?namePrefix=alpha-", &["alpha-one", "alpha-two"]),
        ("?namePrefix=ALPHA", &[]),
        ("?namePrefix=alpha&project=other", &[]),
        ("?tag=simple:xx", &["alpha-one", "other-flag"]),
        (
            "?tag=simple:xx&tag=simple:yy",
            &["alpha-one", "alpha-two", "other-flag"],
        ),
        ("?tag=simple:xx&project=default", &["alpha-one"]),
        ("?tag=simple:nothing", &[]),
        ("?tag=simple:yy&namePrefix=alpha-", &["alpha-two"]),
    ];
    for (query, expected) in cases {
        let got = names_for(app, &format!("{FEATURES}{query}"), &star).await;
        assert_eq!(got, *expected, "{query}");
    }
    let other = get_ok(app, &format!("{FEATURES}?project=other"), &star).await;
    assert_eq!(other["features"][0]["enabled"], true);
    assert_eq!(other["query"]["project"], json!(["other"]));
    let raw = get(app, &format!("{FEATURES}/other-flag"), &star, &[]).await;
    assert_eq!(raw.status, StatusCode::OK);
    // CLIENT_DEV's query names its project, even without ?project=.
    assert_eq!(all["query"]["project"], json!(["default"]));
});

both_backends!(client_spec_header_decides_how_segments_travel, |app| {
    let (status, segment) = app
        .admin(
            Method::POST,
            "/api/admin/segments",
            Some(json!({"name": "beta", "constraints": [{"contextName": "userId", "operator": "IN", "values": ["u1"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{segment}");
    let id = segment["id"].as_i64().unwrap();
    app.create_flag("segmented").await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features/segmented/environments/development/strategies",
            Some(json!({"name": "default", "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO"]}], "segments": [id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bad = get(
        app,
        FEATURES,
        CLIENT_DEV,
        &[("Unleash-Client-Spec", "banana")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let body = bad.json();
    assert_eq!(body["name"], "BadDataError", "{body}");
    assert!(body["message"].is_string(), "{body}");
    let bad = get(
        app,
        "/api/client/features/segmented",
        CLIENT_DEV,
        &[("Unleash-Client-Spec", "banana")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    for spec in [None, Some("4.1.9"), Some("3.0.0")] {
        let headers: Vec<(&str, &str)> = spec
            .map(|s| ("Unleash-Client-Spec", s))
            .into_iter()
            .collect();
        let raw = get(app, FEATURES, CLIENT_DEV, &headers).await;
        assert_eq!(raw.status, StatusCode::OK, "{spec:?}");
        let body = raw.json();
        assert!(body.get("segments").is_none(), "{spec:?}: {body}");
        assert_eq!(body["query"]["inlineSegmentConstraints"], true);
        let strategy = &body["features"][0]["strategies"][0];
        assert!(strategy.get("segments").is_none(), "{spec:?}: {strategy}");
        let contexts: Vec<&Value> = strategy["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["contextName"])
            .collect();
        assert_eq!(contexts, ["country", "userId"], "{spec:?}");
    }
    for spec in ["4.2.0", "5.0.0", "5.2.1"] {
        let raw = get(app, FEATURES, CLIENT_DEV, &[("Unleash-Client-Spec", spec)]).await;
        assert_eq!(raw.status, StatusCode::OK, "{spec}");
        let body = raw.json();
        assert_eq!(body["query"]["inlineSegmentConstraints"], false);
        let strategy = &body["features"][0]["strategies"][0];
        assert_eq!(strategy["segments"], json!([id]), "{spec}");
        assert_eq!(
            strategy["constraints"].as_array().unwrap().len(),
            1,
            "{spec}"
        );
        let segments = body["segments"].as_array().expect("top-level segments");
        assert_eq!(segments.len(), 1, "{spec}");
        assert_eq!(segments[0]["id"], id);
        assert_eq!(segments[0]["name"], "beta");
        assert_eq!(segments[0]["constraints"][0]["values"], json!(["u1"]));
    }
    let single = get(
        app,
        "/api/client/features/segmented",
        CLIENT_DEV,
        &[("Unleash-Client-Spec", "4.2.0")],
    )
    .await;
    assert_eq!(single.json()["strategies"][0]["segments"], json!([id]));
});

#[tokio::test]
async fn replicas_on_one_database_give_the_same_answers() {
    let Some(mut dbs) = TestDb::shared_postgres(2).await else {
        return;
    };
    let a = TestApp::spawn_on(dbs.remove(0), &standard_args()).await;
    let mut args = standard_args();
    args.extend(["--snapshot-refresh-ms".to_string(), "100".to_string()]);
    let b = TestApp::spawn_on(dbs.remove(0), &args).await;

    a.create_flag_from(
        "default",
        json!({"name": "shared", "tags": [{"type": "simple", "value": "xx"}]}),
    )
    .await;
    a.switch_in("default", "shared", "development", true).await;
    let queries = [
        (FEATURES, vec![]),
        ("/api/client/features?namePrefix=sh", vec![]),
        (
            "/api/client/features?tag=simple:xx",
            vec![("Unleash-Client-Spec", "4.2.0")],
        ),
    ];
    let revision = highest_event_id(&a).await;
    let replica = &b;
    wait_for("B to catch up", Duration::from_secs(5), || async move {
        etag_revision(&get(replica, FEATURES, CLIENT_DEV, &[]).await.etag()) == revision
    })
    .await;
    for (path, headers) in &queries {
        let (ra, rb) = (
            get(&a, path, CLIENT_DEV, headers).await,
            get(&b, path, CLIENT_DEV, headers).await,
        );
        assert_eq!(ra.status, StatusCode::OK);
        assert_eq!(ra.etag(), rb.etag(), "{path}");
        assert_eq!(ra.body, rb.body, "{path}");
        // Each replica honours the other's ETag.
        let cross = get(
            &b,
            path,
            CLIENT_DEV,
            &[headers.as_slice(), &[("If-None-Match", ra.etag().as_str())]].concat(),
        )
        .await;
        assert_eq!(cross.status, StatusCode::NOT_MODIFIED, "{path}");
    }

    // A write through A reaches B, with A's new ETag.
    let old = get(&a, FEATURES, CLIENT_DEV, &[]).await.etag();
    a.switch_in("default", "shared", "development", false).await;
    let new = get(&a, FEATURES, CLIENT_DEV, &[("If-None-Match", &old)]).await;
    assert_eq!(new.status, StatusCode::OK, "read-your-writes on A");
    let new_etag = new.etag();
    assert_ne!(new_etag, old);
    let (old_ref, new_ref) = (old.as_str(), new_etag.as_str());
    wait_for(
        "B to serve A's write",
        Duration::from_secs(5),
        || async move {
            let got = get(replica, FEATURES, CLIENT_DEV, &[("If-None-Match", old_ref)]).await;
            got.status == StatusCode::OK && got.etag() == new_ref
        },
    )
    .await;
    let on_b = get(&b, FEATURES, CLIENT_DEV, &[]).await;
    assert_eq!(on_b.body, new.body);
    assert_eq!(on_b.json()["features"][0]["enabled"], false);
    assert_eq!(
        get(&b, FEATURES, CLIENT_DEV, &[("If-None-Match", &new_etag)])
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );

    b.stop_keeping_db().await;
    a.stop().await;
}
