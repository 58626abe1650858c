// Notifications: targets sent through Apprise (discord://, tgram://, ntfys://, json://...).
// The Apprise URL holds the service's credentials, so the server always answers it masked
// (scheme://****); sending the mask back on Save keeps the stored URL.

import { h } from "../dom.js";
import { badge, checkField, numberField, targetSection, textField, when } from "./targets.js";

const OPS = ["not in", "contains", "==", "!=", "<=", ">=", "<", ">", "in"];

function eventsField(record, events) {
  const chosen = new Set(record?.events || ["*"]);
  const control = h("select", { id: "t-events", name: "events", multiple: true, size: Math.min(8, events.length + 1) },
    h("option", { value: "*", selected: chosen.has("*") }, "* (every event but hook_executed)"),
    events.map((e) => h("option", { value: e.name, selected: chosen.has(e.name) }, `${e.name} — ${e.label}`)));
  return {
    name: "events", label: "Events", control,
    help: "The events that send a notification (Ctrl or Shift to choose several). None chosen means *.",
    read: (c) => {
      const values = [...c.selectedOptions].map((o) => o.value);
      return values.length ? values : ["*"];
    },
  };
}

function templateField(name, label, value, help) {
  const control = h("textarea", { id: `t-${name}`, name, spellcheck: "false", rows: 2, value: value ?? "" });
  return { name, label, help, control, read: (c) => c.value };
}

function showValue(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function filtersField(record) {
  const text = (record?.filters || []).map((f) => `${f.field} ${f.op} ${showValue(f.value)}`).join("\n");
  const control = h("textarea", { id: "t-filters", name: "filters", spellcheck: "false", rows: 2, value: text });
  return {
    name: "filters", label: "Filters", control,
    help: `One per line, as payload_key operator value (${OPS.join(", ")}); every line must hold. `
      + "The value is JSON when it reads as JSON (350, true, [\"de\", \"en\"]), else text.",
    read: (c) => c.value.split("\n").map((x) => x.trim()).filter(Boolean).map((line) => {
      const match = line.match(/^(\S+)\s+(not in|contains|==|!=|<=|>=|<|>|in)\s+(.*)$/);
      if (!match) throw new Error(`Filters: "${line}" is not payload_key operator value.`);
      let value = match[3].trim();
      try {
        value = JSON.parse(value);
      } catch { /* plain text */ }
      return { field: match[1], op: match[2], value };
    }),
  };
}

export default targetSection({
  title: "Notifications",
  path: "/notifications",
  listKey: "notifications",
  noun: "notification target",
  columns: [
    { label: "Name", cell: (r) => r.name },
    { label: "Events", cell: (r) => r.events.join(", ") },
    { label: "URL", cell: (r) => h("span", { class: "mono" }, r.url) },
    {
      label: "Enabled",
      cell: (r) => (r.enabled ? badge("enabled", "ok")
        : [badge("disabled", "off"), r.disabled_reason ? h("div", { class: "help" }, r.disabled_reason) : null]),
    },
    {
      label: "Last status",
      cell: (r) => (!r.last_triggered_at ? badge("never sent", "off")
        : [badge(r.last_error ? "failed" : "sent", r.last_error ? "bad" : "ok"),
          r.last_error ? h("div", { class: "help" }, r.last_error) : null]),
    },
    { label: "Triggered", num: true, cell: (r) => String(r.trigger_count ?? 0) },
    { label: "Failures in a row", num: true, cell: (r) => String(r.consecutive_failures ?? 0) },
    { label: "Last sent", cell: (r) => when(r.last_triggered_at) },
  ],
  fields: (r, events) => [
    textField("name", "Name", r?.name, { required: true, maxlength: 200 }),
    textField("url", "Apprise URL", r?.url, { required: true, maxlength: 2048, placeholder: "ntfys://topic" },
      r ? "Shown masked; leave the mask to keep the stored URL, or type a new one."
        : "Any Apprise URL (discord://, tgram://, ntfys://, mailto://, json://...). It holds credentials: it is shown masked from now on."),
    eventsField(r, events),
    templateField("title_template", "Title template", r?.title_template,
      "Jinja2 with event_label, event_name, id and payload.<key>. Empty: the event's label."),
    templateField("body_template", "Body template", r?.body_template, "Jinja2 as the title. Empty: a summary."),
    filtersField(r),
    numberField("retry_count", "Retries after a failure", r?.retry_count ?? 3, 0, 10),
    numberField("timeout_seconds", "Timeout (seconds)", r?.timeout_seconds ?? 10, 1, 300),
    checkField("enabled", "Enabled", r ? r.enabled : true),
  ],
});
