/* The way from the folder to the platform, on the worker's side: the packet that goes into the
 * upload box (converted where the box needs it), the inbox offer, giving a file its kind, the
 * export, and the focus session that lasts while the case's tab is open and visible.
 *
 * Frame actions are added to ns.tabs.frameHandlers: each acts only on the case the sender's own tab
 * shows (tabs.js checks that before calling).
 */
(function (ns) {
  "use strict";

  const client = ns.client;
  const t = ns.t;
  const FOCUS_EVERY_MS = 60 * 1000; // the helper lets a focus lapse after 10 minutes without renewal

  const failed = (res) => ({ ok: false, state: res.state, error: res.error });
  const ok = (data) => ({ ok: true, data });

  async function packet(s, option) {
    return client.request("POST", `/api/cases/${s.view.id}/packet`, { json: { option: Number(option) || 0 }, timeout: 120000 });
  }

  /** The packet's files, in order, into the page's upload box; what cannot go in is said, not skipped. */
  async function attachPacket(s, msg) {
    const view = s.view;
    const box = await ns.tabs.uploadBox(s);
    if (!box) return { ok: false, state: "error", error: t("noUploadBox") };
    const res = await packet(s, msg.option);
    if (!res.ok) return failed(res);
    const prepared = res.data;
    const entries = prepared.entries || [];
    if (!entries.length) return { ok: false, state: "error", error: t("nothingToAttach") };
    const max = box.multiple ? entries.length : 1;
    const chosen = entries.slice(0, max).map((e) => ({ id: e.evidence_id, filename: e.filename }));
    const filled = await ns.tabs.fillUpload(s, view.id, chosen);
    if (!filled.ok) return filled;
    await ns.tabs.refresh(s);
    return ok({ count: filled.data.count, total: entries.length, problems: prepared.errors || [] });
  }

  const handlers = {
    async packet(s, msg) {
      const res = await packet(s, msg.option);
      if (!res.ok) return failed(res);
      await ns.tabs.refresh(s); // conversions made beside the originals show in the view
      return ok(res.data);
    },
    attachPacket,
    async offer(s) {
      const res = await client.request("GET", `/api/cases/${s.view.id}/inbox-offer`);
      return res.ok ? ok(res.data) : failed(res);
    },
    async offerAnswer(s, msg) {
      const paths = Array.isArray(msg.paths) ? msg.paths.map(String).slice(0, 200) : [];
      const res = await client.request("POST", `/api/cases/${s.view.id}/inbox-offer`, { json: { paths, accept: Boolean(msg.accept) } });
      if (!res.ok) return failed(res);
      await ns.tabs.refresh(s);
      return ok(res.data);
    },
    async assignKind(s, msg) {
      const ev = ns.caseview.shownFile(s.view, msg.fileId);
      if (!ev) return { ok: false, state: "error", error: t("caseChanged") };
      const res = await client.request("POST", `/api/cases/${s.view.id}/evidence/${Number(ev.id)}/kind`, { json: { kind: String(msg.kind || "") } });
      if (!res.ok) return failed(res);
      await ns.tabs.refresh(s);
      return ok(res.data);
    },
    /** The seller typed the tracking number the explanation asks for. */
    async tracking(s, msg) {
      const value = String(msg.value || "").trim().slice(0, 64);
      if (!value) return { ok: false, state: "error", error: t("caseChanged") };
      const res = await client.request("PATCH", `/api/cases/${s.view.id}`, { json: { tracking_number: value } });
      if (!res.ok) return failed(res);
      await ns.tabs.refresh(s);
      return ok(null);
    },
    async pack(s, msg) {
      const res = await client.request("POST", `/api/cases/${s.view.id}/pack`, { json: { zip: Boolean(msg.zip) }, timeout: 180000 });
      return res.ok ? ok(res.data) : failed(res);
    },
  };
  // -- focus: begun by the seller's own work in the overlay, kept while the tab is visible -----------
  // Only a trusted event in the frame starts it (a page that merely looks like a case gets none);
  // from then on it is renewed while the tab is open and visible, and ended when the tab closes or
  // moves on to another case.
  const focused = new Map(); // tabId -> case id last told to the helper
  const startFocus = ns.tabs.frameHandlers.focus;
  handlers.focus = async (s, msg) => {
    focused.set(s.tabId, s.view.id);
    return startFocus(s, msg);
  };
  Object.assign(ns.tabs.frameHandlers, handlers);

  async function visible(tabId) {
    try {
      const tab = await chrome.tabs.get(tabId);
      if (!tab.active) return false;
      const win = await chrome.windows.get(tab.windowId);
      return win.state !== "minimized";
    } catch (_) {
      return false;
    }
  }

  function end(tabId) {
    const caseId = focused.get(tabId);
    focused.delete(tabId);
    if (caseId) client.request("POST", "/api/focus", { json: { case_id: caseId, ended: true } });
  }

  /** Renew the focus of every visible tab whose case the seller worked on; end it where the tab moved on. */
  async function tick() {
    for (const [tabId, caseId] of [...focused]) {
      const s = ns.tabs.sessions.get(tabId);
      const shown = s && s.state === "case" && s.view ? s.view.id : null;
      if (shown !== caseId) {
        if (!s || s.state !== "loading") end(tabId); // closed or on another case; a reload keeps it
        continue;
      }
      if (await visible(tabId)) await client.request("POST", "/api/focus", { json: { case_id: caseId } });
    }
  }

  setInterval(tick, FOCUS_EVERY_MS);
  chrome.tabs.onActivated.addListener(() => tick());
  chrome.tabs.onRemoved.addListener((tabId) => end(tabId));

  ns.submit = { tick, focused };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
