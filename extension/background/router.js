/* Messages from the content scripts, the popup and the options page, one small handler each.
 * Replies are plain JSON ({ok, data} or {ok:false, state, error}); file bytes travel as base64
 * because runtime messages carry no ArrayBuffer. */
(function (ns) {
  "use strict";

  const client = ns.client;
  const MAX_FILE_MESSAGE = 48 * 1024 * 1024;

  const { toBase64, fromBase64 } = ns.bytes;

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

  const fromExtensionPage = (sender) => sender.origin === `chrome-extension://${chrome.runtime.id}` || (sender.url || "").startsWith(`chrome-extension://${chrome.runtime.id}/`);

  const handlers = {
    async context(msg) {
      return { ok: true, data: await ns.rules.contextFor(msg.href) };
    },

    async detect(msg) {
      return withView(await client.request("POST", "/api/cases/detect", { json: msg.payload }));
    },

    async case(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      return withView(await client.request("GET", `/api/cases/${id}`));
    },

    async patchCase(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      return withView(await client.request("PATCH", `/api/cases/${id}`, { json: msg.patch || {} }));
    },

    /** 标记已提交 / 已结案（赢/输）/ 重新打开. */
    async caseAction(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      if (!["submitted", "won", "lost", "closed", "reopen"].includes(msg.action)) return bad("action");
      return withView(await client.request("POST", `/api/cases/${id}/action`, { json: { action: msg.action } }));
    },

    async confirm(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      return withView(await client.request("POST", `/api/cases/${id}/confirm`, { json: msg.body }));
    },

    async addText(msg) {
      const id = caseId(msg.id);
      if (!id) return bad("case id");
      const res = await client.request("POST", `/api/cases/${id}/evidence`, { json: msg.body });
      return res.ok ? { ok: true, data: res.data } : { ok: false, state: res.state, error: res.error };
    },

    async upload(msg) {
      const id = caseId(msg.id);
      if (!id || typeof msg.b64 !== "string") return bad("upload");
      const form = new FormData();
      form.append("kind", String(msg.kind || ""));
      form.append("file", new Blob([fromBase64(msg.b64)], { type: msg.mime || "application/octet-stream" }), String(msg.filename || "upload"));
      const res = await client.request("POST", `/api/cases/${id}/evidence`, { form, timeout: 120000 });
      return res.ok ? { ok: true, data: res.data } : { ok: false, state: res.state, error: res.error };
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
      await chrome.storage.local.set({ port });
      if (old !== port) ns.live.reconnectNow();
      return { ok: true, data: { port } };
    },

    async unpair(msg, sender) {
      if (!fromExtensionPage(sender)) return bad("forbidden");
      await chrome.storage.local.remove("token");
      client.setState("unpaired");
      ns.live.reconnectNow();
      return { ok: true };
    },
  };

  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || !msg || typeof msg.type !== "string" || !Object.hasOwn(handlers, msg.type)) return false;
    handlers[msg.type](msg, sender)
      .then(sendResponse)
      .catch((err) => {
        console.error("message failed", msg.type, err);
        sendResponse(bad(String(err && err.message ? err.message : err)));
      });
    return true; // the reply comes asynchronously
  });

  ns.router = { openCase, handlers };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
