"""What the suite seeds and asks: flags, the segment, the 1,000 user contexts, the SDK list.

seed.py creates exactly these through the admin API; model.py evaluates them; every driver is
handed the flag names and the contexts (cases.json) and answers for each pair.
"""

from __future__ import annotations

PROJECT = "default"
ENVIRONMENT = "development"
N_USERS = 1000

ADMIN_TOKEN = "*:*.sdkcompat-admin"
CLIENT_TOKEN = f"{PROJECT}:{ENVIRONMENT}.sdkcompat-client"
FRONTEND_TOKEN = f"{PROJECT}:{ENVIRONMENT}.sdkcompat-frontend"

# name -> (how to run it is in harness/main.py); order is the order they run in.
SDKS = ["python-polling", "python-streaming", "node-polling", "node-streaming", "node-delta",
        "rust", "browser", "ofrep"]

# The recorded Unleash evaluation covers this flag exactly (10 %, userId stickiness, groupId =
# flag name), see tests/fixtures/unleash-golden/sdk/.
RECORDED_FLAG = "new-checkout-flow"

SEGMENT = {
    "name": "sdkcompat-beta",
    "description": "pro plans outside the US",
    "project": None,
    "constraints": [
        {"contextName": "plan", "operator": "STR_STARTS_WITH", "values": ["PRO"],
         "caseInsensitive": True},
        {"contextName": "country", "operator": "NOT_IN", "values": ["US"]},
    ],
}


def _rollout(pct: int, group: str, stickiness: str = "userId", **extra) -> dict:
    s = {"name": "flexibleRollout",
         "parameters": {"rollout": str(pct), "stickiness": stickiness, "groupId": group}}
    s.update(extra)
    return s


# Each flag: name, strategies (admin API bodies), optional env variants (PUT body, weights as the
# server stores them), and whether it is switched on in the environment. "segments": ["@beta"] is
# replaced by the created segment's id.
FLAGS = [
    {"name": "sdkcompat-rollout-0", "strategies": [_rollout(0, "sdkcompat-rollout-0")]},
    {"name": RECORDED_FLAG, "strategies": [_rollout(10, RECORDED_FLAG)]},
    {"name": "sdkcompat-rollout-50", "strategies": [_rollout(50, "sdkcompat-rollout-50")]},
    {"name": "sdkcompat-rollout-100", "strategies": [_rollout(100, "sdkcompat-rollout-100")]},
    {"name": "sdkcompat-user-with-id",
     "strategies": [{"name": "userWithId",
                     "parameters": {"userIds": "user-1,user-42,user-500,user-999"}}]},
    {"name": "sdkcompat-constraints",
     "strategies": [_rollout(100, "sdkcompat-constraints", "default", constraints=[
         {"contextName": "country", "operator": "IN", "values": ["NO", "SE", "DK"]},
         {"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "1.2.0"},
         {"contextName": "age", "operator": "NUM_GT", "value": "17"},
         {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"],
          "caseInsensitive": True, "inverted": True},
     ])]},
    {"name": "sdkcompat-segment",
     "strategies": [_rollout(100, "sdkcompat-segment", "default", segments=["@beta"])]},
    {"name": "sdkcompat-variants",
     "strategies": [_rollout(50, "sdkcompat-variants", "userId", variants=[
         {"name": "blue", "weight": 250, "weightType": "variable", "stickiness": "default",
          "payload": {"type": "string", "value": "blue-banner"}},
         {"name": "red", "weight": 250, "weightType": "variable", "stickiness": "default",
          "payload": {"type": "json", "value": "{\"color\":\"red\"}"}},
         {"name": "green", "weight": 250, "weightType": "variable", "stickiness": "default",
          "payload": {"type": "number", "value": "42"}},
         {"name": "plain", "weight": 250, "weightType": "variable", "stickiness": "default"},
     ])]},
    {"name": "sdkcompat-flag-variants",
     "strategies": [{"name": "default"}],
     "variants": [
         {"name": "control-a", "weight": 400, "weightType": "variable", "stickiness": "default",
          "payload": {"type": "string", "value": "a"}},
         {"name": "control-b", "weight": 400, "weightType": "variable", "stickiness": "default",
          "payload": {"type": "csv", "value": "b,c"}},
         {"name": "treatment", "weight": 200, "weightType": "fix", "stickiness": "default",
          "payload": {"type": "number", "value": "7"},
          "overrides": [{"contextName": "userId", "values": ["user-3", "user-4"]}]},
     ]},
    {"name": "sdkcompat-disabled", "strategies": [_rollout(100, "sdkcompat-disabled")],
     "enabled": False},
]

# Asked of every SDK but never created: every SDK must say "off".
MISSING_FLAG = "sdkcompat-missing"

def metrics_flag(sdk: str) -> dict:
    """One per SDK, so the admin API's per-flag counts are that SDK's alone."""
    name = f"sdkcompat-metrics-{sdk}"
    return {"name": name, "strategies": [_rollout(100, name, "default", constraints=[
        {"contextName": "userId", "operator": "IN", "values": ["metrics-yes"]}])]}


# Each driver calls isEnabled(its metrics flag) exactly this often, and nothing else on that flag.
METRICS_CALLS = [{"userId": "metrics-yes", "n": 5}, {"userId": "metrics-no", "n": 2}]
METRICS_EXPECTED = {"yes": 5, "no": 2}


def toggle_flag(sdk: str) -> dict:
    return {"name": f"sdkcompat-toggle-{sdk}", "strategies": [{"name": "default"}]}


def all_seeded_flags() -> list[dict]:
    return FLAGS + [metrics_flag(s) for s in SDKS] + [toggle_flag(s) for s in SDKS]


def evaluated_flag_names() -> list[str]:
    return [f["name"] for f in FLAGS] + [MISSING_FLAG]


COUNTRIES = ["NO", "SE", "DK", "DE", "US"]
PLANS = ["free", "pro", "Pro-plus", "enterprise"]


def user_context(i: int) -> dict:
    email = f"User{i}@Example.COM" if i % 7 == 0 else f"user{i}@corp.org"
    return {
        "userId": f"user-{i}",
        "properties": {
            "country": COUNTRIES[i % 5],
            "plan": PLANS[i % 4],
            "appVersion": f"1.{i % 5}.{i % 3}",
            "age": str(5 + i % 60),
            "email": email,
        },
    }


def user_contexts() -> list[dict]:
    return [user_context(i) for i in range(N_USERS)]
