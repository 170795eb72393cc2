/* Messages from the content scripts, the popup and the options page, one small handler each.
 * Replies are plain JSON ({ok, data} or {ok:false, state, error}); file bytes travel as base64
 * because runtime messages carry no ArrayBuffer. */
(function (ns) {
  "use strict";

  const client = ns.client;
  const MAX_FILE_MESSAGE = 48 * 1024 * 1024;

  const { toBase64 } = ns.bytes;

  function caseId(value) {
    const id = Number(value);
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  function bad(error) {
    return { ok: false, state: "error", error };
  }

  /** Same reply shape as client.request, with a view noted for the badge and notifications. */
  async function withView(res) {
    if (res.ok && res.data && res.data.id) await ns.alerts.noteCase(res.data);
    return res.ok
      ? { ok: true, data: res.data }
      : { ok: false, state: res.state, error: res.error, status: res.status, code: (res.data && res.data.code) || null };
  }

  async function openCase(id) {
    const res = await client.request("GET", `/api/cases/${id}`);
    client.request("POST", "/api/focus", { json: { case_id: id } });
    if (res.ok && res.data.url && /^https?:\/\//.test(res.data.url)) {
      await chrome.tabs.create({ url: res.data.url });
      return { ok: true };
    }
    return res.ok ? bad(ns.t("noCaseUrl")) : { ok: false, state: res.state, error: res.error };
  }

  const OWN_ORIGIN = `chrome-extension://${chrome.runtime.id}`;
  const FRAME_PATH = "/overlay/overlay.html";

  /** Which of the extension's contexts sent this: "frame" (the overlay frame inside a seller's tab),
   * "extension" (popup, options, viewer), "content" (the content script of a tab's top page), or null.
   * The overlay frame may be loaded through its dynamic address (web_accessible_resources'
   * use_dynamic_url), so its origin is checked as well as its path. */
  function senderKind(sender) {
    if (!sender || sender.id !== chrome.runtime.id) return null;
    const url = String(sender.url || "");
    const origin = String(sender.origin || "");
    const own = origin === OWN_ORIGIN || url.startsWith(OWN_ORIGIN + "/") || ownDynamic(url);
    if (own) {
      let path = "";
      try {
        path = new URL(url).pathname;
      } catch (_) {
        return null;
      }
      if (path === FRAME_PATH) return sender.tab && sender.frameId > 0 ? "frame" : null;
      return "extension";
    }
    if (sender.tab && sender.frameId === 0 && /^https:\/\//.test(url)) return "content";
    return null;
  }

  function ownDynamic(url) {
    const dynamic = chrome.runtime.dynamicId;
    return Boolean(dynamic) && url.startsWith(`chrome-extension://${dynamic}/`);
  }

  const fromExtensionPage = (sender) => senderKind(sender) === "extension";

  /** What the page's content script may ask: its adapter, and to report what it read. No case data. */
  const contentHandlers = {
    async context(msg, sender) {
      return { ok: true, data: await ns.rules.contextFor(sender.url || "") };
    },
    async pageRead(msg, sender) {
      return ns.tabs.pageRead(msg, sender);
    },
    async askOrder(msg, sender) {
      return ns.tabs.askOrder(msg, sender);
    },
  };

  const frameHandlers = {
    async overlay(msg, sender) {
      return ns.tabs.fromFrame(msg, sender);
    },
  };

  const handlers = {
    async context(msg) {
      return { ok: true, data: await ns.rules.contextFor(msg.href) };
    },

    /** The popup's 标记已提交 / 已结案（赢/输）/ 重新打开. */
    async caseAction(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      if (!["submitted", "won", "lost", "closed", "reopen"].includes(msg.action)) return bad("action");
      return withView(await client.request("POST", `/api/cases/${id}/action`, { json: { action: msg.action } }));
    },

    async fileBytes(msg) {
      const id = caseId(msg.caseId);
      const fileId = caseId(msg.fileId);
      if (!id || !fileId) return bad("file id");
      const res = await client.request("GET", `/api/cases/${id}/files/${fileId}`, { raw: true, timeout: 60000 });
      if (!res.ok) return { ok: false, state: res.state, error: res.error };
      const limit = Math.min(Number(msg.maxBytes) || MAX_FILE_MESSAGE, MAX_FILE_MESSAGE);
      if (res.data.byteLength > limit) return bad(ns.t("fileTooLargeToSend"));
      return { ok: true, data: { b64: toBase64(res.data), type: res.headers.get("Content-Type") || "", size: res.data.byteLength } };
    },

    async openFile(msg) {
      const id = caseId(msg.caseId);
      const fileId = caseId(msg.fileId);
      if (!id || !fileId) return bad("file id");
      const q = new URLSearchParams({ case: String(id), file: String(fileId), name: String(msg.filename || "") });
      await chrome.tabs.create({ url: chrome.runtime.getURL(`viewer/viewer.html?${q}`) });
      return { ok: true };
    },

    async openOptions() {
      await chrome.runtime.openOptionsPage();
      return { ok: true };
    },

    async reconnect() {
      ns.live.reconnectNow();
      return { ok: true };
    },

    async status() {
      const probe = await client.probe();
      const { port, token } = await client.config();
      return { ok: true, data: { ...probe, port, paired: Boolean(token), live: ns.live.isOpen() } };
    },

    async list() {
      return ns.alerts.refreshCases();
    },

    async focus(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      const res = await client.request("POST", "/api/focus", { json: { case_id: id } });
      return res.ok ? { ok: true, data: res.data } : { ok: false, state: res.state, error: res.error };
    },

    async openCase(msg) {
      const id = caseId(msg.id);
      return id ? openCase(id) : bad("case id");
    },

    // -- extension pages only -------------------------------------------------------------------
    async pair(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      if (msg.port !== undefined) await handlers.setPort(msg, sender);
      const res = await client.pair(msg.code);
      if (!res.ok) return { ok: false, state: res.state, error: res.error, status: res.status };
      ns.rules.forget();
      await ns.rules.refresh();
      ns.live.reconnectNow();
      await ns.alerts.refreshCases();
      return { ok: true, data: { origin: res.data.origin } };
    },

    async setPort(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      const port = Number(msg.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return bad(ns.t("badPort"));
      const { port: old } = await client.config();
      await ns.client.saveConfig({ port });
      if (old !== port) ns.live.reconnectNow();
      return { ok: true, data: { port } };
    },

    async unpair(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      await ns.client.forgetToken();
      client.setState("unpaired");
      ns.live.reconnectNow();
      return { ok: true };
    },
  };

  const TABLES = { content: contentHandlers, frame: frameHandlers, extension: handlers };

  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    const kind = senderKind(sender);
    const table = kind ? TABLES[kind] : null;
    if (!table || !msg || typeof msg.type !== "string" || !Object.hasOwn(table, msg.type)) return false;
    table[msg.type](msg, sender)
      .then(sendResponse)
      .catch((err) => {
        console.error("message failed", msg.type, err);
        sendResponse(bad(String(err && err.message ? err.message : err)));
      });
    return true; // the reply comes asynchronously
  });

  chrome.runtime.onConnect.addListener((port) => {
    const kind = senderKind(port.sender);
    if (port.name === "page" && kind === "content") ns.tabs.onPagePort(port, port.sender);
    else if (port.name === "overlay" && kind === "frame") ns.tabs.onFramePort(port, port.sender);
  });

  ns.router = { openCase, handlers, senderKind };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
