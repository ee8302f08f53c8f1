//! The public status page as HTML: server-rendered, one document with its CSS embedded, no
//! script (the Content-Security-Policy sent with it allows none). Every string a user
//! configured (company name, public names, explanations, the announcement, the time zone) goes
//! through [`esc`]; URLs in `href` are only `company_url`, which the API accepts as
//! `http(s)://` alone.
//!
//! Stable hooks for tests and scripts (ids, classes and data attributes; the CSS may change,
//! these do not):
//!
//! | Selector | What |
//! |---|---|
//! | `main#status-page[data-slug][data-aggregate-state]` | a page; the state is Better Stack's `aggregate_state` (`operational`, `degraded_performance`, `partial_outage`, `major_outage`) |
//! | `#overall-status[data-state]`, `.overall-status__headline` | the banner ("All systems operational", "Partial outage"…) and the same state |
//! | `#announcement` | the page's announcement, when it has one |
//! | `#resources`, `.resource[data-resource-id][data-resource-type][data-status]` | each resource shown; `data-status` is Better Stack's resource status (`operational`, `downtime`, `degraded`, `maintenance`, `not_monitored`) |
//! | `.resource__name`, `.resource__explanation`, `.resource__status` | its public name, explanation and status label |
//! | `.resource__uptime[data-uptime]` | uptime over the page's `history` days, in % (`data-uptime` empty when there is no data yet) |
//! | `.uptime-bars[data-days]`, `.uptime-bar[data-date][data-availability][data-level][title]` | one bar per day, oldest first; `data-availability` in % or empty (no data); `data-level` is `ok`, `minor`, `partial`, `major` or `none`; the tooltip is the `title` |
//! | `#incidents`, `.incident[data-state]` | incident history, newest first; `data-state` is `ongoing` or `resolved` |
//! | `.incident__resource`, `.incident__cause`, `.incident__started time[datetime]`, `.incident__duration[data-seconds]` | an incident's resource, public cause, start and duration |
//! | `.incidents__empty` | shown when there were no incidents in the window |
//! | `main#status-page-index`, `.status-page-link[data-slug][data-aggregate-state]` | `/status` when several pages are published |
//! | `main#status-page-not-found` | the 404 page |

use std::fmt::Write;

use chrono::{Datelike, NaiveDate, Timelike};
use chrono_tz::{OffsetName, Tz};

use crate::domain::Timestamp;
use crate::domain::status_page::{AggregateState, ResourceStatus, StatusPage};
use crate::service::status_pages::{DayUptime, PublicPage};

/// Escapes text for HTML content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(date: NaiveDate) -> &'static str {
    MONTHS[date.month0() as usize]
}

/// `Jan 4, 2026`.
fn human_date(date: NaiveDate) -> String {
    format!("{} {}, {}", month(date), date.day(), date.year())
}

/// `Jan 4, 2026, 14:05 CET` in `zone`.
fn human_time(zone: Tz, at: Timestamp) -> String {
    let t = chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .with_timezone(&zone);
    let abbreviation = t.offset().abbreviation().unwrap_or("");
    format!(
        "{}, {:02}:{:02} {}",
        human_date(t.date_naive()),
        t.hour(),
        t.minute(),
        abbreviation
    )
    .trim_end()
    .to_string()
}

/// `45 sec`, `12 min`, `2 h 5 min`, `3 d 4 h`.
fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} sec"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// `99.98` → `99.98%`; `100` → `100%`; two decimals at most, never rounded up to 100.
fn percent(p: f64) -> String {
    let floored = (p * 100.0).floor() / 100.0;
    let s = format!("{floored:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn bar_level(day: &DayUptime) -> &'static str {
    match day.availability {
        None => "none",
        Some(a) if a >= 100.0 => "ok",
        Some(a) if a >= 99.0 => "minor",
        Some(a) if a >= 95.0 => "partial",
        Some(_) => "major",
    }
}

fn bar_title(day: &DayUptime) -> String {
    let date = human_date(day.date);
    match day.availability {
        None => format!("{date} · No data"),
        Some(a) => {
            let incidents = match day.incidents {
                0 => "No incidents".to_string(),
                1 => format!("1 incident, {} down", human_duration(day.downtime_seconds)),
                n => format!(
                    "{n} incidents, {} down",
                    human_duration(day.downtime_seconds)
                ),
            };
            format!("{date} · {} uptime · {incidents}", percent(a))
        }
    }
}

fn status_class(status: ResourceStatus) -> &'static str {
    match status {
        ResourceStatus::Operational => "ok",
        ResourceStatus::Degraded => "minor",
        ResourceStatus::Downtime => "major",
        ResourceStatus::Maintenance => "maintenance",
        ResourceStatus::NotMonitored => "none",
    }
}

fn state_class(state: AggregateState) -> &'static str {
    match state {
        AggregateState::Operational => "ok",
        AggregateState::DegradedPerformance => "minor",
        AggregateState::PartialOutage => "partial",
        AggregateState::MajorOutage => "major",
    }
}

/// A favicon: a dot in the state's colour.
fn favicon(state: AggregateState) -> String {
    let color = match state {
        AggregateState::Operational => "%2316a34a",
        AggregateState::DegradedPerformance => "%23f59e0b",
        AggregateState::PartialOutage => "%23f97316",
        AggregateState::MajorOutage => "%23dc2626",
    };
    format!(
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='{color}'/%3E%3C/svg%3E"
    )
}

const ICON_OK: &str = r#"<svg class="overall-status__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="11" fill="currentColor" opacity=".18"/><path d="M7 12.5l3.2 3.2L17 9" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>"#;
const ICON_ALERT: &str = r#"<svg class="overall-status__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="11" fill="currentColor" opacity=".18"/><path d="M12 6.5v7" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/><circle cx="12" cy="17.2" r="1.5" fill="currentColor"/></svg>"#;

const CSS: &str = r#"
:root{--bg:#f5f6f8;--card:#fff;--text:#111827;--muted:#4b5563;--faint:#6b7280;--border:#e5e7eb;
--ok:#16a34a;--ok-text:#15803d;--minor:#f59e0b;--minor-text:#b45309;--partial:#f97316;--partial-text:#c2410c;
--major:#dc2626;--major-text:#b91c1c;--none:#d1d5db;--maint:#2563eb;--maint-text:#1d4ed8;--link:#1d4ed8;
--banner-ok:#15803d;--banner-minor:#b45309;--banner-partial:#c2410c;--banner-major:#b91c1c;
--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08);color-scheme:light}
[data-theme=dark]{--bg:#0b0f17;--card:#121826;--text:#f3f4f6;--muted:#b6bdc9;--faint:#9aa3b2;--border:#243044;
--ok:#22c55e;--ok-text:#4ade80;--minor:#f59e0b;--minor-text:#fbbf24;--partial:#f97316;--partial-text:#fb923c;
--major:#ef4444;--major-text:#f87171;--none:#374151;--maint:#3b82f6;--maint-text:#93c5fd;--link:#93c5fd;
--shadow:0 1px 2px rgba(0,0,0,.4);color-scheme:dark}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--link)}
a:focus-visible{outline:3px solid var(--link);outline-offset:2px;border-radius:4px}
.wrap{max-width:880px;margin:0 auto;padding:0 20px}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.skip{position:absolute;left:-999px;top:8px;background:var(--card);padding:8px 12px;border-radius:6px;z-index:2}
.skip:focus{left:8px}
.site-header{padding:28px 0 8px}
.site-header .wrap{display:flex;align-items:center;justify-content:space-between;gap:16px;flex-wrap:wrap}
.brand{font-size:1.5rem;font-weight:700;letter-spacing:-.01em;color:var(--text);text-decoration:none;overflow-wrap:anywhere}
.brand small{display:block;font-size:.85rem;font-weight:500;color:var(--muted);letter-spacing:0}
.website{font-size:.95rem;font-weight:500;text-decoration:none;white-space:nowrap}
.website:hover{text-decoration:underline}
main{padding:16px 0 40px}
.card{background:var(--card);border:1px solid var(--border);border-radius:12px;box-shadow:var(--shadow)}
.announcement{margin:0 0 20px;padding:14px 18px;border-left:4px solid var(--maint);white-space:pre-line;overflow-wrap:anywhere}
.announcement strong{display:block;font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--maint-text)}
.overall-status{display:flex;align-items:center;gap:14px;margin:0 0 28px;padding:20px 22px;border-radius:12px;color:#fff;box-shadow:var(--shadow)}
.overall-status--ok{background:var(--banner-ok)}
.overall-status--minor{background:var(--banner-minor)}
.overall-status--partial{background:var(--banner-partial)}
.overall-status--major{background:var(--banner-major)}
.overall-status__icon{width:40px;height:40px;flex:none}
.overall-status__headline{margin:0;font-size:1.35rem;line-height:1.25;font-weight:700}
.overall-status__updated{margin:2px 0 0;font-size:.9rem;opacity:.92}
.section-head{display:flex;align-items:baseline;justify-content:space-between;gap:12px;margin:0 0 10px;flex-wrap:wrap}
.section-head h2{margin:0;font-size:1.1rem}
.section-head p{margin:0;color:var(--muted);font-size:.9rem}
.resources{list-style:none;margin:0 0 32px;padding:0}
.resource{padding:18px 22px;border-top:1px solid var(--border)}
.resource:first-child{border-top:0}
.resource__head{display:flex;align-items:flex-start;justify-content:space-between;gap:12px}
.resource__name{margin:0;font-size:1rem;font-weight:600;overflow-wrap:anywhere}
.resource__explanation{margin:2px 0 0;color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
.resource__status{flex:none;display:inline-flex;align-items:center;gap:6px;font-size:.9rem;font-weight:600;white-space:nowrap}
.resource__status::before{content:"";width:10px;height:10px;border-radius:50%;background:currentColor}
.status--ok{color:var(--ok-text)}.status--minor{color:var(--minor-text)}.status--major{color:var(--major-text)}
.status--maintenance{color:var(--maint-text)}.status--none{color:var(--faint)}
.uptime-bars{display:flex;gap:2px;height:34px;margin:14px 0 6px;padding:0;list-style:none}
.uptime-bar{flex:1 1 0;min-width:2px;border-radius:2px;background:var(--none);transition:opacity .15s}
.uptime-bar:hover{opacity:.7}
.uptime-bar[data-level=ok]{background:var(--ok)}
.uptime-bar[data-level=minor]{background:var(--minor)}
.uptime-bar[data-level=partial]{background:var(--partial)}
.uptime-bar[data-level=major]{background:var(--major)}
.resource__foot{display:flex;justify-content:space-between;gap:8px;color:var(--faint);font-size:.8rem}
.resource__uptime{color:var(--muted);font-weight:600}
.since-short{display:none}
.legend{display:flex;gap:14px;flex-wrap:wrap;margin:0;padding:0;list-style:none;color:var(--muted);font-size:.8rem}
.legend li{display:inline-flex;align-items:center;gap:6px}
.legend i{width:10px;height:10px;border-radius:2px;display:inline-block;background:var(--none)}
.legend i[data-level=ok]{background:var(--ok)}.legend i[data-level=minor]{background:var(--minor)}
.legend i[data-level=partial]{background:var(--partial)}
.legend i[data-level=major]{background:var(--major)}
.incidents{list-style:none;margin:0;padding:0}
.incident{padding:16px 22px;border-top:1px solid var(--border)}
.incident:first-child{border-top:0}
.incident__title{display:flex;align-items:flex-start;justify-content:space-between;gap:12px;margin:0;font-size:1rem}
.incident__title span{overflow-wrap:anywhere}
.incident__cause{font-weight:600}
.incident__resource{font-weight:400;color:var(--muted)}
.badge{flex:none;font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;padding:2px 8px;border-radius:999px}
.badge--ongoing{background:var(--major-text);color:#fff}
.badge--resolved{border:1px solid var(--border);color:var(--ok-text)}
[data-theme=dark] .badge--ongoing{background:#7f1d1d;color:#fee2e2}
.incident__meta{margin:4px 0 0;color:var(--muted);font-size:.9rem}
.incidents__empty{margin:0;padding:18px 22px;color:var(--muted)}
.pages{list-style:none;margin:0;padding:0}
.status-page-link{display:flex;justify-content:space-between;align-items:center;gap:12px;padding:16px 22px;border-top:1px solid var(--border);color:var(--text);text-decoration:none;font-weight:600}
.pages li:first-child .status-page-link{border-top:0}
.status-page-link:hover{background:var(--bg)}
.site-footer{padding:8px 0 40px;color:var(--faint);font-size:.85rem;text-align:center}
.site-footer a{color:inherit}
.empty-state{padding:40px 22px;text-align:center}
.empty-state h1{margin:0 0 8px;font-size:1.5rem}
.empty-state p{margin:0;color:var(--muted)}
@media (max-width:640px){
.wrap{padding:0 12px}
.site-header{padding-top:18px}
.brand{font-size:1.25rem}
.overall-status{padding:16px;gap:12px;margin-bottom:22px}
.overall-status__icon{width:32px;height:32px}
.overall-status__headline{font-size:1.15rem}
.resource,.incident{padding:14px 16px}
.uptime-bar--older{display:none}
.resource__foot .since-long{display:none}
.resource__foot .since-short{display:inline}
.incident__title{flex-direction:column-reverse;gap:6px}
}
@media (prefers-reduced-motion:reduce){*{transition:none!important}}
"#;

/// The document around `body`, whose `main` element has the id `main_id` (the skip link's
/// target).
fn document(
    title: &str,
    theme: &str,
    noindex: bool,
    icon: &str,
    main_id: &str,
    body: &str,
) -> String {
    let robots = if noindex {
        "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\" data-theme=\"{theme}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n{robots}\
         <title>{title}</title>\n<link rel=\"icon\" href=\"{icon}\">\n<style>{CSS}</style>\n</head>\n\
         <body>\n<a class=\"skip\" href=\"#{main_id}\">Skip to content</a>\n{body}</body>\n</html>\n",
        theme = esc(theme),
        title = esc(title),
    )
}

fn footer(zone_name: Option<&str>) -> String {
    let zone = zone_name
        .map(|z| format!(" · Times in {}", esc(z)))
        .unwrap_or_default();
    format!(
        "<footer class=\"site-footer\"><div class=\"wrap\">Powered by flagwatch{zone}</div></footer>\n"
    )
}

/// The page of a status page.
pub fn page(view: &PublicPage) -> String {
    let spec = &view.page.spec;
    let zone = spec.zone();
    let name = esc(&spec.company_name);
    let state = view.aggregate;
    let mut body = String::new();

    // Header: the company, linking back to its site when it has one.
    let _ = write!(
        body,
        "<header class=\"site-header\"><div class=\"wrap\">\
         <div class=\"brand\" id=\"company-name\">{name}<small>Status</small></div>"
    );
    if let Some(url) = &spec.company_url {
        let _ = write!(
            body,
            "<a class=\"website\" id=\"company-url\" href=\"{}\" rel=\"noopener\">Visit website<span aria-hidden=\"true\"> →</span></a>",
            esc(url)
        );
    }
    body.push_str("</div></header>\n");

    let _ = writeln!(
        body,
        "<main id=\"status-page\" class=\"wrap\" data-slug=\"{}\" data-aggregate-state=\"{}\">",
        esc(&spec.subdomain),
        state.as_str()
    );

    if let Some(text) = &spec.announcement {
        let _ = writeln!(
            body,
            "<section id=\"announcement\" class=\"card announcement\" aria-label=\"Announcement\"><strong>Announcement</strong>{}</section>",
            esc(text)
        );
    }

    let icon = if state == AggregateState::Operational {
        ICON_OK
    } else {
        ICON_ALERT
    };
    let _ = writeln!(
        body,
        "<section id=\"overall-status\" class=\"overall-status overall-status--{cls}\" data-state=\"{state}\" role=\"status\">\
         {icon}<div><h1 class=\"overall-status__headline\">{headline}</h1>\
         <p class=\"overall-status__updated\">Updated <time datetime=\"{iso}\">{updated}</time></p></div></section>",
        cls = state_class(state),
        state = state.as_str(),
        headline = state.headline(),
        iso = view.generated_at.to_rfc3339(),
        updated = esc(&human_time(zone, view.generated_at)),
    );

    // Resources.
    let days_label = format!("{} days", view.bar_days);
    body.push_str("<section id=\"resources\" aria-labelledby=\"resources-title\">\n<div class=\"section-head\"><h2 id=\"resources-title\">Current status</h2>");
    if view.resources.iter().any(|r| r.shows_history) {
        body.push_str(
            "<ul class=\"legend\" aria-label=\"Legend\">\
             <li title=\"Up all day\"><i data-level=\"ok\"></i>No downtime</li>\
             <li title=\"Up 99% of the day or more\"><i data-level=\"minor\"></i>Minor</li>\
             <li title=\"Up 95% to 99% of the day\"><i data-level=\"partial\"></i>Partial</li>\
             <li title=\"Up less than 95% of the day\"><i data-level=\"major\"></i>Major</li>\
             <li title=\"Not monitored yet\"><i data-level=\"none\"></i>No data</li></ul>",
        );
    }
    body.push_str("</div>\n");
    if view.resources.is_empty() {
        body.push_str("<div class=\"card empty-state\"><p>No services are listed on this page yet.</p></div>\n");
    } else {
        body.push_str("<ul class=\"card resources\">\n");
        for r in &view.resources {
            let uptime_attr = r.uptime.map(|u| u.to_string()).unwrap_or_default();
            let uptime_text = r.uptime.map_or_else(
                || "No data yet".to_string(),
                |u| format!("{} uptime", percent(u)),
            );
            let _ = write!(
                body,
                "<li class=\"resource\" data-resource-id=\"{id}\" data-resource-type=\"{rtype}\" data-status=\"{status}\">\
                 <div class=\"resource__head\"><div><h3 class=\"resource__name\">{name}</h3>",
                id = r.id,
                rtype = r.resource_type.as_str(),
                status = r.status.as_str(),
                name = esc(&r.public_name),
            );
            if let Some(e) = &r.explanation {
                let _ = write!(body, "<p class=\"resource__explanation\">{}</p>", esc(e));
            }
            let _ = write!(
                body,
                "</div><span class=\"resource__status status--{cls}\">{label}</span></div>",
                cls = status_class(r.status),
                label = r.status.label(),
            );
            if r.shows_history {
                let count = r.days.len();
                let _ = write!(
                    body,
                    "<ol class=\"uptime-bars\" data-days=\"{count}\" aria-hidden=\"true\">"
                );
                for (i, day) in r.days.iter().enumerate() {
                    let older = if count - i > 30 {
                        " uptime-bar--older"
                    } else {
                        ""
                    };
                    let _ = write!(
                        body,
                        "<li class=\"uptime-bar{older}\" data-date=\"{date}\" data-availability=\"{avail}\" data-level=\"{level}\" title=\"{title}\"></li>",
                        date = day.date,
                        avail = day.availability.map(|a| a.to_string()).unwrap_or_default(),
                        level = bar_level(day),
                        title = esc(&bar_title(day)),
                    );
                }
                body.push_str("</ol>");
                let bad_days = r.days.iter().filter(|d| d.incidents > 0).count();
                let _ = write!(
                    body,
                    "<div class=\"resource__foot\"><span><span class=\"since-long\">{days_label} ago</span><span class=\"since-short\">30 days ago</span></span>\
                     <span class=\"resource__uptime\" data-uptime=\"{uptime_attr}\">{uptime_text}</span><span>Today</span></div>\
                     <p class=\"visually-hidden\">{uptime_text} over the last {history} days; {bad_days} of the last {count} days had incidents.</p>",
                    history = spec.history,
                );
            } else {
                let _ = write!(
                    body,
                    "<div class=\"resource__foot\"><span class=\"resource__uptime\" data-uptime=\"{uptime_attr}\">{uptime_text}</span></div>"
                );
            }
            body.push_str("</li>\n");
        }
        body.push_str("</ul>\n");
    }
    body.push_str("</section>\n");

    // Incident history.
    let _ = write!(
        body,
        "<section id=\"incidents\" aria-labelledby=\"incidents-title\">\n<div class=\"section-head\"><h2 id=\"incidents-title\">Incident history</h2><p>Last {} days</p></div>\n<div class=\"card\">",
        spec.history
    );
    if view.incidents.is_empty() {
        let _ = write!(
            body,
            "<p class=\"incidents__empty\">No incidents in the last {} days.</p>",
            spec.history
        );
    } else {
        body.push_str("<ol class=\"incidents\">\n");
        for i in &view.incidents {
            let (state, badge, lasted) = match i.resolved_at {
                Some(_) => ("resolved", "Resolved", "Lasted"),
                None => ("ongoing", "Ongoing", "Ongoing for"),
            };
            let _ = write!(
                body,
                "<li class=\"incident\" data-state=\"{state}\"><h3 class=\"incident__title\"><span><span class=\"incident__cause\">{cause}</span> \
                 <span class=\"incident__resource\">· {resource}</span></span><span class=\"badge badge--{state}\">{badge}</span></h3>\
                 <p class=\"incident__meta\"><span class=\"incident__started\">Started <time datetime=\"{iso}\">{started}</time></span> · \
                 <span class=\"incident__duration\" data-seconds=\"{secs}\">{lasted} {duration}</span>",
                cause = esc(&i.cause),
                resource = esc(&i.resource),
                iso = i.started_at.to_rfc3339(),
                started = esc(&human_time(zone, i.started_at)),
                secs = i.duration_seconds,
                duration = human_duration(i.duration_seconds),
            );
            if let Some(resolved) = i.resolved_at {
                let _ = write!(
                    body,
                    " · <span class=\"incident__resolved\">Resolved <time datetime=\"{}\">{}</time></span>",
                    resolved.to_rfc3339(),
                    esc(&human_time(zone, resolved))
                );
            }
            body.push_str("</p></li>\n");
        }
        body.push_str("</ol>");
    }
    body.push_str("</div>\n</section>\n</main>\n");
    body.push_str(&footer(Some(&spec.timezone)));

    document(
        &format!("{} status", spec.company_name),
        &spec.theme,
        spec.hide_from_search_engines,
        &favicon(state),
        "status-page",
        &body,
    )
}

/// `/status` when several pages are published.
pub fn index(pages: &[(StatusPage, AggregateState)]) -> String {
    let mut body = String::from(
        "<header class=\"site-header\"><div class=\"wrap\"><div class=\"brand\">Status pages</div></div></header>\n\
         <main id=\"status-page-index\" class=\"wrap\">\n<h1 class=\"visually-hidden\">Status pages</h1>\n<ul class=\"card pages\">\n",
    );
    for (p, state) in pages {
        let _ = writeln!(
            body,
            "<li><a class=\"status-page-link\" href=\"/status/{slug}\" data-slug=\"{slug}\" data-aggregate-state=\"{state}\">\
             <span>{name}</span><span class=\"resource__status status--{cls}\">{headline}</span></a></li>",
            slug = esc(&p.spec.subdomain),
            state = state.as_str(),
            name = esc(&p.spec.company_name),
            cls = match state {
                AggregateState::Operational => "ok",
                AggregateState::DegradedPerformance => "minor",
                _ => "major",
            },
            headline = state.headline(),
        );
    }
    body.push_str("</ul>\n</main>\n");
    body.push_str(&footer(None));
    document(
        "Status",
        "light",
        false,
        &favicon(AggregateState::Operational),
        "status-page-index",
        &body,
    )
}

/// A page that does not exist (or is not published).
pub fn not_found() -> String {
    let body = "<main id=\"status-page-not-found\" class=\"wrap\" style=\"padding-top:64px\">\
         <div class=\"card empty-state\"><h1>Status page not found</h1>\
         <p>There is no status page at this address. <a href=\"/status\">See all status pages</a>.</p></div></main>\n";
    document(
        "Status page not found",
        "light",
        true,
        &favicon(AggregateState::Operational),
        "status-page-not-found",
        &format!("{body}{}", footer(None)),
    )
}

/// Asked for a password that was not given (or was wrong).
pub fn locked() -> String {
    let body = "<main id=\"status-page-locked\" class=\"wrap\" style=\"padding-top:64px\">\
         <div class=\"card empty-state\"><h1>This status page is private</h1>\
         <p>Reload the page and enter its password to see it.</p></div></main>\n";
    document(
        "Private status page",
        "light",
        true,
        &favicon(AggregateState::Operational),
        "status-page-locked",
        &format!("{body}{}", footer(None)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn durations_and_percentages_read_naturally() {
        assert_eq!(human_duration(45), "45 sec");
        assert_eq!(human_duration(720), "12 min");
        assert_eq!(human_duration(7_500), "2 h 5 min");
        assert_eq!(human_duration(7_200), "2 h");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3_600 + 60), "3 d 4 h");
        assert_eq!(percent(100.0), "100%");
        assert_eq!(percent(99.999), "99.99%");
        assert_eq!(percent(99.5), "99.5%");
    }

    #[test]
    fn times_are_shown_in_the_page_zone() {
        let t = Timestamp::parse("2026-01-04T13:05:00Z").unwrap();
        assert_eq!(
            human_time(Tz::Europe__Amsterdam, t),
            "Jan 4, 2026, 14:05 CET"
        );
        assert_eq!(human_time(Tz::UTC, t), "Jan 4, 2026, 13:05 UTC");
    }
}
