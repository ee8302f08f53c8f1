"""sdk-compat driver for the Python SDK (PyPI `UnleashClient`), unmodified.

    driver.py polling    # refresh_interval = $SDKCOMPAT_POLL_MS (GET /api/client/features)
    driver.py streaming  # experimental_mode={"type": "streaming"} (SSE /api/client/streaming)

Reads the cases from $SDKCOMPAT_CASES, prints one JSON object per line on stdout (see
../harness/main.py for the protocol), logs to stderr.
With $SDKCOMPAT_WATCH set (the kill-switch scenario) it only reports those flags' answers as they
change, after `ready`, until ended (see watch()).
"""

import json
import logging
import os
import sys
import time

from UnleashClient import UnleashClient

logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def watch(client, flags):
    """Kill-switch watch mode: report each flag's answer once, then every time it changes (asked
    every 10 ms), until the harness ends the process (it drives the server and checks)."""
    last = {}
    while True:
        for flag in flags:
            enabled = bool(client.is_enabled(flag, {"userId": "kill-switch-watcher"}))
            if last.get(flag) != enabled:
                last[flag] = enabled
                emit({"kind": "state", "flag": flag, "enabled": enabled})
        time.sleep(0.01)


def main():
    env = os.environ
    with open(env["SDKCOMPAT_CASES"]) as f:
        cases = json.load(f)
    poll_s = max(1, int(env["SDKCOMPAT_POLL_MS"]) // 1000)
    metrics_s = max(1, int(env["SDKCOMPAT_METRICS_MS"]) // 1000)
    toggle = env["SDKCOMPAT_TOGGLE_FLAG"]
    mode = sys.argv[1] if len(sys.argv) > 1 else "polling"
    if mode not in ("polling", "streaming"):
        raise SystemExit(f"unknown mode {mode}")

    t0 = time.monotonic()
    client = UnleashClient(
        url=env["SDKCOMPAT_URL"] + "/api",
        app_name=env["SDKCOMPAT_APP_NAME"],
        instance_id=f"sdkcompat-python-{mode}-1",
        # Streaming mode runs no poller at all in this SDK (the stream is the only source, the
        # cache the only fall-back); the long interval is there only to make sure of that.
        refresh_interval=poll_s if mode == "polling" else 60,
        experimental_mode={"type": mode},
        metrics_interval=metrics_s,
        custom_headers={"Authorization": env["SDKCOMPAT_CLIENT_TOKEN"]},
        cache_directory=os.path.join(env["SDKCOMPAT_WORKDIR"], "cache"),
    )
    client.initialize_client()
    deadline = time.monotonic() + 20
    while toggle not in client.feature_definitions():
        if time.monotonic() > deadline:
            emit({"kind": "error", "message": "the SDK had no flags 20 s after start"})
            client.destroy()
            return 1
        time.sleep(0.02)
    emit({"kind": "ready", "ms": (time.monotonic() - t0) * 1000})
    connector = type(getattr(client, "connector", None)).__name__
    want = {"polling": "PollingConnector", "streaming": "StreamingConnector"}[mode]
    if connector != want:
        emit({"kind": "error", "message": f"mode {mode}: the SDK runs a {connector}, not a {want}"})
    else:
        emit({"kind": "info", "message": f"mode {mode}: the SDK runs its {connector}"})
    if env.get("SDKCOMPAT_WATCH"):
        watch(client, env["SDKCOMPAT_WATCH"].split(","))

    out = []
    for ctx in cases["users"]:
        for flag in cases["flags"]:
            enabled = client.is_enabled(flag, ctx)
            variant = client.get_variant(flag, ctx)
            out.append(json.dumps({"kind": "eval", "user": ctx["userId"], "flag": flag,
                                   "enabled": enabled, "variant": variant}))
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()

    for call in cases["metrics_calls"]:
        for _ in range(call["n"]):
            client.is_enabled(env["SDKCOMPAT_METRICS_FLAG"], {"userId": call["userId"]})

    emit({"kind": "toggle-ready", "flag": toggle})
    deadline = time.monotonic() + 15
    while client.is_enabled(toggle, {"userId": "toggle-watcher"}):
        if time.monotonic() > deadline:
            emit({"kind": "toggle-timeout", "message": "flag still on in the SDK 15 s after the "
                  "admin API switched it off"})
            break
        time.sleep(0.005)
    else:
        emit({"kind": "toggle-off"})

    time.sleep(metrics_s + 0.5)
    client.destroy()  # flushes the last metrics bucket
    emit({"kind": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
