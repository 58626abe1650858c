// The Socket.IO connection: one per signed-in page. Every sublarr event arrives under its
// own name with its payload plus event_id and timestamp; the last MAX_KEPT are kept so a
// section opened later still shows what came in meanwhile.

const MAX_KEPT = 500;

/** connectLive(key) -> {events, onEvent(fn), onStatus(fn), status, close()} */
export function connectLive(key) {
  const listeners = { event: new Set(), status: new Set() };
  const live = {
    events: [],
    status: "connecting",
    onEvent(fn) { listeners.event.add(fn); return () => listeners.event.delete(fn); },
    onStatus(fn) { listeners.status.add(fn); return () => listeners.status.delete(fn); },
    close() { socket.close(); },
  };
  const setStatus = (status, detail = "") => {
    live.status = status;
    listeners.status.forEach((fn) => fn(status, detail));
  };
  // window.io comes from the vendored socket.io client (vendor/socket.io/socket.io.min.js).
  const socket = window.io({
    auth: { apikey: key },
    transports: ["websocket", "polling"],
    reconnectionDelayMax: 5000,
  });
  socket.on("connect", () => setStatus("connected"));
  socket.on("disconnect", (reason) => {
    // "io server disconnect": the server closed it; reconnect ourselves.
    if (reason === "io server disconnect") socket.connect();
    setStatus("reconnecting", reason);
  });
  socket.on("connect_error", (error) => {
    const refused = error && error.message === "unauthorized";
    setStatus(refused ? "refused" : "reconnecting", error ? error.message : "");
    if (refused) socket.close();
  });
  socket.onAny((name, data) => {
    const event = {
      name,
      data,
      id: data && typeof data === "object" ? data.event_id || "" : "",
      at: data && typeof data === "object" && data.timestamp ? data.timestamp : new Date().toISOString(),
    };
    live.events.unshift(event);
    if (live.events.length > MAX_KEPT) live.events.length = MAX_KEPT;
    listeners.event.forEach((fn) => fn(event));
  });
  return live;
}
