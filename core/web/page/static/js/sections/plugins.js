// Installed plugins (status, hooks, error counts) and the event catalog.

import { h, table } from "../dom.js";

export default {
  title: "Plugins and events",
  async mount(root, { api, catalog }) {
    const [{ plugins }, events] = await Promise.all([api.get("/plugins"), catalog()]);
    const status = (p) => h("span", { class: `badge ${p.status === "loaded" ? "ok" : p.status === "failed" ? "bad" : "off"}` }, p.status);
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
      table(`Event catalog (${events.length})`, ["Event", "What", "Payload keys", "From"],
        events.map((e) => h("tr", { dataset: { event: e.name } },
          h("th", { scope: "row", class: "mono" }, e.name),
          h("td", {}, h("strong", {}, e.label), h("div", { class: "help" }, e.description)),
          h("td", { class: "mono" }, e.payload_keys.join(", ")),
          h("td", {}, e.source))),
        { id: "catalog-table" }),
    );
  },
};
