//! The commands from the Unleash tutorial our users follow, run verbatim.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;

both_backends!(tutorial_commands_work_verbatim, |app| {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features",
            Some(json!({"name": "new-checkout-flow", "description": "ระบบชำระเงินแบบใหม่ที่ปรับปรุง UX", "type": "release", "impressionData": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["description"], "ระบบชำระเงินแบบใหม่ที่ปรับปรุง UX");

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features/new-checkout-flow/environments/development/on",
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::Value::Null));

    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/projects/default/features/new-checkout-flow/environments/production/strategies",
            Some(json!({"name": "flexibleRollout", "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "new-checkout-flow"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["parameters"]["rollout"], "10");

    let (status, body) = app
        .admin(
            Method::GET,
            "/api/admin/projects/default/features/new-checkout-flow",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let envs = body["environments"].as_array().unwrap();
    let dev = envs.iter().find(|e| e["name"] == "development").unwrap();
    assert_eq!(dev["enabled"], true);
    assert_eq!(
        dev["strategies"][0]["parameters"]["rollout"], "100",
        "switching on added the default strategy"
    );
    let prod = envs.iter().find(|e| e["name"] == "production").unwrap();
    assert_eq!(prod["enabled"], false);
    assert_eq!(prod["strategies"][0]["parameters"]["rollout"], "10");
});
