/* Live updates: one WebSocket to GET /api/events, fanned out to every open page through ports.
 *
 * Browsers cannot put headers on a WebSocket, so a single-use ticket from POST /api/events/ticket
 * authenticates it (the long-lived token never appears in a URL). When the socket drops, it
 * reconnects with backoff and asks for the events it missed (?since=<last id>). Pages keep the
 * service worker alive while they show a case by pinging their port.
 */
(function (ns) {
  "use strict";

  const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  const ports = new Set();
  const eventListeners = new Set();
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let lastEventId = null;
  let connecting = false;

  function broadcast(message) {
    for (const port of ports) {
      try {
        port.postMessage(message);
      } catch (_) {
        ports.delete(port);
      }
    }
  }

  function onEvent(fn) {
    eventListeners.add(fn);
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  /** Open the socket unless it is open or opening; safe to call as often as wanted. */
  async function connect() {
    clearTimeout(retryTimer);
    if (connecting || (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING))) return;
    connecting = true;
    try {
      const { port, token } = await ns.client.config();
      if (!token) {
        ns.client.setState("unpaired");
        return; // pairing calls connect() again
      }
      const res = await ns.client.request("POST", "/api/events/ticket", { json: {} });
      if (!res.ok) {
        if (res.state === "offline" || res.state === "error" || res.state === "foreign") scheduleReconnect();
        return;
      }
      const since = lastEventId !== null ? `&since=${lastEventId}` : "";
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?ticket=${encodeURIComponent(res.data.ticket)}${since}`);
      socket = ws;
      ws.onopen = () => {
        attempt = 0;
        ns.client.setState("online");
      };
      ws.onmessage = (msg) => {
        let event;
        try {
          event = JSON.parse(msg.data);
        } catch (_) {
          return;
        }
        if (typeof event.id === "number") lastEventId = Math.max(lastEventId || 0, event.id);
        for (const fn of eventListeners) {
          try {
            fn(event);
          } catch (err) {
            console.error("event listener failed", err);
          }
        }
        broadcast({ type: "event", event });
      };
      ws.onclose = () => {
        if (socket === ws) socket = null;
        // Find out why (helper gone, token revoked) so pages can say so, then try again.
        ns.client.health().then((h) => {
          if (!h.ok) return;
          return ns.client.request("GET", "/api/cases?status=open");
        });
        scheduleReconnect();
      };
    } finally {
      connecting = false;
    }
  }

  function reconnectNow() {
    attempt = 0;
    if (socket) {
      try {
        socket.close();
      } catch (_) {
        /* already closed */
      }
      socket = null;
    }
    connect();
  }

  function isOpen() {
    return Boolean(socket && socket.readyState === WebSocket.OPEN);
  }

  chrome.runtime.onConnect.addListener((port) => {
    if (port.name !== "live") return;
    ports.add(port);
    port.onDisconnect.addListener(() => ports.delete(port));
    port.onMessage.addListener(() => {
      /* pings only keep the worker alive */
    });
    port.postMessage({ type: "status", state: ns.client.stateNow().state });
    connect();
  });

  ns.client.onState((state) => {
    broadcast({ type: "status", state });
    if (state === "online") connect();
  });

  ns.live = { connect, reconnectNow, onEvent, broadcast, isOpen };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
