// Small DOM helpers. Everything is built with createElement (never innerHTML), so text from the
// server is always text, and nothing needs an inline style attribute (the CSP forbids them):
// `style: {width: "40%"}` goes through the CSSOM, which the CSP allows.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "required" || key === "multiple") {
      el[key] = Boolean(value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `h("button", {class: "btn", onClick: f}, "Save")` */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs && (attrs instanceof Node || typeof attrs !== "object" || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// --------------------------------------------------------------------------- icons
// Outline icons on a 24×24 grid (paths in the style of Feather, drawn with stroke).
const ICONS = {
  flag: ["M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z", "M4 22v-7"],
  activity: ["M22 12h-4l-3 9L9 3l-3 9H2"],
  alert: ["M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z", "M12 9v4", "M12 17h.01"],
  shield: ["M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"],
  bell: ["M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9", "M13.73 21a2 2 0 0 1-3.46 0"],
  list: ["M8 6h13", "M8 12h13", "M8 18h13", "M3 6h.01", "M3 12h.01", "M3 18h.01"],
  key: ["M21 2l-2 2m-7.61 7.61a5.5 5.5 0 1 1-7.78 7.78 5.5 5.5 0 0 1 7.78-7.78zm0 0L15.5 7.5m0 0 3 3L22 7l-3-3m-3.5 3.5L19 4"],
  logout: ["M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4", "M16 17l5-5-5-5", "M21 12H9"],
  menu: ["M3 12h18", "M3 6h18", "M3 18h18"],
  plus: ["M12 5v14", "M5 12h14"],
  x: ["M18 6 6 18", "M6 6l12 12"],
  chevron: ["M9 18l6-6-6-6"],
  back: ["M15 18l-6-6 6-6"],
  copy: ["M20 9h-9a2 2 0 0 0-2 2v9a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2v-9a2 2 0 0 0-2-2z", "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"],
  search: ["M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z", "M21 21l-4.35-4.35"],
  pause: ["M6 4h4v16H6z", "M14 4h4v16h-4z"],
  play: ["M5 3l14 9-14 9V3z"],
  trash: ["M3 6h18", "M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6", "M10 11v6", "M14 11v6", "M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2"],
  edit: ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4L16.5 3.5z"],
  send: ["M22 2 11 13", "M22 2l-7 20-4-9-9-4 20-7z"],
  info: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M12 16v-4", "M12 8h.01"],
  power: ["M18.36 6.64a9 9 0 1 1-12.73 0", "M12 2v10"],
};

export function icon(name, cls = "icon") {
  return s(
    "svg",
    { class: cls, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false" },
    (ICONS[name] || []).map((d) => s("path", { d })),
  );
}

// --------------------------------------------------------------------------- feedback
export function toast(message, kind = "ok") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const el = h("div", { class: ["toast", `toast-${kind}`], role: kind === "error" ? "alert" : "status" }, message);
  region.append(el);
  setTimeout(() => el.classList.add("toast-out"), kind === "error" ? 6000 : 3500);
  setTimeout(() => el.remove(), kind === "error" ? 6400 : 3900);
}

/** A banner at the top of a form or page: `alertBox("error", "…")`. */
export function alertBox(kind, ...content) {
  return h("div", { class: ["alert", `alert-${kind}`], role: kind === "error" ? "alert" : "status" }, content);
}

export function spinner(label = "Loading…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), h("span", label));
}

/** Placeholder rows while a list loads. */
export function skeleton(rows = 4) {
  return h(
    "div",
    { class: "skeleton", role: "status", "aria-label": "Loading" },
    Array.from({ length: rows }, () => h("div", { class: "skeleton-row" })),
  );
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty" }, h("div", { class: "empty-title" }, title), text && h("p", text), action);
}

/** A status label that never relies on colour alone: a dot, and the word. */
export function pill(kind, label, attrs = {}) {
  return h("span", { class: ["pill", `pill-${kind}`], ...attrs }, h("span", { class: "dot", "aria-hidden": "true" }), label);
}

// --------------------------------------------------------------------------- dialogs
/**
 * A modal dialog (native <dialog>: focus is kept inside, Escape closes it).
 * `build(close)` returns the body; resolves with what `close(value)` was given.
 */
export function dialog(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const el = h("dialog", { class: ["dialog", wide && "dialog-wide"], "aria-labelledby": "dialog-title" });
    let done = false;
    const close = (value) => {
      if (done) return;
      done = true;
      el.close();
      el.remove();
      if (opener && opener.focus) opener.focus();
      resolve(value);
    };
    el.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(undefined);
    });
    el.addEventListener("click", (e) => {
      if (e.target === el) close(undefined);
    });
    mount(
      el,
      h(
        "div",
        { class: "dialog-head" },
        h("h2", { id: "dialog-title" }, title),
        h("button", { class: "btn-icon", type: "button", "aria-label": "Close", onClick: () => close(undefined) }, icon("x")),
      ),
      h("div", { class: "dialog-body" }, build(close)),
    );
    document.body.append(el);
    el.showModal();
    const first = el.querySelector("[autofocus], input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });
}

export function confirmDialog(title, text, { confirm = "Confirm", danger = false } = {}) {
  return dialog(title, (close) =>
    h(
      "div",
      h("p", { class: "dialog-text" }, text),
      h(
        "div",
        { class: "form-actions" },
        h("button", { class: "btn", type: "button", onClick: () => close(false) }, "Cancel"),
        h("button", { class: ["btn", danger ? "btn-danger" : "btn-primary"], type: "button", autofocus: true, onClick: () => close(true) }, confirm),
      ),
    ),
  ).then(Boolean);
}

// --------------------------------------------------------------------------- forms
let fieldSeq = 0;

/** A labelled field. `control` is an input/select/textarea (or a group); `hint` shows below. */
export function field(label, control, { hint, name, optional } = {}) {
  const id = control.id || `f${++fieldSeq}`;
  if (!control.id && control.matches && control.matches("input,select,textarea")) control.id = id;
  const error = h("div", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  const hintEl = hint ? h("div", { class: "field-hint", id: `${id}-hint` }, hint) : null;
  if (control.matches && control.matches("input,select,textarea")) {
    control.setAttribute("aria-describedby", [hintEl && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "));
  }
  return h(
    "div",
    { class: "field", dataset: { field: name || control.name || "" } },
    h("label", { for: control.id || id }, label, optional && h("span", { class: "optional" }, " (optional)")),
    control,
    hintEl,
    error,
  );
}

/** Marks fields as invalid: `errors` is `{fieldName: "message"}`. Returns true when there were any. */
export function showFieldErrors(form, errors) {
  for (const f of form.querySelectorAll(".field")) {
    f.classList.remove("invalid");
    const err = f.querySelector(".field-error");
    if (err) err.textContent = "";
    const input = f.querySelector("input,select,textarea");
    if (input) input.removeAttribute("aria-invalid");
  }
  let first = null;
  for (const [name, message] of Object.entries(errors || {})) {
    const f = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    if (!f) continue;
    f.classList.add("invalid");
    f.querySelector(".field-error").textContent = message;
    const input = f.querySelector("input,select,textarea");
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first) first.focus();
  return Object.keys(errors || {}).length > 0;
}

/** The form-level message slot: `formMessage(form, "error", text)`, or clears it. */
export function formMessage(form, kind, text) {
  let slot = form.querySelector(":scope > .form-message");
  if (!slot) {
    slot = h("div", { class: "form-message" });
    form.prepend(slot);
  }
  mount(slot, text ? alertBox(kind, text) : null);
  if (text && kind === "error") slot.scrollIntoView({ block: "nearest" });
}

export function select(name, options, value, attrs = {}) {
  return h(
    "select",
    { name, ...attrs },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: v, selected: String(v) === String(value) }, label);
    }),
  );
}

/** A button that shows it is busy while `fn` runs, and cannot be pressed twice. */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.classList.add("is-busy");
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.classList.remove("is-busy");
  }
}

export function copyButton(text, label = "Copy") {
  const b = h("button", { class: "btn btn-sm", type: "button" }, icon("copy"), h("span", label));
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast("Copied to the clipboard");
    } catch {
      toast("Select the text and copy it by hand", "error");
    }
  });
  return b;
}
