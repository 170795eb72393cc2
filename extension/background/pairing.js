/* Pairing without a terminal, and finding the helper's port by itself.
 *
 * discover: the port saved, then the default and the few the helper suggests when its port is
 * taken (17817–17821); the first that answers as our helper is kept. Extensions cannot read the
 * helper's files, so a small fixed list is what both sides can know.
 * pairAsk / pairAskStatus: ask the helper, which asks the seller 「允许 举证助手扩展 连接本机助手？」;
 * the ask's secret stays in this worker's session storage, never in a page.
 */
(function (ns) {
  "use strict";

  const client = ns.client;
  const CANDIDATE_PORTS = [17817, 17818, 17819, 17820, 17821];
  const PROBE_MS = 1500;
  const handlers = ns.router.handlers;

  const fromExtensionPage = (sender) => (sender.url || "").startsWith(`chrome-extension://${chrome.runtime.id}/`);
  const bad = (error, extra) => ({ ok: false, state: "error", error, ...(extra || {}) });

  async function answersAsHelper(port) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/health`, {
        headers: { "X-Juzheng-Api": client.API_VERSION },
        cache: "no-store",
        credentials: "omit",
        signal: AbortSignal.timeout(PROBE_MS),
      });
      if (!r.headers.get("X-Juzheng-Version")) return null;
      const data = await r.json();
      return data && data.app === "juzheng" ? data : null;
    } catch (_) {
      return null;
    }
  }

  async function discover() {
    const { port: saved } = await client.config();
    const ports = [saved, ...CANDIDATE_PORTS.filter((p) => p !== saved)];
    for (const port of ports) {
      const health = await answersAsHelper(port);
      if (health) {
        if (port !== saved) {
          await client.saveConfig({ port });
          ns.live.reconnectNow();
        }
        return { found: true, port, health };
      }
    }
    return { found: false, port: saved, tried: ports };
  }

  /** What the seller will see in 已配对的浏览器: the browser's brand and the OS, e.g. "Microsoft Edge · Windows". */
  function browserName() {
    const data = navigator.userAgentData;
    const brands = (data && data.brands ? data.brands : []).map((b) => b.brand).filter((b) => !/not.?a.?brand/i.test(b));
    const brand = brands.find((b) => b !== "Chromium") || brands[0] || "Chromium";
    const platform = (data && data.platform) || "";
    return platform ? `${brand} · ${platform}` : brand;
  }

  async function afterPaired() {
    ns.rules.forget();
    await ns.rules.refresh();
    ns.live.reconnectNow();
    await ns.alerts.refreshCases();
  }

  Object.assign(handlers, {
    async discover(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      return { ok: true, data: await discover() };
    },

    async pairAsk(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      const found = await discover();
      if (!found.found) return { ok: false, state: "offline", error: ns.t("offlineTitle"), data: found };
      const { token: previous } = await chrome.storage.local.get("token");
      const res = await client.request("POST", "/api/pair/ask", { auth: false, json: { browser: browserName() } });
      if (!res.ok) return { ok: false, state: res.state, error: res.error, status: res.status };
      // The old token goes with the answer, so pairing again replaces this browser's entry.
      await chrome.storage.session.set({ pairAsk: { id: res.data.id, secret: res.data.secret, ...(previous ? { previous } : {}) } });
      return { ok: true, data: { question: res.data.question, extensionId: res.data.extension_id, expiresAt: res.data.expires_at } };
    },

    async pairAskStatus(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      const { pairAsk } = await chrome.storage.session.get("pairAsk");
      if (!pairAsk) return { ok: true, data: { state: "none" } };
      const res = await client.request("POST", "/api/pair/ask/status", { auth: false, json: pairAsk });
      if (!res.ok) {
        if (res.status === 404) await chrome.storage.session.remove("pairAsk");
        return { ok: false, state: res.state, error: res.error, status: res.status };
      }
      const { state, token, message } = res.data;
      if (state !== "pending") await chrome.storage.session.remove("pairAsk");
      if (state === "approved" && token) {
        await client.saveConfig({ token });
        client.setState("online");
        await afterPaired();
      }
      return { ok: true, data: { state, message } };
    },

    // The code path (a code from the tray's 显示配对码 or `juzheng pair`), naming the browser too.
    async pair(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      if (msg.port !== undefined) await handlers.setPort(msg, sender);
      const code = String(msg.code || "").trim();
      const { token: previous } = await chrome.storage.local.get("token");
      const json = { code, browser: browserName(), ...(previous ? { previous } : {}) };
      const res = await client.request("POST", "/api/pair", { auth: false, json });
      if (!res.ok) return { ok: false, state: res.state, error: res.error, status: res.status };
      await client.saveConfig({ token: res.data.token });
      client.setState("online");
      await afterPaired();
      return { ok: true, data: { origin: res.data.origin } };
    },

    async pairAskCancel(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      await chrome.storage.session.remove("pairAsk");
      return { ok: true };
    },
  });

  ns.pairing = { discover, browserName, CANDIDATE_PORTS };
})(globalThis.Juzheng);
