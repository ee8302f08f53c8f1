#!/usr/bin/env python3
"""Seed a flagwatch server with the sdk-compat flags, through the admin API (stdlib only).

    python3 sdk-compat/seed.py http://127.0.0.1:4242 '*:*.sdkcompat-admin'

Creates the segment, every flag of harness/fixtures.py with its strategies and variants in the
`development` environment, and switches them on (except the ones meant to stay off). Fails loudly
on any unexpected answer, and if the server stored variant weights other than the fixtures say.
"""

from __future__ import annotations

import copy
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness"))

import fixtures  # noqa: E402
from web import call  # noqa: E402


class SeedError(Exception):
    pass


def _expect(res, statuses, what):
    if res.status not in statuses:
        raise SeedError(f"{what}: HTTP {res.status} {res.text()}")
    return res


def seed(base_url: str, admin_token: str = fixtures.ADMIN_TOKEN) -> dict:
    """Seed everything; return {"segments": {id: constraints}, "flags": [resolved fixtures]}."""
    api = base_url.rstrip("/") + "/api/admin"
    p, env = fixtures.PROJECT, fixtures.ENVIRONMENT

    seg = _expect(call("POST", f"{api}/segments", admin_token, fixtures.SEGMENT),
                  (200, 201), "create segment").json()
    seg_id = seg["id"]
    segments = {seg_id: fixtures.SEGMENT["constraints"]}

    resolved = []
    for flag in fixtures.all_seeded_flags():
        flag = copy.deepcopy(flag)
        name = flag["name"]
        _expect(call("POST", f"{api}/projects/{p}/features", admin_token,
                     {"name": name, "type": "release", "description": "sdk-compat"}),
                (200, 201), f"create flag {name}")
        fpath = f"{api}/projects/{p}/features/{name}/environments/{env}"
        for s in flag["strategies"]:
            s["segments"] = [seg_id if x == "@beta" else x for x in s.get("segments", [])]
            stored = _expect(call("POST", f"{fpath}/strategies", admin_token, s),
                             (200, 201), f"add strategy to {name}").json()
            _check_weights(name, s.get("variants") or [], stored.get("variants") or [])
        if flag.get("variants"):
            stored = _expect(call("PUT", f"{fpath}/variants", admin_token, flag["variants"]),
                             (200,), f"put variants of {name}").json()
            _check_weights(name, flag["variants"], stored.get("variants") or [])
        if flag.get("enabled", True):
            _expect(call("POST", f"{fpath}/on", admin_token), (200, 202, 204), f"switch on {name}")
        resolved.append(flag)
    return {"segments": segments, "flags": resolved}


def _check_weights(flag: str, wanted: list, stored: list) -> None:
    w = {v["name"]: v["weight"] for v in wanted}
    s = {v["name"]: v["weight"] for v in stored}
    if w != s:
        raise SeedError(f"{flag}: server stored variant weights {s}, fixtures expect {w}")


def switch(base_url: str, flag: str, on: bool, admin_token: str = fixtures.ADMIN_TOKEN):
    api = base_url.rstrip("/") + "/api/admin"
    path = (f"{api}/projects/{fixtures.PROJECT}/features/{flag}/environments/"
            f"{fixtures.ENVIRONMENT}/{'on' if on else 'off'}")
    return _expect(call("POST", path, admin_token), (200, 202, 204), f"switch {flag}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = seed(sys.argv[1], *(sys.argv[2:3]))
    print(f"seeded {len(out['flags'])} flags and {len(out['segments'])} segment")
