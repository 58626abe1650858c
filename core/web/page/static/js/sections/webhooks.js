// Webhooks: an HTTP call per event, signed as Standard Webhooks. The server makes the secret
// and answers it once (generated_secret) on create and on Rotate; it is shown here that once.

import { h, message } from "../dom.js";
import { badge, checkField, eventField, numberField, targetSection, textField, when } from "./targets.js";

function showSecret(ui, name, secret, rotated) {
  ui.show(h("div", { class: "card", role: "status", id: "secret-once" },
    message(`${rotated ? "New secret" : "Secret"} of ${name}. Copy it now: it is shown only this once.`, "ok"),
    h("p", { class: "secret", tabindex: "0", "aria-label": "Webhook secret" }, secret),
    h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(secret) }, "Copy")));
}

function headersField(record) {
  const text = Object.entries(record?.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  const control = h("textarea", { id: "t-headers", name: "headers", spellcheck: "false", value: text, rows: 3 });
  return {
    name: "headers", label: "Extra headers", control,
    help: "One per line, as Name: value. Values are shown masked (****); leave a masked value to keep it.",
    read: (c) => {
      const headers = {};
      for (const line of c.value.split("\n").map((x) => x.trim()).filter(Boolean)) {
        const at = line.indexOf(":");
        if (at < 1) throw new Error(`Extra headers: "${line}" is not Name: value.`);
        headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return headers;
    },
  };
}

function methodField(record) {
  const control = h("select", { id: "t-method", name: "method" },
    ["POST", "PUT"].map((m) => h("option", { value: m, selected: (record?.method || "POST") === m }, m)));
  return { name: "method", label: "Method", control, read: (c) => c.value };
}

export default targetSection({
  title: "Webhooks",
  path: "/webhooks",
  listKey: "webhooks",
  noun: "webhook",
  logFilter: "webhook_id",
  columns: [
    { label: "Name", cell: (r) => r.name },
    { label: "Event", cell: (r) => r.event_name },
    { label: "URL", cell: (r) => h("span", { class: "mono" }, `${r.method} ${r.url}`) },
    {
      label: "Enabled",
      cell: (r) => (r.enabled ? badge("enabled", "ok")
        : [badge("disabled", "off"), r.disabled_reason ? h("div", { class: "help" }, r.disabled_reason) : null]),
    },
    {
      label: "Last status",
      cell: (r) => (!r.last_triggered_at ? badge("never sent", "off")
        : [badge(r.last_status_code ? `HTTP ${r.last_status_code}` : "no answer",
          r.last_error || !(r.last_status_code >= 200 && r.last_status_code < 300) ? "bad" : "ok"),
        r.last_error ? h("div", { class: "help" }, r.last_error) : null]),
    },
    { label: "Triggered", num: true, cell: (r) => String(r.trigger_count ?? 0) },
    { label: "Failures in a row", num: true, cell: (r) => String(r.consecutive_failures ?? 0) },
    { label: "Last sent", cell: (r) => when(r.last_triggered_at) },
  ],
  fields: (r, events) => [
    textField("name", "Name", r?.name, { required: true, maxlength: 200 }),
    eventField(r?.event_name, events, true),
    textField("url", "URL", r?.url, { required: true, type: "url", placeholder: "https://example.org/hook" },
      "Called with the event as JSON, signed with the webhook's secret (headers webhook-id, webhook-timestamp, webhook-signature)."),
    methodField(r),
    numberField("retry_count", "Retries after a failure", r?.retry_count ?? 3, 0, 10),
    numberField("timeout_seconds", "Timeout (seconds)", r?.timeout_seconds ?? 10, 1, 300),
    headersField(r),
    checkField("enabled", "Enabled", r ? r.enabled : true),
  ],
  afterSave: (saved, sent, ui, created) => {
    if (created && saved.generated_secret) showSecret(ui, saved.name, saved.generated_secret, false);
  },
  extraActions: (record, ui) => [
    h("button", {
      type: "button", "aria-label": `Rotate the secret of ${record.name}`,
      onclick: async () => {
        if (!window.confirm(`Make a new secret for "${record.name}"? The receiver must then use the new one.`)) return;
        try {
          const saved = await ui.api.put(`/webhooks/${record.id}`, { secret: "" });
          showSecret(ui, record.name, saved.generated_secret, true);
          await ui.reload();
        } catch (error) {
          ui.showMessage(error.message, "error");
        }
      },
    }, "Rotate secret"),
  ],
});
