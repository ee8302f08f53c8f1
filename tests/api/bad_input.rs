//! Bad input: invalid names, rollouts, weights, operators, strategy names, malformed JSON,
//! wrong content types, oversized bodies, unknown things (404) and duplicates (409). Each is
//! answered with Unleash's error body `{name, message, details: [{message, path?}]}` saying
//! what is wrong, and leaves stored data as it was. No request produces a 5xx.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN, TestApp, send};

const FLAG: &str = "new-checkout-flow";
const FEATURES: &str = "/api/admin/projects/default/features";
const BAD_DATA: &str = "BadDataError";
const NOT_FOUND: &str = "NotFoundError";

fn flag(rest: &str) -> String {
    format!("{FEATURES}/{FLAG}{rest}")
}

fn strategies(env: &str) -> String {
    flag(&format!("/environments/{env}/strategies"))
}

fn json_req(app: &TestApp, method: Method, path: &str, body: &Value) -> RequestBuilder {
    app.request(method, path, Some(ADMIN)).json(body)
}

fn bare_req(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.request(method, path, Some(ADMIN))
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.admin(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// Everything stored that a rejected request could have touched.
async fn snapshot(app: &TestApp) -> Value {
    let features = get_ok(app, FEATURES).await;
    let events = get_ok(app, "/api/admin/events").await;
    let segments = get_ok(app, "/api/admin/segments").await;
    let tokens = get_ok(app, "/api/admin/api-tokens").await;
    let projects = get_ok(app, "/api/admin/projects").await;
    let environments = get_ok(app, "/api/admin/environments").await;
    let tag_types = get_ok(app, "/api/admin/tag-types").await;
    let archived = get_ok(app, "/api/admin/archive/features").await;
    json!({
        "features": features["features"],
        "totalEvents": events["totalEvents"],
        "latestEvent": events["events"][0],
        "segments": segments["segments"],
        "tokens": tokens["tokens"],
        "projects": projects["projects"],
        "environments": environments["environments"],
        "tagTypes": tag_types["tagTypes"],
        "archived": archived["features"],
    })
}

/// Sends `rb` and checks the answer is the error `status`/`name` whose first detail says
/// `says`, and that nothing stored changed. Returns the body for further checks.
async fn rejects(
    app: &TestApp,
    rb: RequestBuilder,
    status: StatusCode,
    name: &str,
    says: &str,
) -> Value {
    let before = snapshot(app).await;
    let (got, body) = send(rb).await;
    assert_eq!(got, status, "status; body: {body}");
    assert_eq!(body["name"], name, "error name; body: {body}");
    assert!(body["message"].is_string(), "message; body: {body}");
    let detail = body["details"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no details[0].message in {body}"));
    assert!(
        detail.contains(says),
        "details[0].message {detail:?} should contain {says:?}"
    );
    let after = snapshot(app).await;
    assert_eq!(
        before, after,
        "a rejected request ({status}) changed stored data; body: {body}"
    );
    body
}

/// A flag with a strategy (using a segment) in production; returns (strategy id, segment id).
async fn seed(app: &TestApp) -> (String, i64) {
    let (status, body) = app
        .admin(
            Method::POST,
            FEATURES,
            Some(json!({"name": FLAG, "description": "d", "type": "release"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, segment) = app
        .admin(
            Method::POST,
            "/api/admin/segments",
            Some(json!({"name": "beta-users", "constraints": [
                {"contextName": "userId", "operator": "IN", "values": ["u1", "u2"]}
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{segment}");
    let segment_id = segment["id"].as_i64().unwrap();
    let (status, strategy) = app
        .admin(
            Method::POST,
            &strategies("production"),
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "10"}, "segments": [segment_id]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{strategy}");
    (strategy["id"].as_str().unwrap().to_string(), segment_id)
}

both_backends!(
    feature_creation_rejects_bad_names_types_and_duplicates,
    |app| {
        seed(app).await;
        let create = |body: Value| json_req(app, Method::POST, FEATURES, &body);

        // Unleash's exact words (golden 40 and 41).
        let body = rejects(
            app,
            create(json!({"name": "bad name with spaces!", "type": "release"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "",
        )
        .await;
        assert_eq!(
            body["details"][0]["message"],
            "\"name\" must be URL friendly. You provided \"bad name with spaces!\"."
        );
        assert_eq!(
            body["message"],
            "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information."
        );
        let body = rejects(
            app,
            create(json!({"name": "", "type": "release"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "",
        )
        .await;
        assert_eq!(
            body["details"][0]["message"],
            "\"name\" is not allowed to be empty."
        );

        rejects(
            app,
            create(json!({"name": "a".repeat(101)})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "at most 100 characters",
        )
        .await;
        rejects(
            app,
            create(json!({"name": "ชื่อ"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "must be URL friendly",
        )
        .await;
        rejects(
            app,
            create(json!({"name": "a/b"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "must be URL friendly",
        )
        .await;
        // Golden 42; Unleash's text ends "instead.." where ours ends "instead.".
        let body = rejects(
        app,
        create(json!({"name": "type-test", "type": "nonsense"})),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The `type` property must be equal to one of the allowed values: \"experiment\", \"kill-switch\", \"release\", \"operational\", \"permission\", \"sunset\". You provided \"nonsense\", which is not valid.",
    )
    .await;
        assert_eq!(body["details"][0]["path"], "type");
        rejects(
            app,
            create(json!({"type": "release"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"name\" is required",
        )
        .await;
        let body = rejects(
            app,
            create(json!({"name": 42})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "expected a string",
        )
        .await;
        assert_eq!(body["details"][0]["path"], "name");

        // Golden 39.
        let body = rejects(
        app,
        create(json!({"name": FLAG, "description": "...", "type": "release", "impressionData": true})),
        StatusCode::CONFLICT,
        "NameExistsError",
        "A flag with that name already exists",
    )
    .await;
        assert_eq!(body["message"], "A flag with that name already exists");
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/projects/no-such-project/features",
                &json!({"name": "fine-name"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find project with id \"no-such-project\"",
        )
        .await;
        // The flag row is written before its tags are checked: all or nothing.
        rejects(
        app,
        create(json!({"name": "tagged-flag", "tags": [{"type": "no-such-tag-type", "value": "xx"}]})),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "no-such-tag-type",
    )
    .await;
        rejects(
            app,
            create(json!({"name": "tagged-flag", "tags": [{"type": "simple", "value": "x"}]})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "2 to 50 characters",
        )
        .await;

        // The same rules on the name check, which answers 200 for a free name.
        let validate = |name: Value| {
            json_req(
                app,
                Method::POST,
                "/api/admin/features/validate",
                &json!({ "name": name }),
            )
        };
        rejects(
            app,
            validate(json!("bad name")),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "URL friendly",
        )
        .await;
        rejects(
            app,
            validate(json!(FLAG)),
            StatusCode::CONFLICT,
            "NameExistsError",
            "already exists",
        )
        .await;
        let (status, _) = send(validate(json!("a".repeat(100)))).await;
        assert_eq!(status, StatusCode::OK, "100 characters is within the rule");

        // Golden 49.
        let body = rejects(
            app,
            bare_req(app, Method::GET, &format!("{FEATURES}/does-not-exist")),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"does-not-exist\" in project \"default\".",
        )
        .await;
        assert_eq!(
            body["message"],
            "There's no feature named \"does-not-exist\" in project \"default\"."
        );
        rejects(
            app,
            bare_req(
                app,
                Method::GET,
                "/api/admin/projects/no-such-project/features",
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "no-such-project",
        )
        .await;
        // The flag exists, but not in this project.
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                &format!("/api/admin/projects/other/features/{FLAG}"),
                &json!({"description": "moved?"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                &flag(""),
                &json!({"name": "renamed", "description": "x"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "cannot be renamed",
        )
        .await;

        // The boundary itself is fine.
        let (status, body) = app
            .admin(
                Method::POST,
                FEATURES,
                Some(json!({"name": "a".repeat(100)})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
);

both_backends!(
    strategies_reject_bad_rollouts_operators_and_unknown_targets,
    |app| {
        let (strategy_id, _) = seed(app).await;
        let add = |env: &str, body: Value| json_req(app, Method::POST, &strategies(env), &body);

        for bad in [
            json!("101"),
            json!("-1"),
            json!("abc"),
            json!(10.5),
            json!("10.5"),
            json!(-1),
            json!(""),
        ] {
            let body = rejects(
            app,
            add("development", json!({"name": "flexibleRollout", "parameters": {"rollout": bad, "stickiness": "default"}})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"rollout\" must be a whole number from 0 to 100",
        )
        .await;
            assert_eq!(body["details"][0]["path"], "parameters.rollout", "{bad}");
        }
        rejects(
            app,
            add(
                "development",
                json!({"name": "gradualRolloutRandom", "parameters": {"percentage": "200"}}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"percentage\" must be a whole number from 0 to 100",
        )
        .await;
        rejects(
            app,
            add(
                "development",
                json!({"name": "flexibleRollout", "parameters": {"rollout": {"value": 10}}}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "Parameter \"rollout\" must be a string or a number",
        )
        .await;
        rejects(
            app,
            add("development", json!({"name": "myCustomStrategy"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "Unknown strategy \"myCustomStrategy\"",
        )
        .await;

        // Golden 52, exactly.
        let body = rejects(
            app,
            add("development", json!({"parameters": {"rollout": "10"}})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "",
        )
        .await;
        assert_eq!(
            body["details"][0],
            json!({"path": "/body/name", "message": "The `/body/name` property is required. It was not present on the data you sent."})
        );

        // Golden 53 (Unleash's list lacks IN_CIDR, which flagwatch also accepts).
        let body = rejects(
        app,
        add("development", json!({"name": "default", "constraints": [{"contextName": "userId", "operator": "LIKE", "values": ["x"]}]})),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The `operator` property must be equal to one of the allowed values: \"NOT_IN\", \"IN\",",
    )
    .await;
        assert!(
            body["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("You provided \"LIKE\", which is not valid."),
            "{body}"
        );
        assert_eq!(body["details"][0]["path"], "constraints[0].operator");

        for (operator, value, says) in [
            (
                "NUM_GT",
                json!("abc"),
                "The NUM_GT operator needs a number; \"abc\" is not.",
            ),
            (
                "NUM_EQ",
                json!("1e400"),
                "The NUM_EQ operator needs a number",
            ),
            (
                "DATE_AFTER",
                json!("next tuesday"),
                "The DATE_AFTER operator needs an ISO 8601 date-time",
            ),
            (
                "DATE_BEFORE",
                json!("2024-13-45T00:00:00Z"),
                "The DATE_BEFORE operator needs an ISO 8601 date-time",
            ),
            (
                "SEMVER_EQ",
                json!("v1"),
                "The SEMVER_EQ operator needs a valid semantic version",
            ),
            (
                "SEMVER_GT",
                json!("1.2"),
                "The SEMVER_GT operator needs a valid semantic version",
            ),
            (
                "REGEX",
                json!("(unclosed"),
                "The REGEX operator needs a valid regular expression",
            ),
            (
                "NUM_LT",
                json!(null),
                "The NUM_LT operator compares against \"value\", which is missing.",
            ),
        ] {
            let body = rejects(
                app,
                add(
                    "development",
                    json!({"name": "default", "constraints": [
                        {"contextName": "userId", "operator": "IN", "values": ["ok"]},
                        {"contextName": "appVersion", "operator": operator, "value": value}
                    ]}),
                ),
                StatusCode::BAD_REQUEST,
                BAD_DATA,
                says,
            )
            .await;
            assert_eq!(
                body["details"][0]["path"], "constraints[1].value",
                "{operator}"
            );
        }
        rejects(
            app,
            add(
                "development",
                json!({"name": "default", "constraints": [{"operator": "IN", "values": ["x"]}]}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"contextName\" is required",
        )
        .await;
        rejects(
        app,
        add("development", json!({"name": "default", "constraints": [{"contextName": "userId", "operator": "IN", "values": [["nested"]]}]})),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"values\" must be a list of strings",
    )
    .await;
        rejects(
            app,
            add(
                "development",
                json!({"name": "default", "constraints": "userId IN x"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "expected a sequence",
        )
        .await;

        // Unknown places: environment, flag, project, strategy, segment.
        rejects(
            app,
            add("staging", json!({"name": "default"})),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find environment staging for feature: new-checkout-flow",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &format!("{FEATURES}/no-such-flag/environments/development/strategies"),
                &json!({"name": "default"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"no-such-flag\" in project \"default\".",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &format!(
                    "/api/admin/projects/nope/features/{FLAG}/environments/development/strategies"
                ),
                &json!({"name": "default"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"new-checkout-flow\" in project \"nope\".",
        )
        .await;
        let unknown = format!("{}/01JUNKNOWNSTRATEGY0000000000", strategies("production"));
        rejects(
            app,
            json_req(app, Method::PUT, &unknown, &json!({"name": "default"})),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find strategy with id 01JUNKNOWNSTRATEGY0000000000",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::DELETE, &unknown),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find strategy with id 01JUNKNOWNSTRATEGY0000000000",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::GET, &unknown),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find strategy with id",
        )
        .await;
        // A real strategy id, but of another environment.
        rejects(
            app,
            bare_req(
                app,
                Method::DELETE,
                &format!("{}/{strategy_id}", strategies("development")),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find strategy with id",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &format!("{}/set-sort-order", strategies("production")),
                &json!([{"id": "no-such-strategy", "sortOrder": 1}]),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find strategy with id no-such-strategy",
        )
        .await;
        rejects(
            app,
            add(
                "development",
                json!({"name": "default", "segments": [999_999]}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find segment with id 999999",
        )
        .await;
        rejects(
            app,
            add(
                "development",
                json!({"name": "default", "segments": ["beta-users"]}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "expected i64",
        )
        .await;

        // Updating a real strategy with bad input leaves it as it was.
        let existing = format!("{}/{strategy_id}", strategies("production"));
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                &existing,
                &json!({"name": "flexibleRollout", "parameters": {"rollout": "101"}}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"rollout\" must be a whole number from 0 to 100; \"101\" is not.",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                &existing,
                &json!({"name": "flexibleRollout", "segments": [424_242]}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find segment with id 424242",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::PATCH,
                &existing,
                &json!([{"op": "replace", "path": "/parameters/rollout", "value": "-5"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"rollout\" must be a whole number from 0 to 100",
        )
        .await;
        let body = get_ok(app, &existing).await;
        assert_eq!(body["parameters"]["rollout"], "10");
    }
);

both_backends!(variants_reject_bad_weights_and_payloads, |app| {
    seed(app).await;
    let path = flag("/environments/development/variants");
    let put = |body: Value| json_req(app, Method::PUT, &path, &body);

    rejects(
        app,
        put(json!([{"name": "a", "weight": 1001, "weightType": "fix"}, {"name": "b"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weight\" must be between 0 and 1000; 1001 is not.",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "weight": -1, "weightType": "fix"}, {"name": "b"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weight\" must be between 0 and 1000",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "weight": 600, "weightType": "fix"}, {"name": "b", "weight": 600, "weightType": "fix"}, {"name": "c"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The fixed variant weights add up to 1200, more than 1000.",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "weight": 500, "weightType": "fix"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "fixed weights must add up to 1000",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "weight": "heavy"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weight\" must be a whole number",
    )
    .await;
    let body = rejects(
        app,
        put(json!([{"name": "a", "weightType": "heavy"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weightType\" must be \"variable\" or \"fix\"; \"heavy\" is not.",
    )
    .await;
    assert_eq!(body["details"][0]["path"], "variants[0].weightType");
    rejects(
        app,
        put(json!([{"name": "a", "payload": {"type": "json", "value": "{not json"}}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The payload value is not valid json.",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "payload": {"type": "number", "value": "twelve"}}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The payload value is not valid number.",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "a", "payload": {"type": "xml", "value": "<a/>"}}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"xml\" is not",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": "same"}, {"name": "same"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "Variant names must be unique; \"same\" appears twice.",
    )
    .await;
    rejects(
        app,
        put(json!([{"name": ""}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "non-empty \"name\"",
    )
    .await;
    rejects(
        app,
        put(json!({"name": "not-a-list"})),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "expected a sequence",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::PUT,
            &flag("/environments/staging/variants"),
            &json!([{"name": "a"}]),
        ),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find environment staging for feature: new-checkout-flow",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::PATCH,
            &path,
            &json!([{"op": "add", "path": "/-", "value": {"name": "a", "weight": 2000, "weightType": "fix"}}]),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weight\" must be between 0 and 1000",
    )
    .await;
    // Strategy variants follow the same rules, and cannot have overrides.
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            &strategies("development"),
            &json!({"name": "default", "variants": [{"name": "a", "weight": 1001, "weightType": "fix"}]}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"weight\" must be between 0 and 1000",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            &strategies("development"),
            &json!({"name": "default", "variants": [{"name": "a", "overrides": [{"contextName": "userId", "values": ["1"]}]}]}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "Strategy variants cannot have overrides.",
    )
    .await;
});

both_backends!(segments_refuse_duplicates_and_deletion_while_used, |app| {
    let (_, segment_id) = seed(app).await;
    let segment = format!("/api/admin/segments/{segment_id}");

    let body = rejects(
        app,
        bare_req(app, Method::DELETE, &segment),
        StatusCode::CONFLICT,
        "ConflictError",
        "Segment \"beta-users\" is in use by strategies of these flags: new-checkout-flow.",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("in use"));
    let still = get_ok(app, &segment).await;
    assert_eq!(still["name"], "beta-users");

    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments",
            &json!({"name": "beta-users"}),
        ),
        StatusCode::CONFLICT,
        "NameExistsError",
        "There is already a segment named \"beta-users\"",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments/validate",
            &json!({"name": "beta-users"}),
        ),
        StatusCode::CONFLICT,
        "NameExistsError",
        "There is already a segment named \"beta-users\"",
    )
    .await;
    let (status, other) = app
        .admin(
            Method::POST,
            "/api/admin/segments",
            Some(json!({"name": "other"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    rejects(
        app,
        json_req(
            app,
            Method::PUT,
            &format!("/api/admin/segments/{}", other["id"]),
            &json!({"name": "beta-users"}),
        ),
        StatusCode::CONFLICT,
        "NameExistsError",
        "There is already a segment named \"beta-users\"",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments",
            &json!({"name": "  "}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"name\" is required and must not be empty.",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments",
            &json!({"name": "s".repeat(101)}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "at most 100 characters",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments",
            &json!({"name": "bad-ops", "constraints": [{"contextName": "x", "operator": "LIKE", "values": []}]}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "You provided \"LIKE\"",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::POST,
            "/api/admin/segments",
            &json!({"name": "elsewhere", "project": "no-such-project"}),
        ),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find project with id \"no-such-project\"",
    )
    .await;
    for id in ["999999", "abc", "-1", "99999999999999999999999"] {
        let path = format!("/api/admin/segments/{id}");
        let says = format!("Could not find segment with id {id}.");
        rejects(
            app,
            bare_req(app, Method::GET, &path),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            &says,
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::DELETE, &path),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            &says,
        )
        .await;
        rejects(
            app,
            json_req(app, Method::PUT, &path, &json!({"name": "x"})),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            &says,
        )
        .await;
    }
});

both_backends!(bodies_must_be_json_of_the_right_shape_and_size, |app| {
    seed(app).await;
    let post = || app.request(Method::POST, FEATURES, Some(ADMIN));

    // Golden 54, but with no stack trace or internals in the answer.
    let body = rejects(
        app,
        post()
            .header("Content-Type", "application/json")
            .body("{\"name\": \"x\","),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The request body is not valid JSON",
    )
    .await;
    let text = body.to_string();
    for leak in ["stack", "src/", ".rs", "panicked", "node_modules"] {
        assert!(!text.contains(leak), "the 400 leaks {leak:?}: {text}");
    }
    assert!(body.get("error").is_none(), "{body}");

    rejects(
        app,
        post().header("Content-Type", "application/json").body(""),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The request body is empty",
    )
    .await;
    rejects(
        app,
        post()
            .header("Content-Type", "application/json")
            .body("\"new-flag\""),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The request body does not have the expected shape",
    )
    .await;
    rejects(
        app,
        post()
            .header("Content-Type", "application/json")
            .body(vec![0xff, 0xfe, b'{', b'}']),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "not valid JSON",
    )
    .await;

    // A field of the wrong JSON type is named.
    let body = rejects(
        app,
        json_req(
            app,
            Method::POST,
            FEATURES,
            &json!({"name": "typed-flag", "impressionData": "yes"}),
        ),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "impressionData",
    )
    .await;
    assert_eq!(body["details"][0]["path"], "impressionData", "{body}");
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected a boolean"),
        "{body}"
    );

    // Golden 55, exactly.
    let body = rejects(
        app,
        post()
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("name=x"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "ContentTypeError",
        "",
    )
    .await;
    let expected = "We do not accept the content-type you provided (application/x-www-form-urlencoded). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.";
    assert_eq!(body["message"], expected);
    assert_eq!(body["details"], json!([{"message": expected}]));
    rejects(
        app,
        post()
            .header("Content-Type", "text/plain")
            .body("{\"name\": \"plain-flag\"}"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "ContentTypeError",
        "(text/plain)",
    )
    .await;
    rejects(
        app,
        post().body("{\"name\": \"untyped-flag\"}"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "ContentTypeError",
        "We do not accept the content-type you provided",
    )
    .await;
    rejects(
        app,
        post()
            .header("Content-Type", "application/jsonx")
            .body("{\"name\": \"jsonx-flag\"}"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "ContentTypeError",
        "(application/jsonx)",
    )
    .await;

    // 1 MiB is the default limit: one byte more is 413; exactly 1 MiB of valid JSON is fine.
    const LIMIT: usize = 1024 * 1024;
    let padded = |name: &str, len: usize| {
        let mut s = format!("{{\"name\": \"{name}\"}}");
        s.push_str(&" ".repeat(len - s.len()));
        s
    };
    rejects(
        app,
        post()
            .header("Content-Type", "application/json")
            .body(padded("too-big", LIMIT + 1)),
        StatusCode::PAYLOAD_TOO_LARGE,
        "ContentTooLargeError",
        "The request body is larger than the limit of 1048576 bytes.",
    )
    .await;
    rejects(
        app,
        json_req(
            app,
            Method::PUT,
            &flag("/environments/development/variants"),
            &json!([{"name": "big", "payload": {"type": "string", "value": "x".repeat(LIMIT)}}]),
        ),
        StatusCode::PAYLOAD_TOO_LARGE,
        "ContentTooLargeError",
        "larger than the limit",
    )
    .await;
    let (status, body) = send(
        post()
            .header("Content-Type", "application/json; charset=utf-8")
            .body(padded("just-fits", LIMIT)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a body of exactly the limit is accepted: {body}"
    );
    assert_eq!(body["name"], "just-fits");
    let (status, body) = send(
        post()
            .header("Content-Type", "application/vnd.api+json")
            .body("{\"name\": \"plus-json\"}"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
});

both_backends!(
    patches_that_are_invalid_or_make_the_flag_invalid_are_refused,
    |app| {
        let (strategy_id, _) = seed(app).await;
        let patch = |path: &str, ops: Value| json_req(app, Method::PATCH, path, &ops);
        let path = flag("");

        rejects(
            app,
            patch(
                &path,
                json!([{"op": "frobnicate", "path": "/description", "value": "x"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The body must be a JSON Patch (RFC 6902) array of operations",
        )
        .await;
        rejects(
            app,
            patch(&path, json!({"description": "not a patch"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "JSON Patch",
        )
        .await;
        rejects(
            app,
            patch(&path, json!([{"op": "replace", "value": "no path"}])),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "JSON Patch",
        )
        .await;
        rejects(
        app,
        patch(&path, json!([{"op": "test", "path": "/description", "value": "something else"}, {"op": "replace", "path": "/description", "value": "changed"}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "The patch cannot be applied",
    )
    .await;
        rejects(
            app,
            patch(&path, json!([{"op": "remove", "path": "/no/such/field"}])),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The patch cannot be applied",
        )
        .await;
        rejects(
            app,
            patch(
                &path,
                json!([{"op": "replace", "path": "/type", "value": "nonsense"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "You provided \"nonsense\"",
        )
        .await;
        rejects(
            app,
            patch(
                &path,
                json!([{"op": "replace", "path": "/impressionData", "value": "yes"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The patched document is not valid",
        )
        .await;
        rejects(
            app,
            patch(
                &path,
                json!([{"op": "replace", "path": "/name", "value": "renamed-flag"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "cannot be renamed",
        )
        .await;
        rejects(
            app,
            patch(&path, json!([{"op": "replace", "path": "", "value": 7}])),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The patched document is not valid",
        )
        .await;
        rejects(
            app,
            patch(
                &format!("{FEATURES}/no-such-flag"),
                json!([{"op": "replace", "path": "/description", "value": "x"}]),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"no-such-flag\"",
        )
        .await;
        // A strategy patched into breaking a rule is refused too.
        let strategy = format!("{}/{strategy_id}", strategies("production"));
        rejects(
            app,
            patch(
                &strategy,
                json!([{"op": "replace", "path": "/name", "value": "myCustomStrategy"}]),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "Unknown strategy \"myCustomStrategy\"",
        )
        .await;
        rejects(
        app,
        patch(&strategy, json!([{"op": "add", "path": "/constraints/-", "value": {"contextName": "x", "operator": "LIKE"}}])),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "You provided \"LIKE\"",
    )
    .await;
        let feature = get_ok(app, &path).await;
        assert_eq!(feature["description"], "d");
        assert_eq!(feature["type"], "release");
        assert_eq!(feature["impressionData"], false);
    }
);

both_backends!(switching_unknown_environments_and_flags_is_404, |app| {
    seed(app).await;
    for action in ["on", "off"] {
        // Golden 51, exactly.
        let body = rejects(
            app,
            bare_req(
                app,
                Method::POST,
                &flag(&format!("/environments/staging/{action}")),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "",
        )
        .await;
        assert_eq!(
            body,
            json!({"name": "NotFoundError", "message": "Could not find environment staging for feature: new-checkout-flow",
                   "details": [{"message": "Could not find environment staging for feature: new-checkout-flow"}]})
        );
        rejects(
            app,
            bare_req(
                app,
                Method::POST,
                &format!("{FEATURES}/no-such-flag/environments/development/{action}"),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"no-such-flag\" in project \"default\".",
        )
        .await;
    }
    rejects(
        app,
        bare_req(app, Method::GET, &flag("/environments/staging")),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find environment staging for feature: new-checkout-flow",
    )
    .await;
    rejects(
        app,
        bare_req(app, Method::GET, "/api/admin/environments/staging"),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find environment with name: staging",
    )
    .await;
    // Archived flags are gone from the live API.
    let (status, _) = app.admin(Method::DELETE, &flag(""), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    rejects(
        app,
        bare_req(app, Method::POST, &flag("/environments/development/on")),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "There's no feature named \"new-checkout-flow\"",
    )
    .await;
    rejects(
        app,
        bare_req(app, Method::DELETE, "/api/admin/archive/no-such-flag"),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find archived feature flag no-such-flag",
    )
    .await;
    rejects(
        app,
        bare_req(app, Method::POST, "/api/admin/archive/revive/no-such-flag"),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find archived feature flag no-such-flag",
    )
    .await;
});

both_backends!(
    tokens_events_tags_projects_and_routes_reject_bad_input,
    |app| {
        seed(app).await;
        let tokens = |body: Value| json_req(app, Method::POST, "/api/admin/api-tokens", &body);

        let body = rejects(
        app,
        tokens(json!({"tokenName": "t", "type": "superuser"})),
        StatusCode::BAD_REQUEST,
        BAD_DATA,
        "\"type\" must be one of \"client\", \"backend\", \"frontend\", \"admin\"; \"superuser\" is not.",
    )
    .await;
        assert_eq!(body["details"][0]["path"], "type");
        rejects(
            app,
            tokens(json!({"type": "admin"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"tokenName\" is required.",
        )
        .await;
        rejects(
            app,
            tokens(json!({"tokenName": "t", "type": "admin", "expiresAt": "2001-01-01T00:00:00Z"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"expiresAt\" must be in the future.",
        )
        .await;
        let body = rejects(
            app,
            tokens(json!({"tokenName": "t", "type": "admin", "expiresAt": "tomorrow"})),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "invalid date-time \"tomorrow\"",
        )
        .await;
        assert_eq!(body["details"][0]["path"], "expiresAt");
        rejects(
            app,
            tokens(json!({"tokenName": "t", "type": "client", "environment": "staging"})),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find environment staging.",
        )
        .await;
        rejects(
        app,
        tokens(json!({"tokenName": "t", "type": "client", "environment": "development", "projects": ["no-such-project"]})),
        StatusCode::NOT_FOUND,
        NOT_FOUND,
        "Could not find project with id \"no-such-project\"",
    )
    .await;
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                "/api/admin/api-tokens/no-such-token",
                &json!({"expiresAt": null}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find an API token with that id or secret.",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::DELETE, "/api/admin/api-tokens/no-such-token"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find an API token with that id or secret.",
        )
        .await;

        // Event search wants `IS:`/`IS_ANY_OF:` (golden 11) and a limit of at most 1000.
        let body = rejects(
            app,
            bare_req(
                app,
                Method::GET,
                "/api/admin/search/events?type=feature-environment-enabled",
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "",
        )
        .await;
        assert_eq!(
            body["details"][0],
            json!({"path": "/query/type", "message": "The `/query/type` property must match pattern \"^(IS|IS_ANY_OF):(.*?)(,([a-zA-Z0-9_]+))*$\". You sent \"feature-environment-enabled\"."})
        );
        let body = rejects(
            app,
            bare_req(app, Method::GET, "/api/admin/search/events?type="),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The `/query/type` property must match pattern",
        )
        .await;
        assert_eq!(body["details"][0]["path"], "/query/type");
        for (query, key, says) in [
            (
                "limit=5000",
                "limit",
                "\"limit\" must be a whole number from 0 to 1000; \"5000\" is not.",
            ),
            ("limit=-1", "limit", "\"limit\" must be a whole number"),
            ("offset=abc", "offset", "\"offset\" must be a whole number"),
            ("from=IS:yesterday", "from", "\"from\" must be IS:<date>"),
            ("to=2024-01-01", "to", "must match pattern"),
            ("feature=new-checkout-flow", "feature", "must match pattern"),
        ] {
            let body = rejects(
                app,
                bare_req(
                    app,
                    Method::GET,
                    &format!("/api/admin/search/events?{query}"),
                ),
                StatusCode::BAD_REQUEST,
                BAD_DATA,
                says,
            )
            .await;
            assert_eq!(
                body["details"][0]["path"],
                format!("/query/{key}"),
                "{query}"
            );
        }
        rejects(
            app,
            bare_req(app, Method::GET, &format!("{FEATURES}?tag=no-colon")),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "A tag filter looks like \"type:value\"",
        )
        .await;

        // Tags, tag types, projects, environments.
        let tag_path = format!("/api/admin/features/{FLAG}/tags");
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &tag_path,
                &json!({"type": "simple", "value": "x"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "A tag value must be 2 to 50 characters long.",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &tag_path,
                &json!({"type": "no-such-type", "value": "beta"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find tag type \"no-such-type\".",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/features/no-such-flag/tags",
                &json!({"type": "simple", "value": "beta"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find feature flag no-such-flag",
        )
        .await;
        let (status, _) = app
            .admin(
                Method::POST,
                &tag_path,
                Some(json!({"type": "simple", "value": "beta"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                &tag_path,
                &json!({"type": "simple", "value": "beta"}),
            ),
            StatusCode::CONFLICT,
            "FeatureHasTagError",
            "new-checkout-flow already has the tag simple:beta",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/tag-types",
                &json!({"name": "simple"}),
            ),
            StatusCode::CONFLICT,
            "NameExistsError",
            "There is already a tag type named \"simple\"",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/tag-types",
                &json!({"name": "with space"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "must be URL friendly",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/projects",
                &json!({"id": "default"}),
            ),
            StatusCode::CONFLICT,
            "NameExistsError",
            "A project with id \"default\" already exists",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/projects",
                &json!({"id": "no spaces please"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"id\" must be URL friendly",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::GET, "/api/admin/projects/no-such-project"),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "Could not find project with id \"no-such-project\".",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/environments",
                &json!({"name": "development", "type": "development"}),
            ),
            StatusCode::CONFLICT,
            "NameExistsError",
            "An environment named \"development\" already exists",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/environments",
                &json!({"name": "qa"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "\"type\" is required",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/projects/default/archive",
                &json!({"features": [FLAG, "no-such-flag"]}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There's no feature named \"no-such-flag\"",
        )
        .await;
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/projects/default/delete",
                &json!({"features": [FLAG]}),
            ),
            StatusCode::CONFLICT,
            "ConflictError",
            "The flag \"new-checkout-flow\" is not archived; archive it first.",
        )
        .await;

        // Unknown routes answer 404 in the same shape, with or without a token.
        for token in [Some(ADMIN), None] {
            let (status, body) =
                send(app.request(Method::GET, "/api/admin/no-such-route", token)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(
                body,
                json!({"name": "NotFoundError", "message": "There is no route /api/admin/no-such-route",
                   "details": [{"message": "There is no route /api/admin/no-such-route"}]})
            );
        }
        rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/featurez",
                &json!({"name": "x"}),
            ),
            StatusCode::NOT_FOUND,
            NOT_FOUND,
            "There is no route /api/admin/featurez",
        )
        .await;
        // A known path with a method it does not take.
        rejects(
            app,
            json_req(app, Method::PATCH, "/api/admin/projects", &json!([])),
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowedError",
            "PATCH is not allowed on /api/admin/projects",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::DELETE, FEATURES),
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowedError",
            "DELETE is not allowed on /api/admin/projects/default/features",
        )
        .await;
        // A path that is not UTF-8 once decoded names nothing.
        rejects(
            app,
            bare_req(app, Method::GET, &format!("{FEATURES}/%FF%FE")),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "The URL path is not valid UTF-8 once percent-decoded.",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::DELETE, "/api/admin/segments/%C3%28"),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "not valid UTF-8",
        )
        .await;
    }
);

both_backends!(
    extreme_numbers_and_nul_characters_are_not_server_errors,
    |app| {
        seed(app).await;
        // Sort orders at the edges of i64: the next strategy's position must not overflow.
        for order in [i64::MAX, i64::MIN] {
            let (status, body) = app
                .admin(
                    Method::POST,
                    &strategies("development"),
                    Some(json!({"name": "default", "sortOrder": order})),
                )
                .await;
            assert!(status.is_success(), "sortOrder {order}: {status} {body}");
            let (status, body) = app
                .admin(
                    Method::POST,
                    &strategies("development"),
                    Some(json!({"name": "default"})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::OK,
                "a strategy after sortOrder {order}: {body}"
            );
            let (status, body) = app
                .admin(Method::POST, &flag("/environments/development/on"), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        for order in [i64::MAX, i64::MIN] {
            let (status, body) = app
            .admin(
                Method::POST,
                "/api/admin/environments",
                Some(json!({"name": format!("edge{}", order.signum() + 1), "type": "test", "sortOrder": order})),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let (status, body) = app
                .admin(
                    Method::POST,
                    "/api/admin/environments",
                    Some(json!({"name": format!("after{}", order.signum() + 1), "type": "test"})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::CREATED,
                "an environment after sortOrder {order}: {body}"
            );
        }

        // PostgreSQL text cannot hold U+0000; it must be refused as bad input on both backends.
        let body = rejects(
            app,
            json_req(
                app,
                Method::POST,
                "/api/admin/segments",
                &json!({"name": "nul\u{0}segment"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "NUL",
        )
        .await;
        assert!(body["message"].is_string());
        rejects(
            app,
            json_req(
                app,
                Method::PUT,
                &flag(""),
                &json!({"description": "a\u{0}b"}),
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "NUL",
        )
        .await;
        rejects(
            app,
            bare_req(app, Method::GET, &format!("{FEATURES}/nul%00flag")),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "NUL",
        )
        .await;
        rejects(
            app,
            bare_req(
                app,
                Method::GET,
                "/api/admin/search/events?feature=IS:a%00b",
            ),
            StatusCode::BAD_REQUEST,
            BAD_DATA,
            "NUL",
        )
        .await;
        // A literal backslash-u text is not a NUL and is kept as written.
        let (status, body) = app
            .admin(
                Method::PUT,
                &flag(""),
                Some(json!({"description": "C:\\u0000 is text"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["description"], "C:\\u0000 is text");
    }
);

/// A tiny HTTP/1.1 client over a raw socket, so the sweep can send what reqwest would
/// normalise or refuse (`..` segments, raw bytes). Returns the status code and the whole
/// answer as text.
async fn raw_request(
    addr: std::net::SocketAddr,
    method: &str,
    target: &[u8],
    body: &[u8],
    content_type: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    head.extend_from_slice(method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(target);
    head.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {ADMIN}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    head.extend_from_slice(body);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The server may answer (and close) before reading a body it does not need.
        let _ = stream.write_all(&head).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        answer
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {}", String::from_utf8_lossy(target)));
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no status line for {method} {}: {text:?}",
                String::from_utf8_lossy(target)
            )
        });
    (status, text)
}

/// One garbage request.
struct Garbage {
    method: &'static str,
    target: Vec<u8>,
    body: Vec<u8>,
    content_type: &'static str,
}

/// Sends garbage, a batch at a time and several at once, and collects what was answered
/// wrongly: any 5xx, or a 4xx that is not in Unleash's error shape.
#[derive(Default)]
struct Sweep {
    batch: Vec<Garbage>,
    sent: usize,
    failures: Vec<String>,
}

impl Sweep {
    fn push(
        &mut self,
        method: &'static str,
        target: Vec<u8>,
        body: &[u8],
        content_type: &'static str,
    ) {
        self.batch.push(Garbage {
            method,
            target,
            body: body.to_vec(),
            content_type,
        });
    }

    async fn flush(&mut self, addr: std::net::SocketAddr) {
        const IN_FLIGHT: usize = 32;
        let mut pending = std::mem::take(&mut self.batch).into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < IN_FLIGHT {
                let Some(g) = pending.next() else { break };
                running.spawn(async move {
                    let answer =
                        raw_request(addr, g.method, &g.target, &g.body, g.content_type).await;
                    (g, answer)
                });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let (g, (status, answer)) = done.unwrap();
            self.check(&g, status, &answer);
        }
    }

    fn check(&mut self, g: &Garbage, status: u16, answer: &str) {
        self.sent += 1;
        let what = || {
            format!(
                "{status} {} {} body {:?}",
                g.method,
                String::from_utf8_lossy(&g.target[..g.target.len().min(120)]),
                String::from_utf8_lossy(&g.body[..g.body.len().min(60)])
            )
        };
        if status >= 500 {
            self.failures.push(format!("server error: {}", what()));
        }
        // Raw non-ASCII in the request line is refused by the HTTP parser itself, before
        // flagwatch sees the request; every other refusal is in Unleash's shape.
        let app_answered = g.target.is_ascii();
        let unleash_shaped = answer.contains("\"name\":\"") && answer.contains("\"details\":[");
        if (400..500).contains(&status) && app_answered && !unleash_shaped {
            self.failures
                .push(format!("not Unleash's error body: {} → {answer:?}", what()));
        }
    }
}

/// Every admin route, with the methods it answers.
const ROUTES: &[(&str, &[&str])] = &[
    ("/health", &["GET"]),
    ("/ready", &["GET"]),
    ("/api/admin/projects", &["GET", "POST"]),
    ("/api/admin/projects/{project}", &["GET"]),
    ("/api/admin/environments", &["GET", "POST"]),
    ("/api/admin/environments/{env}", &["GET"]),
    ("/api/admin/projects/{project}/features", &["GET", "POST"]),
    (
        "/api/admin/projects/{project}/features/{feature}",
        &["GET", "PUT", "PATCH"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}",
        &["GET"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/on",
        &["POST"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/off",
        &["POST"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies",
        &["GET", "POST"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies/set-sort-order",
        &["POST"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies/{strategy}",
        &["GET", "PUT", "PATCH"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/variants",
        &["GET", "PUT", "PATCH"],
    ),
    ("/api/admin/features/validate", &["POST"]),
    ("/api/admin/archive/features", &["GET"]),
    ("/api/admin/archive/features/{project}", &["GET"]),
    ("/api/admin/segments", &["GET", "POST"]),
    ("/api/admin/segments/validate", &["POST"]),
    ("/api/admin/segments/{segment}", &["GET", "PUT"]),
    ("/api/admin/tag-types", &["GET", "POST"]),
    ("/api/admin/tags", &["GET"]),
    (
        "/api/admin/features/{feature}/tags",
        &["GET", "POST", "PUT"],
    ),
    ("/api/admin/api-tokens", &["GET", "POST"]),
    ("/api/admin/api-tokens/{token}", &["PUT"]),
    ("/api/admin/events", &["GET"]),
    ("/api/admin/events/{feature}", &["GET"]),
    ("/api/admin/search/events", &["GET"]),
    ("/api/admin/client-metrics/features/{feature}", &["GET"]),
    ("/api/admin/client-metrics/features/{feature}/raw", &["GET"]),
    ("/api/admin/metrics/applications", &["GET"]),
    ("/api/admin/metrics/applications/{app}", &["GET"]),
    // Destructive ones last, so the sweep above still finds something to work on.
    (
        "/api/admin/features/{feature}/tags/{tag_type}/{value}",
        &["DELETE"],
    ),
    (
        "/api/admin/projects/{project}/features/{feature}/environments/{env}/strategies/{strategy}",
        &["DELETE"],
    ),
    ("/api/admin/segments/{segment}", &["DELETE"]),
    ("/api/admin/api-tokens/{token}", &["DELETE"]),
    ("/api/admin/projects/{project}/archive", &["POST"]),
    (
        "/api/admin/projects/{project}/features/{feature}",
        &["DELETE"],
    ),
    ("/api/admin/archive/revive/{feature}", &["POST"]),
    ("/api/admin/projects/{project}/revive", &["POST"]),
    ("/api/admin/projects/{project}/delete", &["POST"]),
    ("/api/admin/archive/{feature}", &["DELETE"]),
];

/// The template with each `{key}` replaced by its real value, except `garbage` (a key, or
/// `"*"` for all of them), which gets the garbage instead.
fn fill(template: &str, real: &[(&str, String)], garbage: Option<(&str, &str)>) -> Vec<u8> {
    let mut path = template.to_string();
    for (key, value) in real {
        let value = match garbage {
            Some((k, g)) if k == "*" || k == *key => g,
            _ => value.as_str(),
        };
        path = path.replace(&format!("{{{key}}}"), value);
    }
    path.into_bytes()
}

/// Deterministic pseudo-random bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

fn garbage_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = (1..=4).map(|seed| noise(seed, 16 << seed)).collect();
    let text = [
        r#"{"name": 1e400, "weight": 99999999999999999999999, "sortOrder": 1e308}"#.to_string(),
        r#"{"name": "x", "sortOrder": 9223372036854775807, "segments": [9223372036854775807, -9223372036854775808]}"#.to_string(),
        r#"{"name": "flexibleRollout", "parameters": {"rollout": "1e400", "groupId": null}, "constraints": [{"contextName": "\u0000", "operator": "REGEX", "value": "(?P<"}], "segments": [-1]}"#.to_string(),
        r#"{"name": "ชื่อ 🚀", "description": "\ud800", "id": "\u0000", "tokenName": "\u0000", "type": "\u0000", "project": "\u0000"}"#.to_string(),
        r#"{"name": "nul\u0000", "description": "\u0000", "features": ["\u0000", "..", ""], "expiresAt": "99999-01-01"}"#.to_string(),
        r#"[{"op": "replace", "path": "", "value": null}, {"op": "move", "from": "/a", "path": "/a/b"}]"#.to_string(),
        r#"[{"op": "add", "path": "/constraints/-", "value": {"contextName": "x", "operator": "NUM_GT", "value": "NaN"}}]"#.to_string(),
        r#"[{"id": "x", "sortOrder": -9223372036854775808}, {"id": "", "sortOrder": 1e999}]"#.to_string(),
        r#"[{"name": "a", "weight": 9223372036854775807, "weightType": "fix"}, {"name": "b", "weight": 9223372036854775807, "weightType": "fix"}]"#.to_string(),
        r#"{"addedTags": [{"type": "simple", "value": "\u0000\u0000"}], "removedTags": [{"type": "..", "value": ".."}]}"#.to_string(),
        r#"{"expiresAt": "1970-01-01T00:00:00Z"}"#.to_string(),
        r#"{"expiresAt": "+999999-12-31T23:59:59Z"}"#.to_string(),
        "null".to_string(),
        "[]".to_string(),
        "\"\"".to_string(),
        "{}".to_string(),
        "-0".to_string(),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)),
        format!("{{\"name\": \"{}\", \"description\": \"{}\"}}", "n".repeat(100_000), "é".repeat(100_000)),
    ];
    bodies.extend(text.into_iter().map(String::into_bytes));
    bodies
}

both_backends!(
    garbage_sent_to_every_admin_route_is_never_a_server_error,
    |app| {
        let (strategy_id, segment_id) = seed(app).await;
        let (status, token) = app
            .admin(
                Method::POST,
                "/api/admin/api-tokens",
                Some(json!({"tokenName": "sweep", "type": "client", "environment": "development"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let real: Vec<(&str, String)> = vec![
            ("project", "default".into()),
            ("feature", FLAG.into()),
            ("env", "production".into()),
            ("strategy", strategy_id),
            ("segment", segment_id.to_string()),
            ("token", token["tokenId"].as_str().unwrap().to_string()),
            ("tag_type", "simple".into()),
            ("value", "beta".into()),
            ("app", "sweep-app".into()),
        ];
        let long = "a".repeat(5000);
        let path_garbage = [
            "%00",
            "..",
            ".",
            "%2F",
            "%2e%2E%2f",
            "%",
            "%FF%FE",
            "%F0%9F%9A%80",
            "\u{0e0a}\u{0e37}\u{0e48}\u{0e2d}",
            "-1",
            "99999999999999999999999",
            "'%20or%201=1",
            long.as_str(),
        ];
        let query_garbage = [
            "?type=%00&namePrefix=%00",
            "?type=IS:..&feature=IS:&limit=99999999999999999999&offset=-5&from=IS:%FF&to=IS:&namePrefix=%25_&tag=%FF:%FE&project=..",
            "?type=IS_ANY_OF:,,,&feature=IS_ANY_OF:a,%FF&limit=0&offset=99999999999999999999&from=IS:9999-12-31&to=IS:9999-12-31",
            "?hoursBack=99999999999999999999&appName=%FF&environment=IS:&createdBy=IS:%27&tag=a:b:c&namePrefix=",
            "?%FF=%FE&&&=&limit=&offset=&from=&to=",
        ];
        let bodies = garbage_bodies();
        let mut sweep = Sweep::default();

        // Garbage queries on the real paths.
        for (template, _) in ROUTES {
            for query in query_garbage {
                let mut target = fill(template, &real, None);
                target.extend_from_slice(query.as_bytes());
                sweep.push("GET", target, b"", "text/plain");
            }
        }
        sweep.flush(app.addr).await;
        // Garbage in one path parameter at a time (the others real, so the request gets as
        // far as it can) and in all at once; every method, a small but bad body.
        for (template, _) in ROUTES {
            let keys: Vec<&str> = real
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| template.contains(&format!("{{{k}}}")))
                .chain(["*"])
                .collect();
            if keys.len() == 1 {
                continue;
            }
            for key in keys {
                for garbage in &path_garbage {
                    let target = fill(template, &real, Some((key, garbage)));
                    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                        sweep.push(
                            method,
                            target.clone(),
                            b"{\"name\": \"..\"}",
                            "application/json",
                        );
                    }
                }
            }
            sweep.flush(app.addr).await;
        }
        // Garbage bodies on the real paths, route by route (the destructive ones come last).
        for (template, methods) in ROUTES {
            let target = fill(template, &real, None);
            for method in *methods {
                for body in &bodies {
                    sweep.push(method, target.clone(), body, "application/json");
                }
                sweep.flush(app.addr).await;
            }
        }
        assert!(
            sweep.failures.is_empty(),
            "{} of {} garbage requests were answered wrongly:\n{}",
            sweep.failures.len(),
            sweep.sent,
            sweep.failures.join("\n")
        );
        // And the server is still whole.
        let (status, body) = send(app.request(Method::GET, "/health", None)).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"health": "GOOD"})));
        get_ok(app, FEATURES).await;
        get_ok(app, "/api/admin/events").await;
    }
);
