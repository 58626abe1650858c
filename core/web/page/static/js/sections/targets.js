// The shared section of script hooks and webhooks: list, create, edit, enable/disable,
// delete and Test (run once now; status, output and duration at once). hooks.js and
// webhooks.js describe their kind: API path, columns and form fields.

import { field, h, message, ms, replace, select, when } from "../dom.js";

/** A badge for a boolean-ish state. */
export function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

/**
 * targetSection(kind) -> a section. kind: {title, path, listKey, noun, logFilter, columns:
 * [{label, cell(record) -> node|string, num?}], fields(record, events) -> [{name, control,
 * label, help, read(control) -> value}], afterSave?(saved, sent, ui), extraActions?(record, ui)}
 * logFilter is optional: without it, no Log button.
 */
export function targetSection(kind) {
  return {
    title: kind.title,
    async mount(root, ctx) {
      const { api, catalog, navigate } = ctx;
      const events = await catalog();
      const status = h("div", { "aria-live": "polite" });
      const formHolder = h("div");
      const tableHolder = h("div");
      let records = [];

      const ui = {
        api, status, reload, showMessage(text, kind_ = "ok") { replace(status, message(text, kind_)); },
        show(node) { replace(status, node); },
      };

      async function reload() {
        try {
          records = (await api.get(kind.path))[kind.listKey];
        } catch (error) {
          replace(tableHolder, message(error.message, "error"));
          return;
        }
        renderTable();
      }

      function renderTable() {
        if (!records.length) {
          replace(tableHolder, h("p", { class: "muted" }, `No ${kind.noun} yet. Add one above.`));
          return;
        }
        const headers = [...kind.columns.map((c) => c.label), "Actions"];
        const rows = records.map((record) => h("tr", { dataset: { id: record.id, name: record.name } },
          kind.columns.map((c) => h("td", { class: c.num ? "num" : "" }, c.cell(record))),
          h("td", {}, h("div", { class: "actions" }, actions(record)))));
        replace(tableHolder, h("table", { id: `${kind.listKey}-table` },
          h("caption", {}, `${kind.title} (${records.length})`),
          h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, rows)));
      }

      function actions(record) {
        const name = record.name;
        return [
          h("button", { type: "button", class: "primary", "aria-label": `Test ${name}`, onclick: (e) => runTest(record, e.target) }, "Test"),
          h("button", { type: "button", "aria-label": `Edit ${name}`, onclick: () => openForm(record) }, "Edit"),
          h("button", {
            type: "button", "aria-label": `${record.enabled ? "Disable" : "Enable"} ${name}`,
            onclick: () => save(record, { enabled: !record.enabled }),
          }, record.enabled ? "Disable" : "Enable"),
          ...(kind.extraActions ? kind.extraActions(record, ui) : []),
          kind.logFilter ? h("button", {
            type: "button", "aria-label": `Delivery log of ${name}`,
            onclick: () => navigate("deliveries", { [kind.logFilter]: record.id }),
          }, "Log") : null,
          h("button", { type: "button", class: "danger", "aria-label": `Delete ${name}`, onclick: () => remove(record) }, "Delete"),
        ];
      }

      async function runTest(record, button) {
        button.disabled = true;
        const tr = tableHolder.querySelector(`tr[data-id="${record.id}"]`);
        tableHolder.querySelectorAll(`tr.test-result[data-for="${record.id}"]`).forEach((x) => x.remove());
        const cell = h("td", { colspan: kind.columns.length + 1 }, message(`Testing ${record.name}…`, "info"));
        const resultRow = h("tr", { class: "test-result", dataset: { for: record.id } }, cell);
        tr.after(resultRow);
        try {
          const result = await api.post(`${kind.path}/${record.id}/test`);
          resultRow.classList.add(result.success ? "ok" : "failed");
          replace(cell, testResult(record, result));
        } catch (error) {
          replace(cell, message(`Test of ${record.name} could not run: ${error.message}`, "error"));
        } finally {
          button.disabled = false;
        }
        // Counters (last status, triggers) changed: refresh them, keeping the result row.
        try {
          records = (await api.get(kind.path))[kind.listKey];
          renderTable();
          tableHolder.querySelector(`tr[data-id="${record.id}"]`)?.after(resultRow);
        } catch { /* the result stays shown */ }
      }

      function testResult(record, result) {
        const code = result.status_code !== null ? `HTTP ${result.status_code}`
          : result.exit_code !== null ? `exit code ${result.exit_code}` : result.outcome;
        const text = `Test of ${record.name}: ${result.success ? "succeeded" : "failed"} (${code}) in ${ms(result.duration_ms)}`;
        const output = [result.error && `error: ${result.error}`, result.stdout && `stdout:\n${result.stdout}`,
          result.stderr && `stderr:\n${result.stderr}`].filter(Boolean).join("\n\n");
        return h("div", { role: "status" },
          message(text + (result.webhook_disabled ? " — the webhook was disabled after too many failures." : ""),
            result.success ? "ok" : "error"),
          output ? h("pre", {}, output) : null);
      }

      async function save(record, body, sentForm) {
        try {
          const saved = record
            ? await api.put(`${kind.path}/${record.id}`, body)
            : await api.post(kind.path, body);
          replace(formHolder);
          ui.showMessage(`${record ? "Saved" : "Created"} ${saved.name}.`);
          if (kind.afterSave) kind.afterSave(saved, body, ui, !record);
          await reload();
          return true;
        } catch (error) {
          const target = sentForm ? sentForm.querySelector(".form-result") : status;
          replace(target, message(error.message, "error"));
          return false;
        }
      }

      async function remove(record) {
        if (!window.confirm(`Delete ${kind.noun} "${record.name}"? Its log stays.`)) return;
        try {
          await api.del(`${kind.path}/${record.id}`);
          ui.showMessage(`Deleted ${record.name}.`);
        } catch (error) {
          ui.showMessage(error.message, "error");
        }
        await reload();
      }

      function openForm(record) {
        const fields = kind.fields(record, events);
        const form = h("form", { class: "card", "aria-labelledby": "target-form-title" },
          h("h2", { id: "target-form-title" }, record ? `Edit ${record.name}` : `Add a ${kind.noun}`),
          fields.map((f) => f.control.type === "checkbox"
            ? h("div", { class: "field check" }, f.control, h("label", { for: f.control.id }, f.label))
            : field(f.label, f.control, f.help)),
          h("div", { class: "form-result", "aria-live": "polite" }),
          h("div", { class: "actions" },
            h("button", { type: "submit", class: "primary" }, record ? "Save" : "Create"),
            h("button", { type: "button", onclick: () => replace(formHolder) }, "Cancel")));
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          const body = {};
          try {
            for (const f of fields) {
              const value = f.read(f.control);
              if (value !== undefined) body[f.name] = value;
            }
          } catch (error) {
            replace(form.querySelector(".form-result"), message(error.message, "error"));
            return;
          }
          await save(record, body, form);
        });
        replace(formHolder, form);
        form.querySelector("input, select")?.focus();
      }

      root.append(
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: "add-target", onclick: () => openForm(null) }, `Add a ${kind.noun}`),
          h("button", { type: "button", onclick: reload }, "Refresh")),
        formHolder, status, tableHolder);
      await reload();
    },
  };
}

// ---- helpers for the kinds' field lists ------------------------------------------------

let fieldCount = 0;
function fid(name) {
  fieldCount += 1;
  return `t-${name}-${fieldCount}`;
}

export function textField(name, label, value, attrs = {}, help) {
  const control = h("input", { id: fid(name), name, type: "text", value: value ?? "", ...attrs });
  return { name, label, help, control, read: (c) => c.value.trim() };
}

export function numberField(name, label, value, min, max, help) {
  const control = h("input", { id: fid(name), name, type: "number", min, max, step: 1, value: value ?? "", required: true });
  return {
    name, label, help, control,
    read: (c) => {
      const n = Number(c.value);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${label}: a whole number from ${min} to ${max}.`);
      return n;
    },
  };
}

export function checkField(name, label, checked) {
  const control = h("input", { id: fid(name), name, type: "checkbox", checked: Boolean(checked) });
  return { name, label, control, read: (c) => c.checked };
}

export function eventField(value, events, allowAll) {
  const options = [
    ...(allowAll ? [{ value: "*", label: "* (every event)" }] : []),
    ...events.map((e) => ({ value: e.name, label: `${e.name} — ${e.label}` })),
  ];
  const control = select(options, { id: fid("event"), name: "event_name", value: value ?? options[0].value });
  return { name: "event_name", label: "Event", control, read: (c) => c.value,
    help: "When this event happens, it runs. The list is the server's event catalog." };
}

export function lastStatus(ok, text) {
  if (ok === null || ok === undefined) return badge("never run", "off");
  return badge(text, ok ? "ok" : "bad");
}

export { when };
