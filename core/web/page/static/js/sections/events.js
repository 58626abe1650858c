// Live events: what arrives over Socket.IO, newest first; filter by name; open one to see
// its id and payload. Also fires an event through the API, to try hooks and webhooks.

import { field, h, jsonBlock, message, replace, select, when } from "../dom.js";

const SHOWN = 200;

/** The time of day of an ISO date-time (the list is of recent events). */
function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

export default {
  title: "Live events",
  async mount(root, { api, live, catalog }) {
    const events = await catalog();
    const names = events.map((e) => e.name);
    const filter = select([{ value: "", label: "All events" }, ...names], { id: "event-filter" });
    const count = h("p", { class: "muted", id: "events-count" });
    const list = h("ol", { class: "events-list", id: "events-list", "aria-live": "polite", "aria-relevant": "additions" });
    const detail = h("div", { id: "event-detail" });
    let openId = null;

    function row(event) {
      const expanded = openId === event;
      return h("li", {},
        h("button", {
          type: "button", "aria-expanded": String(expanded), "aria-controls": "event-detail",
          dataset: { event: event.name },
          onclick: () => { openId = event; show(event); render(); },
        },
        h("span", { class: "muted", title: when(event.at) }, clock(event.at)),
        h("span", { class: "name" }, event.name),
        h("span", { class: "mono muted" }, event.id)));
    }

    function render() {
      const wanted = filter.value;
      const shown = live.events.filter((e) => !wanted || e.name === wanted).slice(0, SHOWN);
      replace(list, shown.length ? shown.map(row) : h("li", { class: "muted empty" },
        wanted ? `No ${wanted} event yet.` : "No event yet. They appear here as they happen."));
      count.textContent = `${shown.length} shown, ${live.events.length} received since sign-in`;
    }

    function show(event) {
      const payload = { ...event.data };
      delete payload.event_id;
      delete payload.timestamp;
      replace(detail, h("div", { class: "card" },
        h("h2", {}, event.name),
        h("p", {}, "Event id: ", h("code", { class: "event-id" }, event.id || "(none)")),
        h("p", {}, "At: ", when(event.at)),
        h("h3", {}, "Payload"), jsonBlock(payload)));
    }

    filter.addEventListener("change", render);
    // A new event is added on its own (not a re-render): screen readers announce just it.
    const off = live.onEvent((event) => {
      if (filter.value && event.name !== filter.value) return;
      list.querySelector(".empty")?.remove();
      list.prepend(row(event));
      while (list.children.length > SHOWN) list.lastElementChild.remove();
      count.textContent = `${list.children.length} shown, ${live.events.length} received since sign-in`;
    });

    // Fire an event through the API (POST /events/{name}/emit).
    const fireName = select(names, { id: "fire-name" });
    const firePayload = h("textarea", { id: "fire-payload", spellcheck: "false" });
    const fireResult = h("div", { "aria-live": "polite" });
    const keysHint = h("small", { class: "help" });
    const syncKeys = () => {
      const info = events.find((e) => e.name === fireName.value);
      keysHint.textContent = info ? `Payload keys: ${info.payload_keys.join(", ") || "(none)"}. ${info.description}` : "";
      if (!firePayload.value.trim() || firePayload.dataset.auto === "1") {
        const sample = Object.fromEntries((info ? info.payload_keys : []).map((k) => [k, null]));
        firePayload.value = JSON.stringify(sample, null, 2);
        firePayload.dataset.auto = "1";
      }
    };
    firePayload.addEventListener("input", () => { firePayload.dataset.auto = "0"; });
    fireName.addEventListener("change", () => { firePayload.dataset.auto = "1"; syncKeys(); });
    syncKeys();
    const fireForm = h("form", {
      class: "card", "aria-labelledby": "fire-title",
      onsubmit: async (e) => {
        e.preventDefault();
        let payload;
        try {
          payload = JSON.parse(firePayload.value || "{}");
        } catch (error) {
          replace(fireResult, message(`The payload is not JSON: ${error.message}`, "error"));
          return;
        }
        try {
          const fired = await api.post(`/events/${encodeURIComponent(fireName.value)}/emit`, payload);
          replace(fireResult, message(`Fired ${fired.event}, id ${fired.event_id}.`, "ok"));
        } catch (error) {
          replace(fireResult, message(error.message, "error"));
        }
      },
    },
    h("h2", { id: "fire-title" }, "Fire an event"),
    h("p", { class: "help" }, "Sends it like another tool would: plugins, hooks, webhooks and this list all see it."),
    field("Event", fireName),
    field("Payload (JSON)", firePayload), keysHint,
    h("div", {}, h("button", { type: "submit" }, "Fire event")), fireResult);

    root.append(
      h("div", { class: "row" }, field("Show", filter), count),
      h("div", { class: "split" }, h("div", {}, list), detail),
      fireForm);
    render();
    return off;
  },
};
