// The API reference page (/api/docs): reads /api/openapi.json from this server and lists
// every operation by tag, with its parameters, request body, responses and a curl line.
// Everything is built with DOM calls and textContent, never innerHTML: the document's
// strings are shown, not interpreted.

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];
const MAX_DEPTH = 6;

let doc = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The little Markdown the document uses: `code`, **bold**, and paragraphs. */
function inline(text) {
  const out = [];
  const parts = String(text).split(/(`[^`]*`|\*\*[^*]+\*\*)/);
  for (const part of parts) {
    if (!part) continue;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) {
      out.push(el("code", { text: part.slice(1, -1) }));
    } else if (part.startsWith("**") && part.endsWith("**") && part.length > 4) {
      out.push(el("strong", { text: part.slice(2, -2) }));
    } else {
      out.push(document.createTextNode(part));
    }
  }
  return out;
}

function prose(text) {
  if (!text) return [];
  return String(text)
    .split(/\n\s*\n/)
    .map((p) => el("p", {}, inline(p.replace(/\s*\n\s*/g, " ").trim())));
}

function resolve(schema) {
  let seen = 0;
  while (schema && schema.$ref && seen < 10) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    schema = doc.components?.schemas?.[name];
    seen += 1;
  }
  return schema || {};
}

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.replace("#/components/schemas/", "") : null;
}

/** A schema's type as one short string: `string`, `integer (int64)`, `array of Tag`, … */
function typeOf(schema, depth = 0) {
  if (!schema) return "any";
  const name = refName(schema);
  if (name) return name;
  if (depth > MAX_DEPTH) return "…";
  for (const key of ["oneOf", "anyOf"]) {
    if (schema[key]) {
      const options = schema[key].map((s) => typeOf(s, depth + 1)).filter((t) => t !== "null");
      const nullable = schema[key].some((s) => s.type === "null");
      return options.join(" | ") + (nullable ? " | null" : "");
    }
  }
  let types = schema.type;
  if (Array.isArray(types)) types = types.join(" | ");
  if (!types) types = schema.properties ? "object" : "any";
  if (String(types).startsWith("array") && schema.items) {
    return String(types).replace("array", `array of ${typeOf(schema.items, depth + 1)}`);
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    return `map of ${typeOf(schema.additionalProperties, depth + 1)}`;
  }
  let text = String(types);
  if (schema.format) text += ` (${schema.format})`;
  if (schema.enum) text += `: ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  return text;
}

/** The fields of an object schema, nested, as a list. */
function schemaTree(schema, depth = 0, seen = new Set()) {
  const name = refName(schema);
  if (name) {
    if (seen.has(name) || depth > MAX_DEPTH) return null;
    seen = new Set(seen).add(name);
  }
  const s = resolve(schema);
  const items = [];
  const props = s.properties || {};
  const required = new Set(s.required || []);
  for (const [prop, sub] of Object.entries(props)) {
    const resolved = resolve(sub);
    const li = el(
      "li",
      {},
      el("span", { class: "prop", text: prop }),
      required.has(prop) ? el("span", { class: "req", text: "required" }) : null,
      " ",
      el("span", { class: "type", text: typeOf(sub) }),
    );
    const description = sub.description || resolved.description;
    if (description) li.append(" — ", el("span", { class: "desc" }, inline(description)));
    const inner = nestedFields(sub, depth + 1, seen);
    if (inner) li.append(inner);
    items.push(li);
  }
  return items.length ? el("ul", {}, items) : null;
}

function nestedFields(schema, depth, seen) {
  if (depth > MAX_DEPTH) return null;
  const s = resolve(schema);
  if (s.properties) return schemaTree(schema, depth, seen);
  if (s.items) return nestedFields(s.items, depth + 1, seen);
  for (const key of ["oneOf", "anyOf"]) {
    if (s[key]) {
      const objects = s[key].filter((o) => resolve(o).properties);
      if (objects.length === 1) return schemaTree(objects[0], depth, seen);
    }
  }
  return null;
}

function schemaBlock(schema) {
  if (!schema) return null;
  const box = el("div", { class: "schema" });
  const s = resolve(schema);
  box.append(el("div", {}, el("span", { class: "type", text: typeOf(schema) })));
  if (refName(schema) && s.description) box.append(...prose(s.description));
  const tree = nestedFields(schema, 0, new Set());
  if (tree) box.append(tree);
  return box;
}

function exampleOf(media) {
  if (!media) return undefined;
  if (media.example !== undefined) return [["Example", media.example]];
  if (media.examples) {
    return Object.entries(media.examples).map(([name, ex]) => [name, ex.value]);
  }
  const s = resolve(media.schema);
  if (s.example !== undefined) return [["Example", s.example]];
  return undefined;
}

function codeBlock(text) {
  const pre = el("pre", {});
  const copy = el("button", { class: "copy", type: "button", text: "copy" });
  copy.addEventListener("click", () => {
    navigator.clipboard?.writeText(text).then(
      () => (copy.textContent = "copied"),
      () => (copy.textContent = "select and copy"),
    );
  });
  pre.append(copy, el("code", { text }));
  return pre;
}

function examples(media) {
  const list = exampleOf(media);
  if (!list) return [];
  return list.flatMap(([label, value]) => [
    el("div", { class: "example-label", text: label }),
    codeBlock(typeof value === "string" ? value : JSON.stringify(value, null, 2)),
  ]);
}

function pathNode(path) {
  const node = el("span", { class: "path" });
  for (const part of path.split(/(\{[^}]+\})/)) {
    if (!part) continue;
    node.append(part.startsWith("{") ? el("span", { class: "param", text: part }) : part);
  }
  return node;
}

/** How each security scheme is named in the list of operations. */
const SCHEME_LABELS = {
  unleash: "token",
  bearer: "Bearer token",
  ofrepApiKey: "X-API-Key",
  webhookSecret: "secret header",
  webhookBasic: "Basic",
};

function securityLabel(op) {
  const requirements = op.security || [];
  if (!requirements.length) return el("span", { class: "lock open", text: "no token" });
  const names = requirements.map((r) => Object.keys(r)[0]);
  const labels = names.map((n) => (n ? SCHEME_LABELS[n] || n : "none"));
  return el("span", { class: "lock", title: `Authentication: ${labels.join(" or ")}`, text: labels.join(" / ") });
}

function securitySection(op) {
  const requirements = op.security || [];
  const section = [el("h3", { text: "Authentication" })];
  if (!requirements.length) {
    section.push(el("p", { text: "None: this route answers without a token." }));
    return section;
  }
  const list = el("ul", {});
  for (const requirement of requirements) {
    const name = Object.keys(requirement)[0];
    if (!name) {
      list.append(el("li", { text: "or none" }));
      continue;
    }
    const scheme = doc.components?.securitySchemes?.[name] || {};
    const how =
      scheme.type === "apiKey"
        ? `${scheme.name} header`
        : scheme.type === "http"
          ? `HTTP ${scheme.scheme}`
          : scheme.type || "";
    list.append(
      el("li", {}, el("code", { text: name }), ` (${how})`, scheme.description ? " — " : "", inline(scheme.description || "")),
    );
  }
  section.push(list);
  return section;
}

function parametersSection(params) {
  if (!params || !params.length) return [];
  const rows = params.map((p) =>
    el(
      "tr",
      {},
      el("td", { class: "name" }, el("code", { text: p.name }), p.required ? el("span", { class: "req", text: "required" }) : null),
      el("td", { text: p.in }),
      el("td", { class: "type", text: typeOf(p.schema) }),
      el("td", {}, inline(p.description || "")),
    ),
  );
  return [
    el("h3", { text: "Parameters" }),
    el("table", {}, el("thead", {}, el("tr", {}, ["Name", "In", "Type", "Description"].map((h) => el("th", { text: h })))), el("tbody", {}, rows)),
  ];
}

function bodySection(body) {
  if (!body) return [];
  const out = [el("h3", { text: body.required ? "Request body" : "Request body (optional)" })];
  out.push(...prose(body.description));
  for (const [type, media] of Object.entries(body.content || {})) {
    out.push(el("div", {}, el("span", { class: "ctype", text: type })));
    const block = schemaBlock(media.schema);
    if (block) out.push(block);
    out.push(...examples(media));
  }
  return out;
}

function responsesSection(responses) {
  const out = [el("h3", { text: "Responses" })];
  const codes = Object.keys(responses || {}).sort();
  for (const code of codes) {
    const r = responses[code];
    const box = el("div", { class: `response s${code[0]}` });
    const head = el("div", {}, el("span", { class: "status-code", text: code }), inline(r.description || ""));
    box.append(head);
    const error = Number(code) >= 400;
    for (const [type, media] of Object.entries(r.content || {})) {
      head.append(el("span", { class: "ctype", text: type }));
      const s = media.schema;
      const name = refName(s);
      if (error && name) {
        // Errors share a few shapes: name it, with a link, rather than spelling it out each time.
        head.append(" ", el("a", { href: `#schema-${name}`, class: "type", text: name }));
        if (media.example !== undefined) box.append(...examples({ example: media.example }));
        continue;
      }
      const trivial = s && !name && resolve(s).type === "object" && !resolve(s).properties;
      if (s && !trivial) box.append(schemaBlock(s));
      box.append(...examples(media));
    }
    out.push(box);
  }
  return out;
}

function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

/** A curl line for the operation, against this server. */
function curl(method, path, op) {
  const parts = ["curl"];
  if (method !== "get") parts.push(`-X ${method.toUpperCase()}`);
  parts.push(`"${location.origin}${path}"`);
  const schemes = (op.security || []).map((r) => Object.keys(r)[0]).filter(Boolean);
  if (schemes.includes("unleash")) parts.push(`-H "Authorization: $TOKEN"`);
  else if (schemes.includes("bearer")) parts.push(`-H "Authorization: Bearer $TOKEN"`);
  const json = op.requestBody?.content?.["application/json"];
  if (json) {
    parts.push(`-H "Content-Type: application/json"`);
    const ex = exampleOf(json);
    parts.push(`-d ${shellQuote(ex ? JSON.stringify(ex[0][1]) : "{}")}`);
  }
  return parts.join(" \\\n  ");
}

function operation(method, path, op) {
  const details = el("details", { class: "op", id: op.operationId || `${method}-${path}` });
  details.dataset.search = [method, path, op.summary, op.description, op.operationId, ...(op.tags || [])]
    .join(" ")
    .toLowerCase();
  const summary = el(
    "summary",
    {},
    el("span", { class: `method ${method}`, text: method.toUpperCase() }),
    pathNode(path),
    el("span", { class: "op-summary" }, inline(op.summary || "")),
    securityLabel(op),
  );
  details.append(summary);
  // The body is built when first opened: the page stays fast with every operation listed.
  details.addEventListener(
    "toggle",
    () => {
      if (!details.open || details.dataset.built) return;
      details.dataset.built = "1";
      const body = el("div", { class: "op-body" });
      body.append(...prose(op.description));
      body.append(el("div", { class: "opid" }, "operationId ", el("code", { text: op.operationId || "" })));
      body.append(...securitySection(op));
      body.append(...parametersSection(op.parameters));
      body.append(...bodySection(op.requestBody));
      body.append(...responsesSection(op.responses));
      body.append(el("h3", { text: "Try it" }), codeBlock(curl(method, path, op)));
      details.append(body);
    },
  );
  return details;
}

function slug(text) {
  return "tag-" + String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function render() {
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  main.replaceChildren();
  nav.replaceChildren();
  document.getElementById("version").textContent = `v${doc.info?.version || "?"} · OpenAPI ${doc.openapi}`;

  const intro = el("section", { class: "intro" }, el("h1", { text: doc.info?.title || "API" }), prose(doc.info?.description));
  intro.append(
    el(
      "p",
      {},
      inline(
        "Admin routes take an admin token as `Authorization: <token>`; Better Stack-shaped routes (`/api/v2`) as `Authorization: Bearer <token>`. The curl lines read the token from `$TOKEN`.",
      ),
    ),
  );
  main.append(intro);

  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const name = (op.tags && op.tags[0]) || "Other";
      if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
      byTag.get(name).ops.push({ method, path, op });
    }
  }

  nav.append(el("h2", { text: "Areas" }));
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    ops.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : METHODS.indexOf(a.method) - METHODS.indexOf(b.method)));
    const id = slug(tag.name);
    const section = el("section", { class: "tag", "data-tag": tag.name }, el("h2", { id, text: tag.name }), prose(tag.description));
    for (const { method, path, op } of ops) section.append(operation(method, path, op));
    main.append(section);
    nav.append(el("a", { href: `#${id}`, "data-tag": tag.name }, el("span", { text: tag.name }), el("span", { class: "count", text: String(ops.length) })));
  }

  const schemas = doc.components?.schemas || {};
  if (Object.keys(schemas).length) {
    const section = el("section", { class: "tag", "data-tag": "Schemas" }, el("h2", { id: "schemas", text: "Schemas" }));
    for (const name of Object.keys(schemas).sort()) {
      const details = el("details", { class: "op", id: `schema-${name}` });
      details.dataset.search = `schema ${name} ${schemas[name].description || ""}`.toLowerCase();
      details.append(el("summary", {}, el("span", { class: "path", text: name })), el("div", { class: "op-body" }, schemaBlock({ $ref: `#/components/schemas/${name}` }), examples({ schema: { $ref: `#/components/schemas/${name}` } })));
      section.append(details);
    }
    main.append(section);
    nav.append(el("h2", { text: "Reference" }), el("a", { href: "#schemas" }, el("span", { text: "Schemas" }), el("span", { class: "count", text: String(Object.keys(schemas).length) })));
  }
  main.append(el("p", { id: "empty", class: "empty hidden", text: "Nothing matches." }));
}

function applySearch() {
  const words = document.getElementById("search").value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const section of document.querySelectorAll("section.tag")) {
    let inSection = 0;
    for (const op of section.querySelectorAll("details.op")) {
      const match = words.every((w) => op.dataset.search.includes(w));
      op.classList.toggle("hidden", !match);
      if (match) inSection += 1;
    }
    section.classList.toggle("hidden", inSection === 0);
    const link = document.querySelector(`.nav a[data-tag="${CSS.escape(section.dataset.tag)}"]`);
    if (link) {
      link.classList.toggle("hidden", inSection === 0);
      const count = link.querySelector(".count");
      if (count) count.textContent = String(inSection);
    }
    shown += inSection;
  }
  document.getElementById("empty")?.classList.toggle("hidden", shown > 0);
}

function openFromHash() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return;
  const target = document.getElementById(id);
  if (target && target.tagName === "DETAILS") {
    target.open = true;
    target.scrollIntoView({ block: "start" });
  }
}

async function main() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`GET /api/openapi.json answered ${response.status}`);
    doc = await response.json();
  } catch (e) {
    status.textContent = `The API document could not be loaded: ${e.message}`;
    status.classList.add("error");
    return;
  }
  render();
  const search = document.getElementById("search");
  search.addEventListener("input", applySearch);
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    } else if (e.key === "Escape" && document.activeElement === search) {
      search.value = "";
      applySearch();
    }
  });
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
}

main();
