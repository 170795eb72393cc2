/* The one way to the local helper: every HTTP call of the extension goes through here.
 *
 * Pages cannot reach 127.0.0.1 (Local Network Access), so content scripts, the popup and the
 * options page all ask the service worker. Every request carries X-Juzheng-Api; all but the public
 * ones carry the pairing token. Failures are sorted into states the UI can explain:
 * offline (nothing listens), foreign (something else listens), unpaired (401), version (412).
 */
(function (ns) {
  "use strict";

  const API_VERSION = "1";
  const DEFAULT_PORT = 17817;
  const TIMEOUT_MS = 15000;
  const listeners = new Set();
  let state = "unknown";
  let lastError = "";

  // Every request needs the port and token: kept in memory instead of a storage round trip per
  // request (a page read's detect is on the overlay's critical path); dropped when either changes.
  let cached = null;
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && ("port" in changes || "token" in changes)) cached = null;
  });

  async function config() {
    if (cached) return cached;
    const got = await chrome.storage.local.get({ port: DEFAULT_PORT, token: null });
    const port = Number(got.port);
    cached = { port: Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_PORT, token: got.token || null };
    return cached;
  }

  /** The one way the worker changes the port or token: the next request sees the new values at once. */
  async function saveConfig(values) {
    await chrome.storage.local.set(values);
    cached = null;
  }

  async function forgetToken() {
    await chrome.storage.local.remove("token");
    cached = null;
  }

  function setState(next, error) {
    lastError = error || "";
    if (next === state) return;
    state = next;
    for (const fn of listeners) {
      try {
        fn(state);
      } catch (err) {
        console.error("state listener failed", err);
      }
    }
  }

  function onState(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }

  function stateNow() {
    return { state, error: lastError };
  }

  /**
   * request(method, path, {json, form, auth=true, etag}) →
   *   {ok, status, data, headers, state?, error?}; never throws.
   */
  async function request(method, path, opts) {
    const o = opts || {};
    const { port, token } = await config();
    const headers = { "X-Juzheng-Api": API_VERSION };
    if (o.auth !== false) {
      if (!token) {
        setState("unpaired");
        return { ok: false, status: 0, state: "unpaired", error: ns.t("unpairedTitle") };
      }
      headers.Authorization = `Bearer ${token}`;
    }
    if (o.etag) headers["If-None-Match"] = o.etag;
    let body;
    if (o.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(o.json);
    } else if (o.form) {
      body = o.form; // fetch sets the multipart boundary
    }
    let response;
    try {
      response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers,
        body,
        cache: "no-store",
        credentials: "omit",
        signal: AbortSignal.timeout(o.timeout || TIMEOUT_MS),
      });
    } catch (err) {
      setState("offline", String(err));
      return { ok: false, status: 0, state: "offline", error: ns.t("offlineTitle") };
    }
    // Only our helper sends this header: anything else on the port is another program.
    if (!response.headers.get("X-Juzheng-Version")) {
      setState("foreign");
      return { ok: false, status: response.status, state: "foreign", error: ns.t("foreignTitle") };
    }
    if (response.status === 304) return { ok: true, status: 304, data: null, headers: response.headers };
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (o.raw && response.ok) {
      data = await response.arrayBuffer();
    } else if (type.includes("application/json")) {
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
    }
    if (response.ok) {
      if (o.auth !== false) setState("online");
      return { ok: true, status: response.status, data, headers: response.headers };
    }
    const error = (data && data.error) || `HTTP ${response.status}`;
    if (response.status === 401 && o.auth !== false) {
      setState("unpaired", error);
      return { ok: false, status: 401, state: "unpaired", error };
    }
    if (response.status === 412) {
      setState("version", error);
      return { ok: false, status: 412, state: "version", error };
    }
    const code = (data && data.code) || null;
    if (response.status === 403 && o.auth !== false && (code === "origin_not_paired" || code === "origin_refused")) {
      // Paired with another copy of the extension: this one must pair again.
      setState("unpaired", error);
      return { ok: false, status: 403, state: "unpaired", error };
    }
    return { ok: false, status: response.status, state: "error", error, code, data };
  }

  /** GET /api/health without a token: is our helper there, and are we paired as far as we know? */
  async function health() {
    const res = await request("GET", "/api/health", { auth: false, timeout: 5000 });
    if (!res.ok) return res;
    if (!res.data || res.data.app !== "juzheng") {
      setState("foreign");
      return { ok: false, state: "foreign", error: ns.t("foreignTitle") };
    }
    return res;
  }

  /** The current state, checked against the helper now (options page, popup, reconnect). */
  async function probe() {
    const h = await health();
    if (!h.ok) return { state: h.state, error: h.error };
    const { token } = await config();
    if (!token) {
      setState("unpaired");
      return { state: "unpaired", health: h.data };
    }
    const res = await request("GET", "/api/cases?status=open");
    return { state: res.ok ? "online" : res.state, error: res.error, health: h.data };
  }

  async function pair(code) {
    const res = await request("POST", "/api/pair", { auth: false, json: { code: String(code || "").trim() } });
    if (!res.ok) return res;
    await saveConfig({ token: res.data.token });
    setState("online");
    return res;
  }

  ns.client = { API_VERSION, DEFAULT_PORT, config, saveConfig, forgetToken, request, health, probe, pair, onState, stateNow, setState };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
