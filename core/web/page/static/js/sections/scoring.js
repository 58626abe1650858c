// Scoring: episode and movie weights next to their defaults, reset, provider modifiers,
// preset export/import, and a score explained for chosen matches with a bar chart.

import { field, h, message, replace, select } from "../dom.js";

const TYPES = ["episode", "movie"];
const FORMAT_BONUS = "format_bonus";
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** A horizontal bar chart of explanation terms (plain SVG), with a text alternative. */
export function barChart(terms) {
  const rowH = 26;
  const labelW = 190;
  const valueW = 56;
  const width = 640;
  const plotW = width - labelW - valueW;
  const max = Math.max(1, ...terms.map((t) => Math.abs(t.points)));
  const hasNeg = terms.some((t) => t.points < 0);
  const zero = labelW + (hasNeg ? plotW / 2 : 0);
  const scale = (hasNeg ? plotW / 2 : plotW) / max;
  const height = Math.max(rowH, terms.length * rowH) + 8;
  const summary = terms.map((t) => `${t.term} ${t.points}`).join(", ");
  const chart = svg("svg", {
    class: "chart", id: "score-chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Score breakdown: ${summary || "no points"}`,
  });
  terms.forEach((t, i) => {
    const y = 4 + i * rowH;
    const w = Math.abs(t.points) * scale;
    const x = t.points >= 0 ? zero : zero - w;
    chart.append(
      svg("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end" }, t.term),
      svg("rect", { x, y: y + 4, width: Math.max(w, 1), height: rowH - 8, rx: 3, class: t.points >= 0 ? "pos" : "neg",
        "data-term": t.term, "data-points": t.points },
      svg("title", {}, `${t.term}: ${t.points} (${t.source})`)),
      svg("text", { x: width - 4, y: y + rowH / 2 + 4, "text-anchor": "end" }, String(t.points)));
  });
  chart.append(svg("line", { x1: zero, x2: zero, y1: 0, y2: height, class: "axis" }));
  return chart;
}

export default {
  title: "Scoring",
  async mount(root, { api }) {
    let view = await api.get("/scoring/weights");
    const weightsHolder = h("div");
    const modifiersHolder = h("div");
    const presetStatus = h("div", { "aria-live": "polite" });
    const explainHolder = h("div", { "aria-live": "polite", id: "explain-result" });
    let lastExplain = null;

    // ---- weights --------------------------------------------------------------------
    /** The weight keys of a type, biggest default first (keys only plugins know last). */
    function byWeight(type) {
      const known = Object.keys(view.defaults[type]).sort((a, b) => view.defaults[type][b] - view.defaults[type][a]);
      return known.concat(Object.keys(view.effective[type]).filter((k) => !(k in view.defaults[type])));
    }

    function weightsTable(type) {
      const status = h("div", { "aria-live": "polite" });
      const inputs = {};
      const rows = byWeight(type).map((key) => {
        const stored = view.stored[type][key];
        const input = h("input", {
          type: "number", min: -1000, max: 1000, step: 1, id: `w-${type}-${key}`,
          value: view.effective[type][key], "aria-describedby": `w-${type}-${key}-default`,
        });
        input.addEventListener("input", () => input.classList.toggle("changed", Number(input.value) !== view.effective[type][key]));
        inputs[key] = input;
        return h("tr", {},
          h("th", { scope: "row" }, h("label", { for: input.id }, key)),
          h("td", { class: "num", id: `w-${type}-${key}-default` }, String(view.defaults[type][key] ?? "—")),
          h("td", {}, input),
          h("td", {}, stored !== undefined ? h("span", { class: "badge ok" }, "yours")
            : view.effective[type][key] !== view.defaults[type][key] ? h("span", { class: "badge off" }, "plugin") : h("span", { class: "muted" }, "default")));
      });
      async function save() {
        const changes = {};
        for (const [key, input] of Object.entries(inputs)) {
          const value = Number(input.value);
          if (input.value === "" || !Number.isInteger(value) || value < -1000 || value > 1000) {
            replace(status, message(`${key}: a whole number from -1000 to 1000.`, "error"));
            input.focus();
            return;
          }
          if (value !== view.effective[type][key]) changes[key] = value;
        }
        if (!Object.keys(changes).length) {
          replace(status, message("Nothing changed.", "info"));
          return;
        }
        try {
          view = await api.put("/scoring/weights", { [type]: changes });
          renderWeights(`Saved ${Object.keys(changes).length} ${type} weight(s).`, type);
          await reexplain();
        } catch (error) {
          replace(status, message(error.message, "error"));
        }
      }
      async function reset() {
        if (!window.confirm(`Put every ${type} weight back to its default?`)) return;
        try {
          view = await api.del("/scoring/weights", { score_type: type });
          renderWeights(`The ${type} weights are the defaults again.`, type);
          await reexplain();
        } catch (error) {
          replace(status, message(error.message, "error"));
        }
      }
      return h("div", { class: "card" },
        h("h2", {}, `${type[0].toUpperCase()}${type.slice(1)} weights`),
        h("table", { id: `weights-${type}` },
          h("caption", {}, `${type} weights: default and the value used`),
          h("thead", {}, h("tr", {}, ["Match", "Default", "Value", "From"].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, rows)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: `save-${type}`, onclick: save }, `Save ${type} weights`),
          h("button", { type: "button", id: `reset-${type}`, onclick: reset }, `Reset ${type} to defaults`)),
        status);
    }

    function renderWeights(note, type) {
      const cards = TYPES.map(weightsTable);
      replace(weightsHolder, h("div", { class: "split" }, cards));
      if (note) {
        const i = TYPES.indexOf(type);
        replace(cards[i].lastElementChild, message(note, "ok"));
      }
      renderMatchChoices();
    }

    // ---- provider modifiers -----------------------------------------------------------
    async function renderModifiers(note, kind = "ok") {
      let modifiers = {};
      try {
        modifiers = (await api.get("/scoring/modifiers")).modifiers;
      } catch (error) {
        replace(modifiersHolder, message(error.message, "error"));
        return;
      }
      const status = h("div", { "aria-live": "polite" }, note ? message(note, kind) : null);
      const rows = Object.entries(modifiers).map(([provider, value]) => {
        const input = h("input", { type: "number", min: -1000, max: 1000, step: 1, value, id: `m-${provider}` });
        return h("tr", {},
          h("th", { scope: "row" }, h("label", { for: input.id }, provider)),
          h("td", {}, input),
          h("td", {}, h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => put({ [provider]: Number(input.value) }), "aria-label": `Save modifier of ${provider}` }, "Save"),
            h("button", { type: "button", class: "danger", "aria-label": `Delete modifier of ${provider}`, onclick: async () => {
              try {
                await api.del(`/scoring/modifiers/${encodeURIComponent(provider)}`);
                await renderModifiers(`Deleted the modifier of ${provider}.`);
                await reexplain();
              } catch (error) { replace(status, message(error.message, "error")); }
            } }, "Delete"))));
      });
      const name = h("input", { type: "text", id: "m-new-name", maxlength: 100, placeholder: "opensubtitles" });
      const value = h("input", { type: "number", id: "m-new-value", min: -1000, max: 1000, step: 1, value: 0 });
      async function put(body) {
        for (const [provider, v] of Object.entries(body)) {
          if (!provider || !Number.isInteger(v)) {
            replace(status, message("Give a provider name and a whole number from -1000 to 1000.", "error"));
            return;
          }
        }
        try {
          await api.put("/scoring/modifiers", { modifiers: body });
          await renderModifiers(`Saved the modifier of ${Object.keys(body).join(", ")}.`);
          await reexplain();
        } catch (error) { replace(status, message(error.message, "error")); }
      }
      replace(modifiersHolder, h("div", { class: "card" },
        h("h2", {}, "Provider modifiers"),
        h("p", { class: "help" }, "Points added to (or taken from) every result of a provider."),
        rows.length ? h("table", { id: "modifiers-table" }, h("caption", {}, "Stored modifiers"),
          h("thead", {}, h("tr", {}, ["Provider", "Modifier", "Actions"].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, rows)) : h("p", { class: "muted" }, "No modifier stored."),
        h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); put({ [name.value.trim()]: Number(value.value) }); } },
          field("Provider", name), field("Modifier", value),
          h("button", { type: "submit" }, "Add modifier")),
        status));
    }

    // ---- presets --------------------------------------------------------------------
    async function exportPreset() {
      try {
        const preset = await api.get("/scoring/export");
        const blob = new Blob([JSON.stringify(preset, null, 2)], { type: "application/json" });
        const link = h("a", { href: URL.createObjectURL(blob), download: "sublarr-scoring-preset.json" });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
        replace(presetStatus, message("Exported the stored weights and modifiers.", "ok"));
      } catch (error) {
        replace(presetStatus, message(error.message, "error"));
      }
    }
    const file = h("input", { type: "file", id: "preset-file", accept: ".json,application/json" });
    async function importPreset(e) {
      e.preventDefault();
      if (!file.files.length) {
        replace(presetStatus, message("Choose a preset file first.", "error"));
        return;
      }
      let preset;
      try {
        preset = JSON.parse(await file.files[0].text());
      } catch (error) {
        replace(presetStatus, message(`That file is not JSON: ${error.message}`, "error"));
        return;
      }
      if (!window.confirm("Replace every stored weight and modifier with this preset?")) return;
      try {
        const imported = await api.post("/scoring/import", preset);
        view = await api.get("/scoring/weights");
        renderWeights();
        await renderModifiers();
        const counts = Object.entries(imported.weights).map(([t, n]) => `${n} ${t}`).join(", ");
        replace(presetStatus, message(`Imported: ${counts} weight override(s), ${imported.provider_modifiers} modifier(s).`, "ok"));
        await reexplain();
      } catch (error) {
        replace(presetStatus, message(`Nothing changed: ${error.message}`, "error"));
      }
    }

    // ---- explain --------------------------------------------------------------------
    const kind = select([{ value: "episode", label: "Episode" }, { value: "movie", label: "Movie" }], { id: "x-type" });
    const title = h("input", { type: "text", id: "x-title", value: "Dark" });
    const season = h("input", { type: "number", id: "x-season", min: 0, value: 1 });
    const episode = h("input", { type: "number", id: "x-episode", min: 0, value: 1 });
    const year = h("input", { type: "number", id: "x-year", min: 0, max: 9999, value: 2017 });
    const provider = h("input", { type: "text", id: "x-provider", value: "opensubtitles", required: true });
    const format = select(["srt", "ass", "ssa", "vtt"], { id: "x-format" });
    const matchBox = h("fieldset", { class: "row", id: "x-matches" });
    const episodeFields = h("div", { class: "row" }, field("Season", season), field("Episode", episode));
    const movieFields = h("div", { class: "row", hidden: true }, field("Year", year));

    function renderMatchChoices() {
      const type = kind.value;
      const checked = new Set([...matchBox.querySelectorAll("input:checked")].map((x) => x.value));
      const keys = byWeight(type).filter((k) => k !== FORMAT_BONUS);
      replace(matchBox, h("legend", {}, "Matches of the subtitle"), keys.map((key) => {
        const id = `x-m-${key}`;
        return h("div", { class: "field check" },
          h("input", { type: "checkbox", id, value: key, checked: checked.has(key) }),
          h("label", { for: id }, `${key} (${view.effective[type][key]})`));
      }));
    }
    kind.addEventListener("change", () => {
      episodeFields.hidden = kind.value !== "episode";
      movieFields.hidden = kind.value !== "movie";
      renderMatchChoices();
    });

    function explainBody() {
      const matches = [...matchBox.querySelectorAll("input:checked")].map((x) => x.value);
      const query = kind.value === "episode"
        ? { title: title.value, series_title: title.value, season: Number(season.value), episode: Number(episode.value) }
        : { title: title.value, year: year.value === "" ? null : Number(year.value) };
      return { query, result: { provider_name: provider.value.trim(), format: format.value, matches } };
    }

    async function explain(body) {
      try {
        const x = await api.post("/scoring/explain", body);
        lastExplain = body;
        replace(explainHolder, h("div", { class: "card" },
          h("p", {}, `${x.score_type} score for ${x.provider_name}: `, h("span", { class: "total", id: "score-total" }, String(x.total))),
          barChart(x.terms),
          h("table", { id: "terms-table" }, h("caption", {}, "Where the points come from"),
            h("thead", {}, h("tr", {}, ["Term", "Points", "Source"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, x.terms.map((t) => h("tr", {}, h("td", {}, t.term), h("td", { class: "num" }, String(t.points)), h("td", {}, t.source))))),
          x.ignored_matches.length ? h("p", { class: "help" }, `Ignored (no weight): ${x.ignored_matches.join(", ")}`) : null));
      } catch (error) {
        replace(explainHolder, message(error.message, "error"));
      }
    }

    /** After a change, the shown explanation is computed again with the new values. */
    async function reexplain() {
      if (lastExplain) await explain(lastExplain);
    }

    const explainForm = h("form", { class: "card", "aria-labelledby": "explain-title",
      onsubmit: (e) => { e.preventDefault(); explain(explainBody()); } },
    h("h2", { id: "explain-title" }, "Explain a score"),
    h("p", { class: "help" }, "Pick what a subtitle matches; see its score and where every point comes from."),
    h("div", { class: "row" }, field("Video", kind), field("Title", title), field("Provider", provider), field("Format", format)),
    episodeFields, movieFields, matchBox,
    h("button", { type: "submit", class: "primary", id: "explain" }, "Explain"));

    root.append(weightsHolder, modifiersHolder,
      h("div", { class: "card" }, h("h2", {}, "Presets"),
        h("p", { class: "help" }, "A preset file holds the stored weights and modifiers; importing one replaces them (all or nothing)."),
        h("div", { class: "actions" }, h("button", { type: "button", id: "export-preset", onclick: exportPreset }, "Export preset")),
        h("form", { class: "row", onsubmit: importPreset }, field("Preset file", file), h("button", { type: "submit" }, "Import preset")),
        presetStatus),
      explainForm, explainHolder);
    renderWeights();
    const defaults = new Set(["series", "season", "episode", "title", "year"]);
    matchBox.querySelectorAll("input").forEach((x) => { x.checked = defaults.has(x.value); });
    await renderModifiers();
  },
};
