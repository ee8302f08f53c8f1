"""A small, independent model of Unleash's evaluation rules, for the flags in fixtures.py only.

Used as the comparison source for flags that the recording does not cover while the server's own
evaluation (the frontend API) is not available. It follows the Unleash client specification:
MurmurHash3 (x86, 32 bit) normalised hashes, seed 0 for rollouts and 86028157 for variants.
"""

from __future__ import annotations

VARIANT_SEED = 86028157
_M = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M


def murmur3_32(data: bytes, seed: int = 0) -> int:
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _M
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * c1) & _M
        k = _rotl(k, 15)
        k = (k * c2) & _M
        h ^= k
        h = _rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & _M
    tail = data[4 * nblocks :]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & _M
        k = _rotl(k, 15)
        k = (k * c2) & _M
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M
    h ^= h >> 16
    return h


def normalized_hash(group: str, identifier: str, modulus: int = 100, seed: int = 0) -> int:
    return murmur3_32(f"{group}:{identifier}".encode(), seed) % modulus + 1


def _semver(v: str):
    core = v.split("+")[0].split("-")[0]
    return tuple(int(p) for p in core.split("."))


def _context_value(ctx: dict, name: str):
    if name in ("userId", "sessionId", "remoteAddress", "appName", "environment", "currentTime"):
        return ctx.get(name)
    return (ctx.get("properties") or {}).get(name)


def constraint_matches(c: dict, ctx: dict) -> bool:
    value = _context_value(ctx, c["contextName"])
    op = c["operator"]
    ci = c.get("caseInsensitive", False)
    values = c.get("values") or []
    result: bool
    if value is None:
        result = op == "NOT_IN"
    elif op == "IN":
        result = value in values
    elif op == "NOT_IN":
        result = value not in values
    elif op in ("STR_STARTS_WITH", "STR_ENDS_WITH", "STR_CONTAINS"):
        v = value.lower() if ci else value
        vs = [x.lower() if ci else x for x in values]
        if op == "STR_STARTS_WITH":
            result = any(v.startswith(x) for x in vs)
        elif op == "STR_ENDS_WITH":
            result = any(v.endswith(x) for x in vs)
        else:
            result = any(x in v for x in vs)
    elif op.startswith("NUM_"):
        a, b = float(value), float(c["value"])
        result = {"NUM_EQ": a == b, "NUM_GT": a > b, "NUM_GTE": a >= b,
                  "NUM_LT": a < b, "NUM_LTE": a <= b}[op]
    elif op.startswith("SEMVER_"):
        a, b = _semver(value), _semver(c["value"])
        result = {"SEMVER_EQ": a == b, "SEMVER_GT": a > b, "SEMVER_LT": a < b,
                  "SEMVER_GTE": a >= b, "SEMVER_LTE": a <= b}[op]
    else:
        raise ValueError(f"model does not know operator {op}")
    return (not result) if c.get("inverted") else result


def _stickiness_value(ctx: dict, stickiness: str):
    if stickiness in (None, "", "default"):
        return ctx.get("userId") or ctx.get("sessionId")
    return _context_value(ctx, stickiness)


def strategy_matches(flag: str, s: dict, segments: dict, ctx: dict) -> bool:
    constraints = list(s.get("constraints") or [])
    for sid in s.get("segments") or []:
        constraints += segments[sid]
    if not all(constraint_matches(c, ctx) for c in constraints):
        return False
    name, p = s["name"], s.get("parameters") or {}
    if name == "default":
        return True
    if name == "userWithId":
        ids = [x.strip() for x in p.get("userIds", "").split(",")]
        return ctx.get("userId") in ids
    if name == "flexibleRollout":
        rollout = int(p.get("rollout", "100"))
        sticky = _stickiness_value(ctx, p.get("stickiness", "default"))
        if sticky is None:
            return False
        group = p.get("groupId") or flag
        return rollout > 0 and normalized_hash(group, sticky) <= rollout
    raise ValueError(f"model does not know strategy {name}")


def _pick_variant(variants: list, group: str, ctx: dict):
    for v in variants:
        for o in v.get("overrides") or []:
            if _context_value(ctx, o["contextName"]) in o["values"]:
                return v
    total = sum(v["weight"] for v in variants)
    if total <= 0:
        return None
    sticky = _stickiness_value(ctx, variants[0].get("stickiness", "default"))
    if sticky is None:
        return None
    target = normalized_hash(group, sticky, total, VARIANT_SEED)
    acc = 0
    for v in variants:
        acc += v["weight"]
        if target <= acc:
            return v
    return None


def evaluate(flag: dict, segments: dict, ctx: dict) -> dict:
    """Answer {enabled, variant: {name, enabled, payload}} for one seeded flag definition.

    `flag` is the fixture shape: {name, enabled, strategies: [...], variants: [...]}, with the
    variant weights already as the server stores them (see fixtures.stored_weights)."""
    disabled = {"name": "disabled", "enabled": False, "payload": None}
    if not flag.get("enabled", True):
        return {"enabled": False, "variant": disabled}
    for s in flag["strategies"]:
        if strategy_matches(flag["name"], s, segments, ctx):
            if s.get("variants"):
                group = (s.get("parameters") or {}).get("groupId") or flag["name"]
                v = _pick_variant(s["variants"], group, ctx)
            elif flag.get("variants"):
                v = _pick_variant(flag["variants"], flag["name"], ctx)
            else:
                v = None
            if v is None:
                return {"enabled": True, "variant": disabled}
            return {"enabled": True,
                    "variant": {"name": v["name"], "enabled": True, "payload": v.get("payload")}}
    return {"enabled": False, "variant": disabled}
