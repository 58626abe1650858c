// The delivery log: every run of a script hook and every webhook attempt, newest first,
// paged by cursor and filtered by target, event and outcome. A failed delivery can be sent
// again (same delivery id, so the receiver sees the same webhook-id).

import { ApiError } from "../api.js";
import { field, h, message, ms, replace, select, when } from "../dom.js";

const PAGE = 25;
const WATCH_SECONDS = 30;

export default {
  title: "Delivery log",
  async mount(root, { api, catalog, params }) {
    const [events, hooks, webhooks] = await Promise.all([
      catalog(),
      api.get("/hooks").then((x) => x.hooks),
      api.get("/webhooks").then((x) => x.webhooks),
    ]);
    const hookNames = new Map(hooks.map((x) => [x.id, x.name]));
    const webhookNames = new Map(webhooks.map((x) => [x.id, x.name]));
    const filters = {
      hook_id: select([{ value: "", label: "Any" }, ...hooks.map((x) => ({ value: x.id, label: x.name }))],
        { id: "log-hook", value: params.hook_id || "" }),
      webhook_id: select([{ value: "", label: "Any" }, ...webhooks.map((x) => ({ value: x.id, label: x.name }))],
        { id: "log-webhook", value: params.webhook_id || "" }),
      event_name: select([{ value: "", label: "Any" }, ...events.map((e) => e.name)],
        { id: "log-event", value: params.event_name || "" }),
      success: select([{ value: "", label: "Any" }, { value: "true", label: "Succeeded" }, { value: "false", label: "Failed" }],
        { id: "log-success", value: params.success || "" }),
    };
    const status = h("div", { "aria-live": "polite", id: "log-status" });
    const holder = h("div");
    const pageInfo = h("span", { class: "muted", id: "log-page" });
    const newer = h("button", { type: "button", id: "log-newer", onclick: () => { cursors.pop(); load(); } }, "← Newer");
    const older = h("button", { type: "button", id: "log-older", onclick: () => { cursors.push(nextCursor); load(); } }, "Older →");
    let cursors = [null];
    let nextCursor = null;
    let total = null;
    let stopped = false;
    let loads = 0; // only the latest load's answer is shown

    function query(extra = {}) {
      const q = { limit: PAGE, ...extra };
      for (const [name, control] of Object.entries(filters)) if (control.value) q[name] = control.value;
      return q;
    }

    async function load() {
      const cursor = cursors[cursors.length - 1];
      const mine = ++loads;
      let page;
      try {
        page = await api.get("/hooks/logs", query(cursor ? { cursor } : { include_total: "true" }));
      } catch (error) {
        if (mine === loads) replace(holder, message(error.message, "error"));
        return;
      }
      if (mine !== loads || stopped) return;
      if (!cursor) total = page.total;
      nextCursor = page.next_cursor;
      newer.disabled = cursors.length <= 1;
      older.disabled = !nextCursor;
      pageInfo.textContent = `Page ${cursors.length}${total !== null && total !== undefined ? ` · ${total} in all` : ""}`;
      render(page.logs);
    }

    function target(log) {
      if (log.webhook_id) return `webhook ${webhookNames.get(log.webhook_id) || `#${log.webhook_id} (deleted)`}`;
      if (log.hook_id) return `hook ${hookNames.get(log.hook_id) || `#${log.hook_id} (deleted)`}`;
      return log.hook_type || "";
    }

    function outcome(log) {
      if (log.success === null || log.success === undefined) return h("span", { class: "badge off" }, "unknown");
      return h("span", { class: `badge ${log.success ? "ok" : "bad"}` }, log.success ? "succeeded" : "failed");
    }

    function render(logs) {
      if (!logs.length) {
        replace(holder, h("p", { class: "muted" }, "No delivery matches."));
        return;
      }
      const rows = [];
      for (const log of logs) {
        const detailRow = h("tr", { class: "log-detail", hidden: true }, h("td", { colspan: 8 }, h("pre", {},
          [log.error && `error: ${log.error}`, log.stdout && `stdout:\n${log.stdout}`, log.stderr && `stderr:\n${log.stderr}`]
            .filter(Boolean).join("\n\n") || "No output.")));
        const toggle = h("button", { type: "button", "aria-expanded": "false", "aria-label": `Details of log ${log.id}` }, "Details");
        toggle.addEventListener("click", () => {
          detailRow.hidden = !detailRow.hidden;
          toggle.setAttribute("aria-expanded", String(!detailRow.hidden));
        });
        const retry = log.delivery_id && log.success === false
          ? h("button", { type: "button", class: "primary", "aria-label": `Retry delivery ${log.delivery_id}`,
            onclick: (e) => redeliver(log, e.target) }, "Retry")
          : null;
        rows.push(h("tr", { dataset: { id: log.id, delivery: log.delivery_id || "", success: String(log.success) } },
          h("td", {}, when(log.triggered_at)),
          h("td", {}, target(log)),
          h("td", {}, log.event_name),
          h("td", {}, outcome(log)),
          h("td", { class: "num" }, log.status_code ? `HTTP ${log.status_code}` : log.exit_code !== null ? `exit ${log.exit_code}` : ""),
          h("td", { class: "num" }, ms(log.duration_ms)),
          h("td", { class: "mono" }, log.delivery_id ? log.delivery_id : h("span", { class: "muted" }, "test run")),
          h("td", {}, h("div", { class: "actions" }, toggle, retry))), detailRow);
      }
      const headers = ["When", "Target", "Event", "Result", "Code", "Duration", "Delivery id", "Actions"];
      replace(holder, h("table", { id: "log-table" },
        h("caption", {}, "Deliveries, newest first"),
        h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows)));
    }

    async function redeliver(log, button) {
      button.disabled = true;
      try {
        await api.post(`/deliveries/${encodeURIComponent(log.delivery_id)}/redeliver`);
      } catch (error) {
        button.disabled = false;
        const text = error instanceof ApiError && error.status === 404
          ? `Delivery ${log.delivery_id} is no longer kept, so it cannot be sent again.`
          : error instanceof ApiError && error.status === 409
            ? `Delivery ${log.delivery_id} cannot be sent again now: ${error.message}`
            : error.message;
        replace(status, message(text, "error"));
        return;
      }
      replace(status, message(`Delivery ${log.delivery_id} is queued again; waiting for its result…`, "info"));
      const deadline = Date.now() + WATCH_SECONDS * 1000;
      while (!stopped && Date.now() < deadline) {
        await new Promise((resolve) => { setTimeout(resolve, 1000); });
        let rows = [];
        try {
          rows = (await api.get("/hooks/logs", { delivery_id: log.delivery_id, limit: 5 })).logs;
        } catch { continue; }
        const latest = rows.find((x) => x.id > log.id);
        if (latest) {
          const code = latest.status_code ? ` (HTTP ${latest.status_code})` : "";
          replace(status, message(`Delivery ${log.delivery_id} ${latest.success ? "succeeded" : "failed again"} on retry${code}.`,
            latest.success ? "ok" : "error"));
          cursors = [null];
          await load();
          return;
        }
      }
      if (!stopped) replace(status, message(`No result yet for delivery ${log.delivery_id}; refresh later.`, "info"));
    }

    const form = h("form", { class: "card row", "aria-label": "Filters", onsubmit: (e) => { e.preventDefault(); cursors = [null]; load(); } },
      field("Script hook", filters.hook_id), field("Webhook", filters.webhook_id),
      field("Event", filters.event_name), field("Result", filters.success),
      h("button", { type: "submit", class: "primary" }, "Show"));
    for (const control of Object.values(filters)) control.addEventListener("change", () => { cursors = [null]; load(); });
    root.append(form, status, h("div", { class: "pager" }, newer, pageInfo, older,
      h("button", { type: "button", onclick: () => { cursors = [null]; load(); } }, "Refresh")), holder);
    await load();
    return () => { stopped = true; };
  },
};
