// Script hooks: an executable in the hooks folder, run with the event's payload.

import { badge, checkField, eventField, lastStatus, numberField, targetSection, textField, when } from "./targets.js";

export default targetSection({
  title: "Script hooks",
  path: "/hooks",
  listKey: "hooks",
  noun: "script hook",
  logFilter: "hook_id",
  columns: [
    { label: "Name", cell: (r) => r.name },
    { label: "Event", cell: (r) => r.event_name },
    { label: "Script", cell: (r) => r.script_path },
    { label: "Enabled", cell: (r) => (r.enabled ? badge("enabled", "ok") : badge("disabled", "off")) },
    { label: "Last status", cell: (r) => lastStatus(r.last_status ? r.last_status === "success" : null, r.last_status || "") },
    { label: "Triggered", num: true, cell: (r) => String(r.trigger_count ?? 0) },
    { label: "Last run", cell: (r) => when(r.last_triggered_at) },
  ],
  fields: (r, events) => [
    textField("name", "Name", r?.name, { required: true, maxlength: 200 }),
    eventField(r?.event_name, events, false),
    textField("script_path", "Script", r?.script_path, { required: true },
      "An executable file inside the server's hooks folder (SUBLARR_HOOKS_DIR). It gets the payload as JSON on stdin and SUBLARR_* variables."),
    numberField("timeout_seconds", "Timeout (seconds)", r?.timeout_seconds ?? 30, 1, 3600),
    checkField("enabled", "Enabled", r ? r.enabled : true),
  ],
});
