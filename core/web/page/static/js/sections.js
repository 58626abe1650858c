// The page's sections, in menu order. A section is one module under sections/ whose default
// export is {title, mount(root, ctx)}; adding one is a file plus one line here.
// `href` entries are plain links (pages of their own).

export const SECTIONS = [
  { id: "events", title: "Live events", module: "./sections/events.js" },
  { id: "hooks", title: "Script hooks", module: "./sections/hooks.js" },
  { id: "webhooks", title: "Webhooks", module: "./sections/webhooks.js" },
  { id: "notifications", title: "Notifications", module: "./sections/notifications.js" },
  { id: "deliveries", title: "Delivery log", module: "./sections/deliveries.js" },
  { id: "scoring", title: "Scoring", module: "./sections/scoring.js" },
  { id: "preferences", title: "Scoring preferences", module: "./sections/preferences.js" },
  { id: "plugins", title: "Plugins and events", module: "./sections/plugins.js" },
  { id: "api", title: "API explorer", href: "/docs" },
];
