"""sdk-compat scenario `kill-switch`: guards switch flags off and on, seen by real, unmodified SDKs.

Run by harness/main.py (`sdk-compat/run kill-switch`) against the server it started (scheduler
on). Two SDK drivers run in watch mode the whole time (the Node SDK polling every 250 ms, the
Python SDK polling every 1 s, its smallest interval) and report every change of their answer for
the scenario's flags; this module drives the server and a loopback HTTP service, and checks what
each SDK says:

1. keep_disabled (a monitor on service A at 1 s guards `sdkcompat-ks-keep`): stop A -> both SDKs
   see the flag off, and its last event names the guard; start A -> the monitor is up again and
   the flag stays off in both SDKs; one admin call switches it on -> both SDKs see it on.
2. re_enable (service B, `sdkcompat-ks-reenable`): stop B -> off; start B -> on again, by the guard.
3. Better Stack webhook (`sdkcompat-ks-webhook`, a guard on the Better Stack monitor of the
   recorded payloads in tests/fixtures/betterstack/, re_enable): POST `started` -> off; POST
   `resolved` -> on.

Every wait has a deadline and fails the scenario when it passes. Stdlib only.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
import time

import fixtures
import seed as seeder
from web import call

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BETTERSTACK = os.path.join(REPO, "tests", "fixtures", "betterstack")

# The SDKs watching, and their poll interval (the Python SDK takes whole seconds, 1 at least).
WATCHERS = {"node-polling": 250, "python-polling": 1000}
FLAGS = {"keep": "sdkcompat-ks-keep", "reenable": "sdkcompat-ks-reenable",
         "webhook": "sdkcompat-ks-webhook"}
BEARER = "Bearer " + fixtures.ADMIN_TOKEN

START_S = 30.0  # the SDKs start and see every flag on
MONITOR_UP_S = 10.0  # a monitor checked every second reports up
PROPAGATE_S = 10.0  # a guard's change reaches both SDKs (expected: ~1 check + 1 poll)
HOLD_S = 2 * max(WATCHERS.values()) / 1000 + 0.5  # keep_disabled: still off this long after up


def log(msg: str) -> None:
    print(msg, flush=True)


class Failed(Exception):
    """A check failed: the rest of its part of the scenario is skipped."""


# --------------------------------------------------------------------------- the guarded service

class _Health(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a stopped service has no kept-alive connection
    # still answering.
    def do_GET(self):  # noqa: N802
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalService:
    """An HTTP service on 127.0.0.1 answering 200; stopped, its port refuses connections."""

    def __init__(self):
        self.port = 0
        self.httpd = None
        self.start()

    def start(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Health)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"


# --------------------------------------------------------------------------- the SDKs

class Watcher:
    """An SDK driver in watch mode: what it says for each flag, and since when."""

    def __init__(self, name: str, driver):
        self.name = name
        self.driver = driver
        self.cond = threading.Condition()
        self.state: dict[str, tuple[bool, float]] = {}  # flag -> (enabled, monotonic time)
        self.history: list[tuple[float, str, bool]] = []
        self.errors: list[str] = []
        self.ready = False
        self.ended = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            t, raw = self.driver.lines.get()
            with self.cond:
                if raw is None:
                    self.ended = True
                    self.cond.notify_all()
                    return
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                kind = msg.get("kind")
                if kind == "state":
                    self.state[msg["flag"]] = (bool(msg["enabled"]), t)
                    self.history.append((t, msg["flag"], bool(msg["enabled"])))
                elif kind == "ready":
                    self.ready = True
                elif kind == "error":
                    self.errors.append(msg.get("message", "?"))
                elif kind == "mode":
                    self.errors.append(f"the SDK changed mode: {msg.get('from')} -> {msg.get('to')}")
                elif kind == "info":
                    log(f"  note: {self.name}: {msg.get('message', '')}")
                self.cond.notify_all()

    def wait_until(self, pred, deadline: float) -> bool:
        with self.cond:
            self.cond.wait_for(lambda: pred() or self.ended or bool(self.errors),
                               timeout=max(0.0, deadline - time.monotonic()))
            return pred()

    def sees(self, flag: str):
        s = self.state.get(flag)
        return None if s is None else s[0]

    def changes_since(self, flag: str, t: float) -> list[tuple[float, bool]]:
        with self.cond:
            return [(at, on) for at, f, on in self.history if f == flag and at > t]

    def problem(self) -> str:
        if self.errors:
            return f"{self.name}: {'; '.join(self.errors)}"
        if self.ended:
            return f"{self.name}: the driver exited (see {self.driver.log_path})"
        return ""


# --------------------------------------------------------------------------- the scenario

class Scenario:
    def __init__(self, url: str):
        self.url = url
        self.checks: list[tuple[str, bool, str]] = []
        self.watchers: list[Watcher] = []

    def check(self, name: str, ok: bool, detail: str):
        self.checks.append((name, ok, detail))
        log(f"  {name:12} {'ok  ' if ok else 'FAIL'} {detail}")
        if not ok:
            raise Failed(detail)

    def api(self, method: str, path: str, body=None, expect=(200, 201), token=fixtures.ADMIN_TOKEN,
            what: str = ""):
        r = call(method, self.url + path, token, body)
        if r.status not in expect:
            self.check("setup", False, f"{what or method + ' ' + path}: HTTP {r.status} {r.text()}")
        return r.json() if r.body else None

    # -- set-up

    def create_flag(self, name: str):
        self.api("POST", f"/api/admin/projects/{fixtures.PROJECT}/features",
                 {"name": name, "type": "kill-switch", "description": "sdk-compat kill-switch"},
                 what=f"create flag {name}")
        seeder.switch(self.url, name, True)

    def create_monitor(self, service: LocalService, name: str) -> str:
        r = call("POST", self.url + "/api/v2/monitors", BEARER, {
            "monitor_type": "status", "url": service.url, "pronounceable_name": name,
            "check_frequency": 1, "confirmation_period": 0, "recovery_period": 0,
            "request_timeout": 2})
        if r.status != 201:
            self.check("setup", False, f"POST /api/v2/monitors: HTTP {r.status} {r.text()}")
        return r.json()["data"]["id"]

    def create_guard(self, signal: dict, flag: str, on_recovery: str) -> dict:
        return self.api("POST", "/api/admin/guards", {
            "name": flag, "signal": signal, "on_recovery": on_recovery,
            "flags": [{"project": fixtures.PROJECT, "feature": flag,
                       "environment": fixtures.ENVIRONMENT}]}, expect=(201,),
            what=f"create guard {flag}")

    def monitor_status(self, monitor: str) -> str:
        r = call("GET", f"{self.url}/api/v2/monitors/{monitor}", BEARER)
        return ((r.json() or {}).get("data") or {}).get("attributes", {}).get("status", "") \
            if r.status == 200 else f"HTTP {r.status}"

    # -- waits, each with a deadline

    def wait_monitor(self, monitor: str, want: str, since: float, what: str) -> float:
        deadline = time.monotonic() + MONITOR_UP_S
        status = ""
        while time.monotonic() < deadline:
            status = self.monitor_status(monitor)
            if status == want:
                t = time.monotonic()
                self.check("monitor", True, f"{what}: monitor {monitor} is {want} "
                                            f"{t - since:.2f} s later")
                return t
            time.sleep(0.05)
        self.check("monitor", False, f"{what}: monitor {monitor} still {status!r}, not {want!r}, "
                                     f"after {MONITOR_UP_S:.0f} s")
        return 0.0

    def wait_sdks(self, flag: str, on: bool, since: float, what: str):
        """Every SDK says `on` for `flag` within PROPAGATE_S of `since`."""
        deadline = since + PROPAGATE_S
        got = []
        for w in self.watchers:
            if not w.wait_until(lambda w=w: w.sees(flag) is on, deadline):
                self.check("sdk", False, f"{what}: {w.name} still says {w.sees(flag)} for {flag} "
                                         f"{PROPAGATE_S:.0f} s later" +
                           (f" ({w.problem()})" if w.problem() else ""))
            got.append(f"{w.name} {max(0.0, w.state[flag][1] - since):.2f} s")
        self.check("sdk", True, f"{what}: {flag} {'on' if on else 'off'} in every SDK after "
                                + ", ".join(got))

    def server_says(self, flag: str) -> bool:
        r = call("GET", self.url + "/api/client/features", fixtures.CLIENT_TOKEN)
        for f in (r.json() or {}).get("features", []):
            if f["name"] == flag:
                return bool(f["enabled"])
        self.check("server", False, f"{flag} is not served by /api/client/features")
        return False

    def why(self, flag: str, want_type: str, want_actor: str, what: str):
        """The flag's newest event: the guard's change, with its reason."""
        events = self.api("GET", f"/api/admin/events/{flag}")["events"]
        last = events[0] if events else {}
        data = last.get("data") or {}
        ok = last.get("type") == want_type and last.get("createdBy") == want_actor
        self.check("event", ok, f"{what}: {flag}'s last event is {last.get('type')} by "
                                f"{last.get('createdBy')}" +
                   (f", reason {data.get('reason')!r}" if data.get("reason") else "") +
                   ("" if ok else f" (expected {want_type} by {want_actor})"))

    # -- the three parts

    def outage(self, policy: str, service: LocalService, monitor: str, flag: str,
               label: str) -> float:
        """Stops the service: both SDKs see the flag off, and its last event names the guard
        (named as its flag). Returns when the service was stopped."""
        log(f"  -- {policy}: guard {flag}, monitor {monitor} on {service.url}")
        t = time.monotonic()
        service.stop()
        self.wait_sdks(flag, False, t, f"{label} stopped")
        self.why(flag, "feature-environment-disabled", f"guard:{flag}", "switched off")
        return t

    def keep_disabled(self, service: LocalService, monitor: str):
        flag = FLAGS["keep"]
        t_stop = self.outage("keep_disabled", service, monitor, flag, "service A")
        t = time.monotonic()
        service.start()
        t_up = self.wait_monitor(monitor, "up", t, "service A started")
        time.sleep(max(0.0, t_up + HOLD_S - time.monotonic()))
        flipped = [f"{w.name} said on {at - t_up:+.2f} s after" for w in self.watchers
                   for at, on in w.changes_since(flag, t_stop) if on]
        problems = flipped + (["/api/client/features serves it on"] if self.server_says(flag)
                              else [])
        self.check("sdk", not problems,
                   f"monitor up again: {flag} still off in every SDK and in /api/client/features "
                   f"{HOLD_S:.1f} s after (keep_disabled)" if not problems else
                   f"monitor up again: keep_disabled should keep {flag} off, but "
                   + ", ".join(problems))
        t = time.monotonic()
        seeder.switch(self.url, flag, True)
        self.wait_sdks(flag, True, t, "one admin call (…/environments/development/on)")

    def re_enable(self, service: LocalService, monitor: str):
        flag = FLAGS["reenable"]
        self.outage("re_enable", service, monitor, flag, "service B")
        t = time.monotonic()
        service.start()
        self.wait_sdks(flag, True, t, "service B started")
        self.why(flag, "feature-environment-enabled", f"guard:{flag}", "switched back on")

    def webhook(self, receiver: str, bs_monitor: str, started: dict, resolved: dict):
        flag = guard = FLAGS["webhook"]
        log(f"  -- Better Stack webhook: guard {guard} on Better Stack monitor {bs_monitor}")
        for body, on in ((started, False), (resolved, True)):
            t = time.monotonic()
            r = call("POST", receiver, None, body)
            answer = r.json() if r.status == 200 else None
            names = [g.get("name") for g in (answer or {}).get("guards", [])]
            ok = r.status == 200 and (answer or {}).get("status") == "processed" and guard in names
            self.check("webhook", ok, f"POST incident-{body['event']}.json to the source's URL -> "
                       + (f"200, processed by guard {guard}" if ok else f"{r.status} {r.text()}"))
            self.wait_sdks(flag, on, t, f"Better Stack `{body['event']}` delivered")
            self.why(flag, "feature-environment-enabled" if on else "feature-environment-disabled",
                     f"guard:{guard}", "by the webhook")


def _fixture(name: str) -> dict:
    with open(os.path.join(BETTERSTACK, name)) as f:
        return json.load(f)


def run(url: str, workdir: str, start) -> list[tuple[str, bool, str]]:
    """The scenario against the server at `url`; `start(sdk, label=, extra_env=)` starts a
    driver (harness/main.py's start_driver). Returns the checks, printed as they are made."""
    sc = Scenario(url)
    services: list[LocalService] = []
    try:
        try:
            started = _fixture("incident-started.json")
            resolved = _fixture("incident-resolved.json")
            bs_monitor = started["data"]["relationships"]["monitor"]["data"]["id"]
            for f in FLAGS.values():
                sc.create_flag(f)
            services = [LocalService(), LocalService()]
            monitors = [sc.create_monitor(services[0], "sdk-compat service A"),
                        sc.create_monitor(services[1], "sdk-compat service B")]
            # Each guard is named as its flag.
            sc.create_guard({"monitor_id": monitors[0]}, FLAGS["keep"], "keep_disabled")
            sc.create_guard({"monitor_id": monitors[1]}, FLAGS["reenable"], "re_enable")
            sc.create_guard({"betterstack_monitor": bs_monitor}, FLAGS["webhook"], "re_enable")
            source = sc.api("POST", "/api/admin/webhook-sources",
                            {"name": "sdk-compat", "kind": "betterstack"}, expect=(201,),
                            what="create the Better Stack webhook source")
            receiver = source["url"]
            sc.check("setup", receiver.startswith(url + "/api/webhooks/betterstack/"),
                     f"3 flags on, 2 loopback services with a 1 s monitor each, 3 guards, a "
                     f"webhook source ({receiver.split('/betterstack/')[0]}/betterstack/…)")

            t = time.monotonic()
            for name, poll_ms in WATCHERS.items():
                driver = start(name, label=f"kill-switch-{name}", extra_env={
                    "SDKCOMPAT_POLL_MS": str(poll_ms), "SDKCOMPAT_WATCH": ",".join(FLAGS.values()),
                    "SDKCOMPAT_TOGGLE_FLAG": FLAGS["keep"]})
                sc.watchers.append(Watcher(name, driver))
            for w in sc.watchers:
                all_on = w.wait_until(lambda w=w: w.ready and all(
                    w.sees(f) is True for f in FLAGS.values()), t + START_S)
                sc.check("sdk", all_on, f"{w.name} (polling every {WATCHERS[w.name]} ms) started "
                                        f"and sees the 3 flags on" if all_on else
                         f"{w.name} did not see the 3 flags on within {START_S:.0f} s: "
                         f"{ {f: w.sees(f) for f in FLAGS.values()} } {w.problem()}")
            for m, what in zip(monitors, ("service A", "service B")):
                sc.wait_monitor(m, "up", t, what)
        except Failed:
            return sc.checks
        for part in (lambda: sc.keep_disabled(services[0], monitors[0]),
                     lambda: sc.re_enable(services[1], monitors[1]),
                     lambda: sc.webhook(receiver, bs_monitor, started, resolved)):
            try:
                part()
            except Failed:
                pass
        return sc.checks
    except Exception as e:  # noqa: BLE001 - reported as a failed check, not a crash
        sc.checks.append(("harness", False, f"{type(e).__name__}: {e}"))
        log(f"  harness      FAIL {type(e).__name__}: {e}")
        return sc.checks
    finally:
        for w in sc.watchers:
            w.driver.stop()
        for s in services:
            s.stop()
