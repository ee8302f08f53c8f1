#!/usr/bin/env python3
"""sdk-compat harness: start flagwatch, seed it, run each SDK driver, compare, report.

Called by sdk-compat/run (which builds the server and installs the SDKs first):

    python3 sdk-compat/harness/main.py --bin target/debug/flagwatch python-polling node-polling ...

Stdlib only. Every driver gets the same cases (flag names + 1,000 user contexts), prints one JSON
object per line on stdout, and is compared here against the server's own evaluation (the frontend
API) or, while that is not built, against the recorded Unleash evaluation plus a spec model.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(SDK_DIR)
sys.path.insert(0, HERE)
sys.path.insert(0, SDK_DIR)

import fixtures  # noqa: E402
import kill_switch  # noqa: E402
import model  # noqa: E402
import seed as seeder  # noqa: E402
from web import call  # noqa: E402

GOLDEN = os.environ.get(
    "SDKCOMPAT_GOLDEN",
    os.path.join(REPO, "tests", "fixtures", "unleash-golden", "sdk"),
)

POLL_INTERVAL_MS = 1000  # refresh interval every polling SDK is configured with
METRICS_INTERVAL_MS = 1000  # metrics interval every SDK is configured with
POLL_SLACK_MS = 500  # polling: off must be seen within one interval + this
STREAM_LIMIT_MS = 1000  # streaming (and OFREP, which asks the server every time): within 1 s
DRIVER_TIMEOUT_S = float(os.environ.get("SDKCOMPAT_DRIVER_TIMEOUT", "240"))
METRICS_WAIT_S = float(os.environ.get("SDKCOMPAT_METRICS_WAIT", "10"))

# How each SDK is run, its kind of toggle propagation, and which checks apply.
DRIVERS = {
    "python-polling": {"cmd": [os.path.join(SDK_DIR, ".venv", "bin", "python"),
                               os.path.join(SDK_DIR, "python", "driver.py"), "polling"],
                       "sdk": "UnleashClient (PyPI), polling", "propagation": "polling",
                       "register": True},
    "python-streaming": {"cmd": [os.path.join(SDK_DIR, ".venv", "bin", "python"),
                                 os.path.join(SDK_DIR, "python", "driver.py"), "streaming"],
                         "sdk": "UnleashClient (PyPI), streaming", "propagation": "streaming",
                         "register": True, "preflight": "streaming"},
    "node-polling": {"cmd": ["node", os.path.join(SDK_DIR, "node", "unleash-client.mjs"), "polling"],
                     "sdk": "unleash-client (npm), polling", "propagation": "polling",
                     "register": True},
    "node-streaming": {"cmd": ["node", os.path.join(SDK_DIR, "node", "unleash-client.mjs"),
                               "streaming"],
                       "sdk": "unleash-client (npm), streaming", "propagation": "streaming",
                       "register": True, "preflight": "streaming"},
    "node-delta": {"cmd": ["node", os.path.join(SDK_DIR, "node", "unleash-client.mjs"), "delta"],
                   "sdk": "unleash-client (npm), delta polling", "propagation": "polling",
                   "register": True, "preflight": "delta"},
    "rust": {"cmd": [os.path.join(SDK_DIR, "rust", "target", "debug", "sdk-compat-rust")],
             "sdk": "unleash-api-client (crates.io)", "propagation": "polling", "register": True},
    "browser": {"cmd": ["node", os.path.join(SDK_DIR, "node", "proxy-client.mjs")],
                "sdk": "unleash-proxy-client (npm) on /api/frontend", "propagation": "polling",
                "register": False, "preflight": "frontend"},
    "ofrep": {"cmd": ["node", os.path.join(SDK_DIR, "node", "ofrep.mjs")],
              "sdk": "@openfeature/ofrep-provider + server-sdk (npm)", "propagation": "ofrep",
              "register": False, "metrics": False, "preflight": "ofrep"},
}

# Scenarios: named like SDKs on the command line, each a function run(url, workdir, start) that
# drives the server and SDK drivers it starts with start(sdk, label=, extra_env=) (a
# DriverProcess), prints its checks as it goes and returns them.
SCENARIOS = {
    "kill-switch": {"run": kill_switch.run,
                    "sdk": "guards switching flags off and on under real SDKs "
                           "(unleash-client (npm) and UnleashClient (PyPI), polling)"},
}


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- server

class Server:
    def __init__(self, binary: str, workdir: str):
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "flagwatch.log")
        env = dict(os.environ)
        env.update({
            "PORT": "0",
            "HOST": "127.0.0.1",
            "DATABASE_URL": f"sqlite:{os.path.join(workdir, 'flagwatch.db')}",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": os.environ.get("SDKCOMPAT_SERVER_LOG", "info"),
            "INIT_ADMIN_API_TOKENS": fixtures.ADMIN_TOKEN,
            "INIT_BACKEND_API_TOKENS": fixtures.CLIENT_TOKEN,
            "INIT_FRONTEND_API_TOKENS": fixtures.FRONTEND_TOKEN,
            "PROBE_SCHEDULER": "true",  # the kill-switch scenario's monitors must be checked
        })
        for k in ("DATABASE_URL_FILE", "INIT_CLIENT_API_TOKENS"):
            env.pop(k, None)
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary], cwd=workdir, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.url = None
        addr_q: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(addr_q,), daemon=True).start()
        try:
            self.url = addr_q.get(timeout=30)
        except queue.Empty:
            pass
        if not self.url:
            self.stop()
            raise RuntimeError(f"flagwatch did not report its address; see {self.log_path}:\n"
                               + self.tail())
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if call("GET", self.url + "/ready", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("flagwatch did not become ready within 30 s:\n" + self.tail())

    def _pump(self, addr_q):
        found = False
        for line in self.proc.stdout:
            self.logf.write(line)
            self.logf.flush()
            if not found:
                m = re.search(rb'"addr":"([0-9.]+:\d+)"', line) or \
                    re.search(rb"addr=([0-9.]+:\d+)", line)
                if m and b"listening" in line:
                    found = True
                    addr_q.put("http://" + m.group(1).decode())
        addr_q.put(None)

    def tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------- expectations

def norm_answer(enabled, variant: dict | None) -> dict:
    v = variant or {}
    payload = v.get("payload")
    if payload is not None and not payload:
        payload = None
    if payload is not None:
        payload = {"type": payload.get("type"), "value": payload.get("value")}
    return {"enabled": bool(enabled),
            "variant": {"name": v.get("name", "disabled"), "enabled": bool(v.get("enabled", False)),
                        "payload": payload}}


def load_recording() -> tuple[set | None, str]:
    """The users a real Unleash enabled new-checkout-flow for, at 10 % userId stickiness."""
    sets, used = [], []
    for name in ("python-production.json", "node-production.json"):
        path = os.path.join(GOLDEN, name)
        if os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            sets.append(set(d["enabled_user_ids"]))
            used.append(name)
    if not sets:
        return None, "no recording found under " + GOLDEN
    if any(s != sets[0] for s in sets):
        return None, "the recordings disagree with each other"
    return sets[0], ", ".join(used)


def frontend_answers(url: str, contexts: list[dict]):
    """The server's own evaluation via the frontend API, or (None, why-not)."""
    probe = call("POST", url + "/api/frontend/all", fixtures.FRONTEND_TOKEN,
                 {"context": contexts[0]})
    path, all_listed = "/api/frontend/all", True
    if probe.status != 200:
        why = f"POST /api/frontend/all answered {probe.status}"
        probe2 = call("POST", url + "/api/frontend", fixtures.FRONTEND_TOKEN,
                      {"context": contexts[0]})
        if probe2.status != 200:
            return None, f"{why}, POST /api/frontend answered {probe2.status}"
        path, all_listed = "/api/frontend", False
    names = fixtures.evaluated_flag_names()
    out = {}
    for ctx in contexts:
        r = call("POST", url + path, fixtures.FRONTEND_TOKEN, {"context": ctx})
        if r.status != 200:
            return None, f"POST {path} answered {r.status} for {ctx['userId']}: {r.text()}"
        toggles = {t["name"]: t for t in (r.json() or {}).get("toggles", [])}
        for n in names:
            t = toggles.get(n)
            out[(ctx["userId"], n)] = norm_answer(t["enabled"], t.get("variant")) if t \
                else norm_answer(False, None)
    how = "POST /api/frontend/all" if all_listed else "POST /api/frontend (unlisted flags = off)"
    return out, how


def model_answers(seeded: dict, contexts: list[dict], recorded: set | None):
    """Recording for new-checkout-flow, trivial answers for 0/100 %, off and missing flags, and
    the spec model (stdlib MurmurHash3) for the rest. Returns (answers, per-flag source)."""
    flags = {f["name"]: f for f in seeded["flags"]}
    out, sources = {}, {}
    for ctx in contexts:
        for n in fixtures.evaluated_flag_names():
            if n == fixtures.RECORDED_FLAG and recorded is not None:
                sources[n] = "recording"
                out[(ctx["userId"], n)] = norm_answer(ctx["userId"] in recorded, None)
            elif n == fixtures.MISSING_FLAG or n == "sdkcompat-disabled":
                sources[n] = "trivial (off)"
                out[(ctx["userId"], n)] = norm_answer(False, None)
            elif n == "sdkcompat-rollout-0":
                sources[n] = "trivial (0 %)"
                out[(ctx["userId"], n)] = norm_answer(False, None)
            elif n == "sdkcompat-rollout-100":
                sources[n] = "trivial (100 %)"
                out[(ctx["userId"], n)] = norm_answer(True, None)
            else:
                sources[n] = "spec model"
                a = model.evaluate(flags[n], seeded["segments"], ctx)
                out[(ctx["userId"], n)] = norm_answer(a["enabled"], a["variant"])
    return out, sources


# --------------------------------------------------------------------------- drivers

class DriverRun:
    def __init__(self, name: str):
        self.name = name
        self.answers: dict = {}
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.toggle_ms: float | None = None
        self.toggle_error: str | None = None
        self.mode_changes: list[str] = []
        self.ready_ms: float | None = None
        self.exit_code: int | None = None
        self.log_path = ""
        self.done = False
        self.timeline: dict[str, float] = {}


class DriverProcess:
    """A started driver: its process, its log (stderr) and a queue of its stdout lines as
    (monotonic time read, raw line), ended by (time, None) when it closes its output."""

    def __init__(self, cmd: list[str], ddir: str, env: dict, log_path: str):
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, cwd=ddir, env=env, stdout=subprocess.PIPE,
                                         stderr=self.logf, start_new_session=True)
        except OSError:
            self.logf.close()
            raise
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.proc.stdout:
            self.lines.put((time.monotonic(), raw))
        self.lines.put((time.monotonic(), None))

    def stop(self):
        """Ends a driver that runs until told (the kill-switch watchers): SIGTERM, then SIGKILL."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                _kill_group(self.proc)
                self.proc.wait()
        self.logf.close()


def start_driver(name: str, url: str, workdir: str, cases_path: str, label: str | None = None,
                 extra_env: dict | None = None) -> DriverProcess:
    """Starts SDK `name`'s driver with the SDKCOMPAT_* environment, in workdir/<label> (label
    defaults to the name; it also names the SDK's appName). Raises OSError if it cannot start."""
    label = label or name
    ddir = os.path.join(workdir, label)
    os.makedirs(ddir, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "SDKCOMPAT_URL": url,
        "SDKCOMPAT_CLIENT_TOKEN": fixtures.CLIENT_TOKEN,
        "SDKCOMPAT_FRONTEND_TOKEN": fixtures.FRONTEND_TOKEN,
        "SDKCOMPAT_APP_NAME": f"sdkcompat-{label}",
        "SDKCOMPAT_CASES": cases_path,
        "SDKCOMPAT_WORKDIR": ddir,
        "SDKCOMPAT_POLL_MS": str(POLL_INTERVAL_MS),
        "SDKCOMPAT_METRICS_MS": str(METRICS_INTERVAL_MS),
        "SDKCOMPAT_TOGGLE_FLAG": fixtures.toggle_flag(name)["name"],
        "SDKCOMPAT_METRICS_FLAG": fixtures.metrics_flag(name)["name"],
    })
    env.update(extra_env or {})
    return DriverProcess(DRIVERS[name]["cmd"], ddir, env, os.path.join(ddir, "driver.log"))


def run_driver(name: str, url: str, workdir: str, cases_path: str) -> DriverRun:
    spec = DRIVERS[name]
    run = DriverRun(name)
    run.log_path = os.path.join(workdir, name, "driver.log")
    try:
        driver = start_driver(name, url, workdir, cases_path)
    except OSError as e:
        run.errors.append(f"could not start driver {spec['cmd'][0]}: {e}")
        return run
    run.log_path = driver.log_path
    proc, lines, logf = driver.proc, driver.lines, driver.logf
    started = time.monotonic()
    toggle_t0 = None
    while True:
        left = DRIVER_TIMEOUT_S - (time.monotonic() - started)
        try:
            t, raw = lines.get(timeout=max(left, 0.01))
        except queue.Empty:
            run.errors.append(f"driver timed out after {DRIVER_TIMEOUT_S:.0f} s")
            _kill_group(proc)
            break
        if raw is None:
            break
        try:
            msg = json.loads(raw)
        except ValueError:
            logf.write(b"[stdout] " + raw)
            continue
        kind = msg.get("kind")
        if kind != "eval":
            run.timeline.setdefault(kind, t - started)
        else:
            run.timeline["answers"] = t - started
        if kind == "eval":
            run.answers[(msg["user"], msg["flag"])] = msg
        elif kind == "ready":
            run.ready_ms = msg.get("ms")
        elif kind == "toggle-ready":
            toggle_t0 = time.monotonic()
            try:
                seeder.switch(url, msg["flag"], False)
            except Exception as e:  # noqa: BLE001
                run.toggle_error = f"admin switch-off failed: {e}"
        elif kind == "toggle-off":
            if toggle_t0 is not None:
                run.toggle_ms = (t - toggle_t0) * 1000
        elif kind == "toggle-timeout":
            run.toggle_error = msg.get("message", "the SDK never saw the flag switched off")
        elif kind == "mode":
            run.mode_changes.append(f"{msg.get('from')} -> {msg.get('to')}")
        elif kind == "error":
            run.errors.append(msg.get("message", "?"))
        elif kind == "info":
            run.infos.append(msg.get("message", ""))
        elif kind == "done":
            run.done = True
    try:
        run.exit_code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        run.errors.append("driver did not exit within 20 s after closing its output; killed")
        _kill_group(proc)
        run.exit_code = proc.wait()
    run.timeline["exit"] = time.monotonic() - started
    logf.close()
    return run


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def preflight(kind: str, url: str) -> str | None:
    """A clear reason when the endpoint an SDK needs is not there, else None."""
    if kind == "streaming":
        import urllib.request
        import urllib.error
        req = urllib.request.Request(url + "/api/client/streaming", headers={
            "Authorization": fixtures.CLIENT_TOKEN, "Accept": "text/event-stream",
            "Unleash-Client-Spec": "5.2.0", "unleash-appname": "sdkcompat-preflight"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                ctype = r.headers.get("content-type", "")
                if r.status != 200 or "text/event-stream" not in ctype:
                    return (f"GET /api/client/streaming answered {r.status} {ctype!r}, "
                            "not an SSE stream")
        except urllib.error.HTTPError as e:
            return (f"GET /api/client/streaming answered {e.code}: the streaming endpoint is not "
                    "built yet" if e.code == 404 else f"GET /api/client/streaming answered {e.code}")
        except OSError as e:
            return f"GET /api/client/streaming failed: {e}"
        return None
    if kind == "delta":
        r = call("GET", url + "/api/client/delta", fixtures.CLIENT_TOKEN,
                 headers={"Unleash-Client-Spec": "5.2.0", "unleash-appname": "sdkcompat-preflight"})
        if r.status != 200:
            return (f"GET /api/client/delta answered {r.status}"
                    + (": the delta endpoint is not built yet" if r.status == 404
                       else f": {r.text()}"))
        try:
            events = (r.json() or {}).get("events")
        except ValueError:
            events = None
        if not isinstance(events, list):
            return f"GET /api/client/delta answered 200 without an `events` list: {r.text()}"
        return None
    if kind == "frontend":
        r = call("GET", url + "/api/frontend", fixtures.FRONTEND_TOKEN)
        if r.status != 200:
            return (f"GET /api/frontend answered {r.status}"
                    + (": the frontend API is not built yet" if r.status == 404 else f": {r.text()}"))
        return None
    if kind == "ofrep":
        r = call("POST", url + "/ofrep/v1/evaluate/flags", fixtures.FRONTEND_TOKEN,
                 {"context": {"targetingKey": "user-0"}})
        if r.status == 404 and b"There is no route" in r.body:
            return "POST /ofrep/v1/evaluate/flags answered 404: the OFREP endpoint is not built yet"
        if r.status not in (200, 401, 403):
            return f"POST /ofrep/v1/evaluate/flags answered {r.status}: {r.text()}"
        return None
    return None


# --------------------------------------------------------------------------- checks

def ofrep_expected_value(exp: dict):
    """What an OFREP evaluation's `value` should be: the variant's payload (typed) or its name
    for an enabled variant, else the flag's on/off as a boolean."""
    v = exp["variant"]
    if not v["enabled"]:
        return exp["enabled"]
    p = v.get("payload")
    if not p:
        return v["name"]
    if p["type"] == "json":
        return json.loads(p["value"])
    if p["type"] == "number":
        return float(p["value"])
    return p["value"]


def _ofrep_problems(flag: str, got: dict, exp: dict) -> list[str]:
    problems = []
    err = got.get("errorCode")
    if err and not (err == "FLAG_NOT_FOUND" and flag == fixtures.MISSING_FLAG):
        problems.append(f"error {err}")
    want = ofrep_expected_value(exp)
    value = got.get("value")
    if isinstance(want, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    if value != want:
        problems.append(f"value {json.dumps(got.get('value'))} != {json.dumps(want)}")
    if exp["variant"]["enabled"] and (got.get("variant") or {}).get("name") != exp["variant"]["name"]:
        problems.append(f"variant {(got.get('variant') or {}).get('name')} != {exp['variant']['name']}")
    return problems


def compare(name: str, run: DriverRun, expected: dict) -> tuple[bool, str]:
    mismatches, missing = [], 0
    for key, exp in expected.items():
        got = run.answers.get(key)
        if got is None:
            missing += 1
            continue
        if name == "ofrep":
            problems = _ofrep_problems(key[1], got, exp)
        else:
            g = norm_answer(got.get("enabled"), got.get("variant"))
            problems = []
            if g["enabled"] != exp["enabled"]:
                problems.append(f"enabled {g['enabled']} != {exp['enabled']}")
            if got.get("variant") is not None:
                if g["variant"] != exp["variant"]:
                    problems.append(f"variant {json.dumps(g['variant'])} != "
                                    f"{json.dumps(exp['variant'])}")
                fe = got["variant"].get("feature_enabled", got["variant"].get("featureEnabled"))
                if fe is not None and bool(fe) != exp["enabled"]:
                    problems.append(f"variant.feature_enabled {fe} != {exp['enabled']}")
            else:
                problems.append("no variant answer")
        if problems:
            mismatches.append((key, "; ".join(problems)))
    total = len(expected)
    if missing == total:
        return False, "no answers from the SDK"
    if mismatches or missing:
        by_flag: dict = {}
        for (user, flag), _ in mismatches:
            by_flag[flag] = by_flag.get(flag, 0) + 1
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(by_flag.items()))
        head = "; ".join(f"{u} {f}: {p}" for (u, f), p in mismatches[:3])
        parts = []
        if mismatches:
            parts.append(f"{len(mismatches)} of {total} answers differ ({detail})")
        if missing:
            parts.append(f"{missing} of {total} answers missing")
        return False, ", ".join(parts) + (f"; e.g. {head}" if head else "")
    return True, f"{total}/{total} answers equal"


def _usage_counts(body) -> tuple[int, int, list]:
    """(yes, no, seen applications) from GET /api/admin/client-metrics/features/{name}, whose
    Unleash shape is {lastHourUsage: [{environment, timestamp, yes, no}], seenApplications}."""
    body = body or {}
    rows = body.get("lastHourUsage")
    if rows is None:  # tolerate other shapes: any objects carrying yes/no counts
        rows = []

        def walk(x):
            if isinstance(x, dict):
                if "yes" in x and "no" in x:
                    rows.append(x)
                else:
                    for v in x.values():
                        walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
        walk(body)
    yes = sum(int(r.get("yes") or 0) for r in rows)
    no = sum(int(r.get("no") or 0) for r in rows)
    return yes, no, body.get("seenApplications") or []


def check_metrics(url: str, name: str) -> tuple[bool, str]:
    app = f"sdkcompat-{name}"
    flag = fixtures.metrics_flag(name)["name"]
    path = f"/api/admin/client-metrics/features/{flag}"
    want = fixtures.METRICS_EXPECTED
    deadline = time.time() + METRICS_WAIT_S
    last = ""
    while True:
        r = call("GET", url + path, fixtures.ADMIN_TOKEN)
        if r.status == 404 and b"There is no route" in r.body:
            return False, f"GET {path} answered 404: client metrics storage is not built yet"
        if r.status == 200:
            yes, no, seen = _usage_counts(r.json())
            seen_ok = app in seen
            if yes == want["yes"] and no == want["no"] and seen_ok:
                return True, f"{flag}: yes={yes} no={no}, seenApplications has {app}"
            last = (f"{flag}: admin API shows yes={yes} no={no} (expected yes={want['yes']} "
                    f"no={want['no']}), seenApplications {seen}")
        else:
            last = f"GET {path} answered {r.status}: {r.text()}"
        if time.time() > deadline:
            return False, last + f" (after waiting {METRICS_WAIT_S:.0f} s)"
        time.sleep(0.5)


def check_registered(url: str, name: str) -> tuple[bool, str]:
    app = f"sdkcompat-{name}"
    path = f"/api/admin/metrics/applications/{app}"
    deadline = time.time() + METRICS_WAIT_S
    while True:
        r = call("GET", url + path, fixtures.ADMIN_TOKEN)
        if r.status == 404 and b"There is no route" in r.body:
            return False, f"GET {path} answered 404: application registry is not built yet"
        if r.status == 200 and app in r.text(100000):
            return True, f"{app} listed by {path}"
        if time.time() > deadline:
            return False, f"GET {path} answered {r.status}: {r.text()}"
        time.sleep(0.5)


def check_toggle(name: str, run: DriverRun) -> tuple[bool, str]:
    kind = DRIVERS[name]["propagation"]
    limit = POLL_INTERVAL_MS + POLL_SLACK_MS if kind == "polling" else STREAM_LIMIT_MS
    what = {"polling": f"one {POLL_INTERVAL_MS} ms poll interval + {POLL_SLACK_MS} ms",
            "streaming": "1 s (streaming)", "ofrep": "1 s (OFREP asks the server)"}[kind]
    if run.toggle_error:
        return False, run.toggle_error
    if run.toggle_ms is None:
        return False, "the driver never reported the switched-off flag"
    ok = run.toggle_ms <= limit
    return ok, f"off reached the SDK in {run.toggle_ms:.0f} ms (limit {what})"


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the flagwatch binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, db)")
    ap.add_argument("--failed", action="append", default=[],
                    help="SDK=reason: set up failed, report FAIL without running")
    ap.add_argument("sdks", nargs="*")
    args = ap.parse_args()
    sdks = args.sdks or list(fixtures.SDKS) + list(SCENARIOS)
    setup_failed = dict(x.split("=", 1) for x in args.failed)

    t_start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="sdk-compat-")
    results: dict[str, list[tuple[str, bool, str]]] = {}
    durations: dict[str, float] = {}
    server = None
    try:
        server = Server(args.bin, workdir)
        url = server.url
        log(f"flagwatch {url} (SQLite in {workdir})")
        seeded = seeder.seed(url)
        log(f"seeded {len(seeded['flags'])} flags and 1 segment through the admin API")

        contexts = fixtures.user_contexts()
        recorded, rec_src = load_recording()
        model_out, sources = model_answers(seeded, contexts, recorded)
        if recorded is not None:
            mh = sum(model.normalized_hash(fixtures.RECORDED_FLAG, c["userId"]) <= 10
                     for c in contexts if c["userId"] in recorded)
            if mh != len(recorded):
                log(f"WARNING: spec model disagrees with the recording ({mh}/{len(recorded)})")
        fe, fe_how = frontend_answers(url, contexts)
        if fe is not None:
            expected = fe
            log(f"comparison source: the server's own evaluation, {fe_how} "
                f"({len(contexts)} contexts)")
            bad = [c["userId"] for c in contexts
                   if recorded is not None and fe[(c["userId"], fixtures.RECORDED_FLAG)]["enabled"]
                   != (c["userId"] in recorded)]
            diff_model = [k for k, v in model_out.items() if fe[k] != v]
            checks = []
            if recorded is not None:
                checks.append(("recording", not bad,
                               f"server vs recorded Unleash on {fixtures.RECORDED_FLAG}: "
                               f"{len(contexts) - len(bad)}/{len(contexts)} equal"))
            checks.append(("model", not diff_model,
                           f"server vs spec model of the seeded flags: "
                           f"{len(model_out) - len(diff_model)}/{len(model_out)} equal"
                           + (f" (first: {diff_model[0]}: server {fe[diff_model[0]]}, model "
                              f"{model_out[diff_model[0]]})" if diff_model else "")))
            results["server-eval"] = checks
            for c, ok, detail in checks:
                log(f"  check: {detail}{'' if ok else '  <-- FAIL'}")
        else:
            expected = model_out
            log(f"comparison source: RECORDING + MODEL, because the server's own evaluation is not "
                f"available ({fe_how})")
            per = {}
            for n, s in sources.items():
                per.setdefault(s, []).append(n)
            for s, ns in per.items():
                log(f"  {s}: {', '.join(ns)}")
            if recorded is not None:
                log(f"  recording: {rec_src} ({len(recorded)} of 1000 users on)")

        log("  what the flags do over the 1,000 users:")
        for n in fixtures.evaluated_flag_names():
            answers = [expected[(c["userId"], n)] for c in contexts]
            on = sum(a["enabled"] for a in answers)
            variants: dict = {}
            for a in answers:
                if a["variant"]["enabled"]:
                    variants[a["variant"]["name"]] = variants.get(a["variant"]["name"], 0) + 1
            vs = ", ".join(f"{k} {v}" for k, v in sorted(variants.items()))
            log(f"    {n:26} {on:4} on" + (f"; variants: {vs}" if vs else ""))

        cases = {
            "flags": fixtures.evaluated_flag_names(),
            "users": contexts,
            "metrics_calls": fixtures.METRICS_CALLS,
        }
        cases_path = os.path.join(workdir, "cases.json")
        with open(cases_path, "w") as f:
            json.dump(cases, f)

        for name in sdks:
            t0 = time.monotonic()
            spec = DRIVERS.get(name) or SCENARIOS[name]
            log(f"\n=== {name}: {spec['sdk']}")
            checks: list[tuple[str, bool, str]] = []
            results[name] = checks
            if name in setup_failed:
                checks.append(("setup", False, setup_failed[name]))
                log(f"  setup FAILED: {setup_failed[name]}")
                durations[name] = time.monotonic() - t0
                continue
            if name in SCENARIOS:
                checks.extend(spec["run"](url, workdir, lambda sdk, **kw: start_driver(
                    sdk, url, workdir, cases_path, **kw)))
                durations[name] = time.monotonic() - t0
                continue
            why = preflight(spec.get("preflight", ""), url)
            if why:
                checks.append(("endpoint", False, why))
                log(f"  FAIL: {why}")
                durations[name] = time.monotonic() - t0
                continue
            run = run_driver(name, url, workdir, cases_path)
            for e in run.errors:
                checks.append(("driver", False, e))
            if run.mode_changes:
                checks.append(("mode", False, "SDK changed mode: " + ", ".join(run.mode_changes)))
            for i in run.infos:
                log(f"  note: {i}")
            log("  timeline: " + ", ".join(f"{k} {v:.1f} s" for k, v in run.timeline.items()))
            checks.append(("evaluations", *compare(name, run, expected)))
            checks.append(("toggle-off", *check_toggle(name, run)))
            if spec.get("metrics", True):
                checks.append(("metrics", *check_metrics(url, name)))
            else:
                log("  metrics: not applicable (OFREP providers send no metrics)")
            if spec.get("register"):
                checks.append(("register", *check_registered(url, name)))
            if not run.done and not run.errors:
                checks.append(("driver", False, f"driver exited with {run.exit_code} before "
                                                "finishing"))
            for c, ok, detail in checks:
                log(f"  {c:12} {'ok  ' if ok else 'FAIL'} {detail}")
            if not all(ok for _, ok, _ in checks):
                log(f"  driver log: {run.log_path}")
                tail = _tail(run.log_path, 15)
                if tail.strip():
                    log("  --- last lines of the driver log ---\n" + tail)
            durations[name] = time.monotonic() - t0
    except Exception as e:  # noqa: BLE001
        log(f"harness error: {e}")
        if server is not None:
            log("--- flagwatch log (tail) ---\n" + server.tail())
        for name in sdks:
            if name not in durations:  # not run, or interrupted while running
                results.setdefault(name, []).append(("harness", False, str(e)))
    finally:
        if server is not None:
            server.stop()

    log("\n================ sdk-compat summary ================")
    failed = 0
    for name, checks in results.items():
        ok = bool(checks) and all(c[1] for c in checks)
        failed += not ok
        reason = "" if ok else " — " + "; ".join(f"{c}: {d}" for c, good, d in checks if not good)
        dur = f" ({durations[name]:.0f} s)" if name in durations else ""
        log(f"{'PASS' if ok else 'FAIL'}  {name}{dur}{reason}")
    total = time.monotonic() - t_start
    log(f"sdk-compat: {len(results) - failed} passed, {failed} failed")
    log(f"harness time {total:.0f} s")
    if args.keep or failed:
        log(f"logs and database kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def _tail(path: str, n: int) -> str:
    try:
        with open(path, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
