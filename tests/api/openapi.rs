//! The OpenAPI document at `/api/openapi.json` covers every route the server registers, and
//! only those; it is OpenAPI 3.1; `/api/docs` shows it.
//!
//! The server's routes are read from the source: a small parser over the text of
//! `src/http/**/*.rs` finds every `.route(PATH, METHODS)` call, resolves `PATH` (a string
//! literal, a `const`, or `&format!(…)` over a `let` binding of the same file) and collects
//! the methods named in `METHODS` (`get(..).post(..)`, or, for a call such as
//! `frontend_metrics()`, in that function's body). It is text matching, not a Rust parser:
//! a route written in a shape it does not know (`.nest`, `any(..)`, a path built some other
//! way) fails the test, which names it, so the parser is extended rather than the route
//! silently skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ADMIN, Backend, CLIENT_DEV, TestApp};

const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

type Routes = BTreeSet<(String, String)>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text from `open` (just after an opening bracket) to its matching closing bracket,
/// skipping string literals.
fn balanced(text: &str, open: usize, (left, right): (char, char)) -> &str {
    let mut depth = 1;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            c if c == left => depth += 1,
            c if c == right => {
                depth -= 1;
                if depth == 0 {
                    return &text[open..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced {left}{right} in source");
}

/// Splits at the first comma outside brackets and strings.
fn split_args(args: &str) -> (&str, &str) {
    let mut depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in args.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                let rest = args[i + 1..].trim().trim_end_matches(',').trim_end();
                return (args[..i].trim(), rest);
            }
            _ => {}
        }
    }
    panic!("`.route({args})` does not have two arguments");
}

/// The code of a source file: comments blanked out (so a `.route(…)` in a doc comment is not
/// a route) and the unit tests at its end (`#[cfg(test)] mod tests`) cut off.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    let mut escaped = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
        } else if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else {
            // A char literal holding a quote ('"') is not the start of a string.
            if c == '\'' && chars.peek() == Some(&'"') {
                out.push(c);
                out.push(chars.next().unwrap_or_default());
                continue;
            }
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// `"…"` → its text (no escapes are used in route paths).
fn literal(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('"')).then(|| inner.to_string())
}

/// `const NAME: &str = "…";` and `let name = "…";` of one file.
fn string_bindings(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("pub const ")
            .or_else(|| line.strip_prefix("const "))
            .or_else(|| line.strip_prefix("let "));
        let Some(rest) = rest else { continue };
        let Some((name, value)) = rest.split_once('=') else {
            continue;
        };
        let name = name.split(':').next().unwrap().trim();
        if let Some(v) = literal(value.trim().trim_end_matches(';')) {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// A route's path expression, resolved.
fn path_of(expr: &str, bindings: &BTreeMap<String, String>, at: &str) -> String {
    let expr = expr.trim().trim_start_matches('&');
    if let Some(p) = literal(expr) {
        return p;
    }
    if let Some(bound) = bindings.get(expr) {
        return bound.clone();
    }
    if let Some(args) = expr
        .strip_prefix("format!(")
        .and_then(|a| a.strip_suffix(')'))
    {
        let template = literal(args)
            .unwrap_or_else(|| panic!("{at}: format!({args}) with arguments is not understood"));
        // `{name}` is a binding, `{{x}}` a literal `{x}`.
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            if let Some(after) = rest.strip_prefix("{{") {
                let end = after.find("}}").unwrap();
                out.push('{');
                out.push_str(&after[..end]);
                out.push('}');
                rest = &after[end + 2..];
            } else {
                let end = rest.find('}').unwrap();
                let name = &rest[1..end];
                let value = bindings
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}: `{name}` in format! is not a string binding"));
                out.push_str(value);
                rest = &rest[end + 1..];
            }
        }
        out.push_str(rest);
        return out;
    }
    panic!("{at}: the route path `{expr}` is not understood by this parser");
}

/// The HTTP methods named in a method-router expression such as `get(a).post(b)`.
fn methods_in(expr: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = expr.as_bytes();
    for m in METHODS {
        let mut from = 0;
        while let Some(i) = expr[from..].find(&format!("{m}(")) {
            let start = from + i;
            let before = start.checked_sub(1).map(|j| bytes[j]);
            // `get(` or `.get(`, not `foo_get(` or `x::forget(`.
            let standalone = match before {
                None => true,
                Some(b) => !(b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            };
            if standalone {
                found.insert(m.to_uppercase());
            }
            from = start + m.len();
        }
    }
    found
}

/// The body of `fn name(` in any of `sources`.
fn function_body<'a>(sources: &'a [(PathBuf, String)], name: &str) -> Option<&'a str> {
    sources.iter().find_map(|(_, text)| {
        let at = text.find(&format!("fn {name}("))?;
        let open = at + text[at..].find('{')? + 1;
        Some(balanced(text, open, ('{', '}')))
    })
}

/// Every (method, path) registered by `.route(…)` in `src/http`.
fn registered_routes() -> Routes {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|f| {
            let text = code_of(&std::fs::read_to_string(&f).unwrap());
            (f, text)
        })
        .collect();
    let mut routes = Routes::new();
    for (file, text) in &sources {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for unknown in [
            ".nest(",
            ".nest_service(",
            ".route_service(",
            ".fallback_service(",
        ] {
            assert!(
                !text.contains(unknown),
                "src/http/{name} uses `{unknown}`, which this test's route parser does not follow"
            );
        }
        let bindings = string_bindings(text);
        let mut from = 0;
        while let Some(i) = text[from..].find(".route(") {
            let open = from + i + ".route(".len();
            let args = balanced(text, open, ('(', ')'));
            let line = text[..open].lines().count();
            let at = format!("src/http/{name}:{line}");
            let (path_expr, router_expr) = split_args(args);
            let path = path_of(path_expr, &bindings, &at).replace("{*", "{");
            let mut methods = methods_in(router_expr);
            if methods.is_empty() {
                // A function returning the method router, e.g. `frontend_metrics()`.
                let callee = router_expr
                    .trim_end_matches("()")
                    .rsplit("::")
                    .next()
                    .unwrap_or_default();
                if let Some(body) = function_body(&sources, callee) {
                    methods = methods_in(body);
                }
            }
            assert!(
                !methods.is_empty(),
                "{at}: no HTTP method found in `{router_expr}`; extend the route parser"
            );
            for m in methods {
                routes.insert((m, path.clone()));
            }
            from = open + args.len();
        }
    }
    routes
}

/// Every (method, path) of the document.
fn documented_routes(doc: &Value) -> Routes {
    let mut routes = Routes::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                routes.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn list(routes: &Routes) -> String {
    routes
        .iter()
        .map(|(m, p)| format!("  {m} {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_route_parser_reads_the_shapes_the_routers_use() {
    let bindings = string_bindings("let env = \"/a/{p}\";\npub const LEGACY: &str = \"/legacy\";");
    assert_eq!(
        path_of("&format!(\"{env}/b/{{id}}\")", &bindings, "t"),
        "/a/{p}/b/{id}"
    );
    assert_eq!(path_of("LEGACY", &bindings, "t"), "/legacy");
    assert_eq!(
        methods_in("get(list).post(create).layer(x)"),
        BTreeSet::from(["GET".to_string(), "POST".to_string()])
    );
    assert_eq!(
        methods_in("large_bodies(post(metrics))"),
        BTreeSet::from(["POST".to_string()])
    );
    assert!(methods_in("forget(x).target(y)").is_empty());
    assert_eq!(
        split_args("\"/a\", get(b).put(c)"),
        ("\"/a\"", "get(b).put(c)")
    );
}

#[tokio::test]
async fn the_openapi_document_covers_every_route_and_nothing_else() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();

    // No token needed: the document describes, it serves no data.
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();

    // OpenAPI 3.1, readable as such.
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi {version}");
    let spec = oas3::from_json(&text).expect("the document parses as OpenAPI 3.1");
    assert!(!spec.paths.as_ref().unwrap().is_empty());
    validate_with_python(&text);

    let served = registered_routes();
    let documented = documented_routes(&doc);
    assert!(
        served.len() > 100,
        "the parser found only {} routes",
        served.len()
    );
    let undocumented: Routes = served.difference(&documented).cloned().collect();
    let not_served: Routes = documented.difference(&served).cloned().collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/openapi.json (add #[utoipa::path] and list the handler in src/http/openapi.rs):\n{}",
        list(&undocumented)
    );
    assert!(
        not_served.is_empty(),
        "documented in /api/openapi.json but not served:\n{}",
        list(&not_served)
    );

    // Every operation: a declared tag, a summary, responses, each templated parameter declared,
    // a unique operation id, and security schemes that exist.
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let at = format!("{} {path}", m.to_uppercase());
            let op_tags = op["tags"]
                .as_array()
                .unwrap_or_else(|| panic!("{at}: no tag"));
            for t in op_tags {
                assert!(
                    tags.contains(t.as_str().unwrap()),
                    "{at}: undeclared tag {t}"
                );
            }
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}: no summary"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{at}: no responses");
            for (status, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{at}: response {status} has no description"
                );
            }
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                let declared = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["in"] == "path" && p["name"] == name && p["required"] == true)
                });
                assert!(declared, "{at}: path parameter {name} is not declared");
            }
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(
                ids.insert(id.clone()),
                "{at}: operationId {id} is not unique"
            );
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        schemes.contains_key(scheme),
                        "{at}: unknown scheme {scheme}"
                    );
                }
            }
        }
    }

    // Admin routes need the admin token; the public ones need none.
    let security = |m: &str, p: &str| doc["paths"][p][m]["security"].clone();
    assert_eq!(
        security("get", "/api/admin/projects"),
        serde_json::json!([{"unleash": []}])
    );
    assert_eq!(
        security("get", "/api/v2/monitors"),
        serde_json::json!([{"bearer": []}])
    );
    assert_eq!(security("get", "/health"), Value::Null);
    assert_eq!(security("get", "/status/{slug}"), Value::Null);

    // Documented paths exist: each answers something other than 404.
    for (path, token) in [
        ("/api/admin/projects", Some(ADMIN)),
        ("/api/admin/events", Some(ADMIN)),
        ("/api/v2/monitors", Some(ADMIN)),
        ("/api/client/features", Some(CLIENT_DEV)),
        ("/health", None),
        ("/ready", None),
        ("/api/docs", None),
    ] {
        assert!(documented.contains(&("GET".to_string(), path.to_string())));
        let mut rb = app.client.get(app.url(path));
        if let Some(t) = token {
            rb = rb.header("Authorization", t);
        }
        let status = rb.send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "GET {path}");
    }
    // Without a token a documented admin route is refused, not missing.
    let status = app
        .client
        .get(app.url("/api/admin/segments"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    app.stop().await;
}

/// The reference validator (openapi-spec-validator, Python) when it is installed; says so
/// on stderr when it is not.
fn validate_with_python(document: &str) {
    let script = "import json, sys\n\
        from openapi_spec_validator import validate\n\
        validate(json.load(sys.stdin))\n";
    let child = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output();
    if !child.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "openapi-spec-validator (Python) is not installed: the document was only parsed, not validated by it"
        );
        return;
    }
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_docs_page_and_its_files_are_served_without_a_token_from_this_origin_only() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for (path, content_type) in [
        ("/api/docs", "text/html"),
        ("/api/docs/docs.js", "text/javascript"),
        ("/api/docs/docs.css", "text/css"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let h = response.headers();
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} refers to another host"
        );
    }
    let html = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/api/docs/docs.js") && html.contains("/api/docs/docs.css"));
    // No inline code: every script is a file of this origin, and there is no style element.
    for tag in html.split("<script").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        assert!(
            tag.contains("src=\"/api/docs/"),
            "inline script: <script{tag}>"
        );
    }
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "inline style"
    );
    let js = app
        .client
        .get(app.url("/api/docs/docs.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("/api/openapi.json"));
    app.stop().await;
}
