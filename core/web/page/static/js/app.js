// The page: sign-in, the menu, the connection status and the section shown (#/<section id>).
// Sections get a ctx: {api, live, catalog(), navigate(id, params), params, notify(text, kind)}.

import { ApiError, Unreachable, createApi, serverAnswers, storeKey, storedKey } from "./api.js";
import { h, message, replace } from "./dom.js";
import { connectLive } from "./live.js";
import { SECTIONS } from "./sections.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const status = document.getElementById("status");
const notices = document.getElementById("notices");
const signOutButton = document.getElementById("sign-out");

let key = "";
let signedIn = false;
let live = null;
let catalogPromise = null;
let unmount = null;
let watchingServer = false;
const api = createApi(() => key);

function notify(text, kind = "info") {
  replace(notices, text ? message(text, kind) : "");
}

function setStatus(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

function catalog() {
  if (!catalogPromise) {
    catalogPromise = api.get("/events/catalog").then((c) => c.events).catch((error) => {
      catalogPromise = null;
      throw error;
    });
  }
  return catalogPromise;
}

// ---- sign-in -------------------------------------------------------------------------

function signInForm(problem) {
  nav.hidden = true;
  signOutButton.hidden = true;
  setStatus("signed out", "off");
  const input = h("input", {
    id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true,
    spellcheck: "false", "aria-describedby": "api-key-help",
  });
  const form = h("form", { class: "card signin", onsubmit: (e) => { e.preventDefault(); signIn(input.value.trim()); } },
    h("h1", {}, "Sign in to sublarr"),
    problem ? message(problem, "error") : null,
    h("div", { class: "field" },
      h("label", { for: "api-key" }, "API key"), input,
      h("small", { id: "api-key-help", class: "help" },
        "sublarr serve prints it on its first start and keeps it in the file api_key of its data folder. " +
        "It stays in this browser tab only (session storage).")),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  replace(main, form);
  input.focus();
}

async function signIn(candidate) {
  if (!candidate) {
    signInForm("Enter the API key.");
    return;
  }
  key = candidate;
  try {
    await api.get("/events/catalog");
  } catch (error) {
    key = "";
    if (error instanceof ApiError && error.status === 401) {
      storeKey("");
      signInForm("That API key is wrong. Check the key sublarr serve printed (or the api_key file) and try again.");
    } else if (error instanceof Unreachable) {
      storeKey(candidate);
      signInForm("The sublarr server cannot be reached. Is it running? Trying again every few seconds…");
      watchServer(() => signIn(candidate));
    } else {
      signInForm(error.message);
    }
    return;
  }
  storeKey(candidate);
  signedIn = true;
  startLive();
  buildNav();
  signOutButton.hidden = false;
  notify("");
  route();
}

function signOut() {
  signedIn = false;
  storeKey("");
  key = "";
  if (live) live.close();
  live = null;
  catalogPromise = null;
  if (unmount) unmount();
  unmount = null;
  history.replaceState(null, "", location.pathname);
  signInForm("");
}

// ---- connection ----------------------------------------------------------------------

function startLive() {
  if (live) live.close();
  live = connectLive(key);
  setStatus("connecting…", "wait");
  live.onStatus((state) => {
    if (state === "connected") {
      setStatus("connected", "ok");
      notify("");
    } else if (state === "refused") {
      signOut();
      signInForm("The server refused the API key (was it changed?). Sign in again.");
    } else {
      setStatus("reconnecting…", "wait");
    }
  });
}

/** Poll /health until the server answers, then call done (once). */
function watchServer(done) {
  if (watchingServer) return;
  watchingServer = true;
  const tick = async () => {
    if (await serverAnswers()) {
      watchingServer = false;
      done();
    } else {
      setTimeout(tick, 2000);
    }
  };
  setTimeout(tick, 2000);
}

api.onUnreachable(() => {
  if (!signedIn) return;
  setStatus("server unreachable", "bad");
  notify("The sublarr server cannot be reached. Reconnecting when it is back…", "error");
  watchServer(() => {
    notify("The server is back.", "ok");
    route();
  });
});

api.onUnauthorized(() => {
  if (!signedIn) return;
  signOut();
  signInForm("The server no longer accepts this API key. Sign in again.");
});

// ---- menu and sections ---------------------------------------------------------------

function buildNav() {
  nav.hidden = false;
  replace(nav, h("ul", {}, SECTIONS.map((s) => h("li", {},
    h("a", { href: s.href || `#/${s.id}`, dataset: { section: s.id } }, s.title)))));
}

function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { id: path || SECTIONS[0].id, params: Object.fromEntries(new URLSearchParams(query)) };
}

function navigate(id, params = {}) {
  const query = new URLSearchParams(params).toString();
  location.hash = `#/${id}${query ? `?${query}` : ""}`;
}

async function route() {
  if (!signedIn) return;
  const { id, params } = parseHash();
  const section = SECTIONS.find((s) => s.id === id && s.module) || SECTIONS[0];
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === section.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (unmount) unmount();
  unmount = null;
  const root = h("section", { class: "section", "aria-labelledby": "section-title" },
    h("h1", { id: "section-title", tabindex: "-1" }, section.title));
  replace(main, root);
  document.title = `${section.title} · sublarr`;
  try {
    const module = await import(section.module);
    const ctx = { api, live, catalog, navigate, params, notify };
    const result = await module.default.mount(root, ctx);
    unmount = typeof result === "function" ? result : null;
  } catch (error) {
    root.append(message(error.message || String(error), "error"));
  }
}

window.addEventListener("hashchange", () => {
  route().then(() => document.getElementById("section-title")?.focus());
});
signOutButton.addEventListener("click", signOut);

// ---- start ---------------------------------------------------------------------------

// The banner of `sublarr serve` links to /#apikey=<key>: take it, then drop it from the
// address bar and the history (a fragment never reaches the server).
const fromLink = new URLSearchParams(location.hash.replace(/^#/, "")).get("apikey");
if (fromLink) {
  storeKey(fromLink);
  history.replaceState(null, "", location.pathname);
}
if (storedKey()) signIn(storedKey());
else signInForm("");
