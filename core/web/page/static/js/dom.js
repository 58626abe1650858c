// Small DOM helpers: every element is built with h(), text always goes in as text (never
// as HTML), so nothing the server or an event sends can inject markup.

/** h("button", {class: "x", onclick: fn}, "text", child) -> HTMLElement */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "value" || name === "checked" || name === "selected") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A fresh id for label/for pairs. */
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: field("Name", h("input", {...}), "help text"). */
export function field(label, control, help) {
  const id = control.id || nextId();
  control.id = id;
  const helpId = help ? `${id}-help` : undefined;
  if (helpId) control.setAttribute("aria-describedby", helpId);
  return h("div", { class: "field" },
    h("label", { for: id }, label), control,
    help ? h("small", { id: helpId, class: "help" }, help) : null);
}

/** <select> of options [{value, label}] or strings. */
export function select(options, attrs = {}) {
  return h("select", attrs, options.map((o) => {
    const { value, label } = typeof o === "string" ? { value: o, label: o } : o;
    return h("option", { value, selected: String(value) === String(attrs.value ?? "") }, label);
  }));
}

/** A date-time string as local time, or "never". */
export function when(iso) {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Milliseconds for people. */
export function ms(value) {
  if (value === null || value === undefined) return "";
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

/** A status line: kind is "ok", "error" or "info". role=status so screen readers hear it. */
export function message(text, kind = "info") {
  return h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A table with a caption (for screen readers), a header row and body rows. */
export function table(caption, headers, rows, attrs = {}) {
  return h("table", attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows));
}

/** Pretty JSON in a <pre>. */
export function jsonBlock(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
