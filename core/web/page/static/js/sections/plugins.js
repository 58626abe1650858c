// Installed plugins (status, hooks, error counts), the settings of those that declare some
// (GET/PUT /plugins/<name>/settings; secrets come masked and the mask sent back keeps them),
// and the event catalog.

import { field, h, message, replace, table } from "../dom.js";

const SOURCE_TEXT = { default: "default", file: "config file", api: "stored here", env: "environment" };

/** The control of one setting, and how to read it back (undefined: leave it as it is). */
function settingControl(plugin, s) {
  const id = `ps-${plugin}-${s.name}`.replace(/[^A-Za-z0-9_-]/g, "_");
  if (s.type === "bool") {
    const control = h("input", { id, type: "checkbox", checked: Boolean(s.value) });
    return { control, read: () => (control.checked === Boolean(s.value) ? undefined : control.checked) };
  }
  const shown = s.value === null || s.value === undefined ? "" : s.type === "list" ? s.value.join(", ") : String(s.value);
  const numeric = s.type === "int" || s.type === "float";
  const control = h("input", {
    id, type: s.secret ? "password" : numeric ? "number" : "text", step: numeric ? "any" : undefined,
    autocomplete: s.secret ? "off" : undefined, spellcheck: "false", value: shown,
  });
  return {
    control,
    read: () => {
      const text = control.value.trim();
      if (text === shown.trim()) return undefined;
      if (text === "") return null; // back to the default (a value of the file or environment still wins)
      if (numeric) return Number.isNaN(Number(text)) ? text : Number(text);
      if (s.type === "list") return text.split(",").map((x) => x.trim()).filter(Boolean);
      return control.value;
    },
  };
}

function settingsForm(api, plugin, settings) {
  const result = h("div", { class: "form-result", "aria-live": "polite" });
  const body = h("div");
  const form = h("form", { class: "card", id: `settings-${plugin}`, "aria-labelledby": `settings-${plugin}-title`, novalidate: true },
    h("h3", { id: `settings-${plugin}-title` }, `Settings of ${plugin}`), body, result,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", "aria-label": `Save the settings of ${plugin}` }, "Save")));
  let readers = [];

  function render(list) {
    readers = list.map((s) => {
      const { control, read } = settingControl(plugin, s);
      const from = `Now: ${SOURCE_TEXT[s.source] || s.source}${s.source === "env" ? ` (${s.env} wins over a value saved here)` : ""}.`;
      const help = [s.description && !/[.!?]$/.test(s.description) ? `${s.description}.` : s.description, s.secret ? "Secret: shown masked; leave the mask to keep it, empty it to remove it." : "",
        s.type === "list" ? "Comma-separated." : "", s.type !== "bool" ? "Empty: the default." : "", from].filter(Boolean).join(" ");
      const node = s.type === "bool"
        ? h("div", { class: "field check" }, control, h("label", { for: control.id }, s.name), h("small", { class: "help" }, help))
        : field(s.name, control, help);
      node.dataset.setting = s.name;
      node.dataset.source = s.source;
      return { name: s.name, node, read };
    });
    replace(body, readers.map((r) => r.node));
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const changes = {};
    for (const r of readers) {
      const value = r.read();
      if (value !== undefined) changes[r.name] = value;
    }
    if (!Object.keys(changes).length) {
      replace(result, message("Nothing changed.", "info"));
      return;
    }
    try {
      const saved = await api.put(`/plugins/${encodeURIComponent(plugin)}/settings`, changes);
      render(saved.settings);
      replace(result, message(`Saved ${Object.keys(changes).join(", ")} of ${plugin}.`, "ok"));
    } catch (error) {
      replace(result, message(`Nothing changed: ${error.message}`, "error"));
    }
  });
  render(settings);
  return form;
}

export default {
  title: "Plugins and events",
  async mount(root, { api, catalog }) {
    const [{ plugins }, events] = await Promise.all([api.get("/plugins"), catalog()]);
    const status = (p) => h("span", { class: `badge ${p.status === "loaded" ? "ok" : p.status === "failed" ? "bad" : "off"}` }, p.status);
    const settingsHolder = h("section", { "aria-labelledby": "plugin-settings-title" });
    root.append(
      table(`Plugins (${plugins.length})`, ["Name", "Version", "Status", "Hooks", "Errors", "Last error"],
        plugins.map((p) => h("tr", { dataset: { plugin: p.name } },
          h("th", { scope: "row" }, p.name, p.builtin ? h("span", { class: "help" }, " (built in)") : null,
            p.distribution ? h("div", { class: "help" }, p.distribution) : null),
          h("td", {}, p.version || ""),
          h("td", {}, status(p)),
          h("td", {}, p.hooks.length ? p.hooks.join(", ") : h("span", { class: "muted" }, "none")),
          h("td", { class: "num" }, String(p.errors)),
          h("td", {}, p.last_error || ""))),
        { id: "plugins-table" }),
      settingsHolder,
      table(`Event catalog (${events.length})`, ["Event", "What", "Payload keys", "From"],
        events.map((e) => h("tr", { dataset: { event: e.name } },
          h("th", { scope: "row", class: "mono" }, e.name),
          h("td", {}, h("strong", {}, e.label), h("div", { class: "help" }, e.description)),
          h("td", { class: "mono" }, e.payload_keys.join(", ")),
          h("td", {}, e.source))),
        { id: "catalog-table" }),
    );

    const loaded = plugins.filter((p) => p.status === "loaded");
    const answers = await Promise.all(loaded.map((p) => api.get(`/plugins/${encodeURIComponent(p.name)}/settings`)
      .catch((error) => ({ plugin: p.name, error }))));
    const forms = answers.map((a) => (a.error
      ? message(`Settings of ${a.plugin}: ${a.error.message}`, "error")
      : a.settings.length ? settingsForm(api, a.plugin, a.settings) : null)).filter(Boolean);
    replace(settingsHolder, h("h2", { id: "plugin-settings-title" }, "Plugin settings"),
      forms.length ? forms : h("p", { class: "muted" }, "No loaded plugin declares settings."));
  },
};
