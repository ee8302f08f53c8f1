// Formatting of times, durations and numbers, in the reader's locale.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function toDate(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "3 minutes ago", "yesterday". */
export function ago(value) {
  const d = toDate(value);
  if (!d) return "never";
  const secs = Math.round((d.getTime() - Date.now()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 10) return "just now";
  if (abs < 60) return rtf.format(secs, "second");
  if (abs < 3600) return rtf.format(Math.round(secs / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(secs / 3600), "hour");
  if (abs < 86400 * 30) return rtf.format(Math.round(secs / 86400), "day");
  return dateOnly.format(d);
}

export function when(value) {
  const d = toDate(value);
  return d ? dateTime.format(d) : "—";
}

export function day(value) {
  const d = toDate(value);
  return d ? dateOnly.format(d) : "—";
}

export function clock(value) {
  const d = toDate(value);
  return d ? timeOnly.format(d) : "";
}

/** A <time> element showing "3 minutes ago" with the full date as its title. */
export function timeEl(h, value, { relative = true } = {}) {
  const d = toDate(value);
  if (!d) return h("span", { class: "muted" }, "never");
  return h("time", { datetime: d.toISOString(), title: dateTime.format(d) }, relative ? ago(d) : dateTime.format(d));
}

/** 3725 → "1 h 2 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 && m < 10 ? ` ${s % 60} s` : ""}`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h${m % 60 ? ` ${m % 60} min` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ""}`;
}

/** Seconds (Better Stack's unit for response times) → "182 ms" / "1.24 s". */
export function responseTime(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const ms = seconds * 1000;
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** 99.9987 → "99.99%": rounded down, so anything short of 100 never reads as 100. */
export function percent(value, digits = 2) {
  if (value === null || value === undefined) return "—";
  if (value >= 100) return "100%";
  const f = 10 ** digits;
  return `${(Math.floor(value * f) / f).toFixed(digits)}%`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** YYYY-MM-DD of a Date, in UTC. */
export function isoDay(d) {
  return d.toISOString().slice(0, 10);
}
