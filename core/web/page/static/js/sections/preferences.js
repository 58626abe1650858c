// Scoring preferences: what is wanted of a subtitle beyond its matches (hearing-impaired,
// forced, machine-translated, uploader trust, minimum score, provider ranking), saved as one
// document; plus the bundled presets, applied whole (weights, modifiers and preferences).

import { field, h, message, replace, select } from "../dom.js";

const FLAG_MODES = [
  { value: "include", label: "include (no preference)" },
  { value: "prefer", label: "prefer (a match gets the prefer points)" },
  { value: "exclude", label: "exclude (a match gets the exclude points)" },
  { value: "only", label: "only (a non-match gets the exclude points)" },
];
const MT_MODES = [
  { value: "include", label: "include (no preference)" },
  { value: "penalty", label: "penalty (the penalty points)" },
  { value: "exclude", label: "exclude (the exclude points)" },
];

function pid(section, key) {
  return `p-${section}-${key}`;
}

function modeControl(section, value, modes) {
  return select(modes, { id: pid(section, "mode"), value });
}

function numberControl(section, key, value, min, max) {
  return h("input", { id: pid(section, key), type: "number", step: 1, min, max, value: String(value), required: true });
}

function checkControl(section, key, checked) {
  return h("input", { id: pid(section, key), type: "checkbox", checked: Boolean(checked) });
}

function checkField(label, control) {
  return h("div", { class: "field check" }, control, h("label", { for: control.id }, label));
}

function readInt(control, label, min, max) {
  const n = Number(control.value);
  if (control.value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${label}: a whole number from ${min} to ${max}.`);
  }
  return n;
}

export default {
  title: "Scoring preferences",
  async mount(root, { api }) {
    const status = h("div", { "aria-live": "polite" });
    const formHolder = h("div");
    const presetsHolder = h("div");
    root.append(formHolder, status, presetsHolder);  // the result between Save and Apply preset

    function say(text, kind = "ok") {
      replace(status, message(text, kind));
    }

    function flagSection(section, title, prefs) {
      const p = prefs[section];
      return h("fieldset", { class: "card" }, h("legend", {}, title),
        field("Mode", modeControl(section, p.mode, FLAG_MODES)),
        field("Prefer points", numberControl(section, "prefer_points", p.prefer_points, -1000, 1000)),
        field("Exclude points", numberControl(section, "exclude_points", p.exclude_points, -1000, 1000)));
    }

    function render(prefs) {
      const mt = prefs.machine_translated;
      const trust = prefs.uploader_trust;
      const ranking = prefs.provider_ranking;
      const uploaders = h("textarea", {
        id: pid("uploader_trust", "uploaders"), rows: 3, spellcheck: "false",
        value: Object.entries(trust.uploaders || {}).map(([name, points]) => `${name}: ${points}`).join("\n"),
      });
      const types = Object.keys(prefs.min_score);
      const form = h("form", { id: "preferences-form", "aria-label": "Scoring preferences", novalidate: true },
        flagSection("hearing_impaired", "Hearing-impaired subtitles", prefs),
        flagSection("forced", "Forced subtitles", prefs),
        h("fieldset", { class: "card" }, h("legend", {}, "Machine-translated subtitles"),
          field("Mode", modeControl("machine_translated", mt.mode, MT_MODES)),
          field("Penalty points", numberControl("machine_translated", "penalty_points", mt.penalty_points, -1000, 1000)),
          field("Exclude points", numberControl("machine_translated", "exclude_points", mt.exclude_points, -1000, 1000))),
        h("fieldset", { class: "card" }, h("legend", {}, "Uploader trust"),
          field("Uploaders", uploaders, "One per line, as name: points (names compared ignoring case)."),
          checkField("Add the provider's uploader trust score", checkControl("uploader_trust", "provider_trust", trust.provider_trust)),
          field("Provider trust at most (points)", numberControl("uploader_trust", "provider_trust_max", trust.provider_trust_max, 0, 1000))),
        h("fieldset", { class: "card" }, h("legend", {}, "Minimum score"),
          types.map((type) => field(`Minimum ${type} score (% of the highest)`,
            numberControl("min_score", type, prefs.min_score[type], 0, 100), "0 keeps every result."))),
        ranking ? h("fieldset", { class: "card" }, h("legend", {}, "Provider ranking"),
          checkField("Learn provider modifiers from events", checkControl("provider_ranking", "enabled", ranking.enabled)),
          field("Cap (points either way)", numberControl("provider_ranking", "cap", ranking.cap, 0, 1000)),
          field("Minimum outcomes seen", numberControl("provider_ranking", "min_sample", ranking.min_sample, 1, 1_000_000))) : null,
        h("div", { class: "actions" },
          h("button", { type: "submit", class: "primary", id: "save-preferences" }, "Save preferences"),
          h("button", { type: "button", class: "danger", id: "reset-preferences", onclick: reset }, "Reset to defaults")));

      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        let body;
        try {
          body = read(form, types, Boolean(ranking));
        } catch (error) {
          say(error.message, "error");
          return;
        }
        try {
          render(await api.put("/scoring/preferences", body));
          say("Preferences saved.");
        } catch (error) {
          say(`Nothing changed: ${error.message}`, "error");
        }
      });
      replace(formHolder, form);
    }

    function read(form, types, withRanking) {
      const get = (section, key) => form.querySelector(`#${pid(section, key)}`);
      const points = (section, key, label) => readInt(get(section, key), label, -1000, 1000);
      const uploaders = {};
      for (const line of get("uploader_trust", "uploaders").value.split("\n").map((x) => x.trim()).filter(Boolean)) {
        const at = line.lastIndexOf(":");
        const n = Number(line.slice(at + 1).trim());
        if (at < 1 || !Number.isInteger(n)) throw new Error(`Uploaders: "${line}" is not name: points.`);
        uploaders[line.slice(0, at).trim()] = n;
      }
      const body = {
        hearing_impaired: {
          mode: get("hearing_impaired", "mode").value,
          prefer_points: points("hearing_impaired", "prefer_points", "Hearing-impaired prefer points"),
          exclude_points: points("hearing_impaired", "exclude_points", "Hearing-impaired exclude points"),
        },
        forced: {
          mode: get("forced", "mode").value,
          prefer_points: points("forced", "prefer_points", "Forced prefer points"),
          exclude_points: points("forced", "exclude_points", "Forced exclude points"),
        },
        machine_translated: {
          mode: get("machine_translated", "mode").value,
          penalty_points: points("machine_translated", "penalty_points", "Machine-translated penalty points"),
          exclude_points: points("machine_translated", "exclude_points", "Machine-translated exclude points"),
        },
        uploader_trust: {
          uploaders,
          provider_trust: get("uploader_trust", "provider_trust").checked,
          provider_trust_max: readInt(get("uploader_trust", "provider_trust_max"), "Provider trust at most", 0, 1000),
        },
        min_score: Object.fromEntries(types.map((t) => [t, readInt(get("min_score", t), `Minimum ${t} score`, 0, 100)])),
      };
      if (withRanking) {
        body.provider_ranking = {
          enabled: get("provider_ranking", "enabled").checked,
          cap: readInt(get("provider_ranking", "cap"), "Cap", 0, 1000),
          min_sample: readInt(get("provider_ranking", "min_sample"), "Minimum outcomes seen", 1, 1_000_000),
        };
      }
      return body;
    }

    async function reset() {
      if (!window.confirm("Drop every stored preference and go back to the defaults?")) return;
      try {
        render(await api.del("/scoring/preferences"));
        say("Preferences reset to the defaults.");
      } catch (error) {
        say(error.message, "error");
      }
    }

    async function load() {
      try {
        render(await api.get("/scoring/preferences"));
      } catch (error) {
        replace(formHolder, message(error.message, "error"));
      }
    }

    async function loadPresets() {
      let presets;
      try {
        ({ presets } = await api.get("/scoring/presets"));
      } catch (error) {
        replace(presetsHolder, message(error.message, "error"));
        return;
      }
      const choice = select(presets.map((p) => ({ value: p.name, label: `${p.name} — ${p.description}` })),
        { id: "preset-choice" });
      const apply = h("button", {
        type: "button", class: "primary", id: "apply-preset",
        onclick: async () => {
          const name = choice.value;
          if (!window.confirm(`Apply the preset "${name}"? It replaces the stored weights, modifiers and preferences.`)) return;
          try {
            const done = await api.post(`/scoring/presets/${encodeURIComponent(name)}/apply`);
            const weights = Object.entries(done.weights).map(([t, n]) => `${n} ${t}`).join(", ");
            say(`Applied ${name}: ${weights} weight override(s), ${done.provider_modifiers} modifier(s)`
              + `${done.preferences === null ? ", preferences unchanged" : `, ${done.preferences} preference value(s)`}.`);
            await load();
          } catch (error) {
            say(error.message, "error");
          }
        },
      }, "Apply preset");
      replace(presetsHolder, h("section", { class: "card", "aria-labelledby": "presets-title" },
        h("h2", { id: "presets-title" }, "Bundled presets"),
        h("p", { class: "muted" }, "A preset replaces the stored weights, provider modifiers and preferences at once."),
        field("Preset", choice), h("div", { class: "actions" }, apply)));
    }

    await Promise.all([load(), loadPresets()]);
  },
};
