/* One session per tab that shows a seller page: what its content script read, the case the helper
 * made of it, and the overlay frame (extension/overlay/) that shows that case.
 *
 * The page's content script only reports what it read and gets back what the host element in the
 * page may carry (state, scenario, order id, deadline, level, deadline source). Case data, file
 * names, thumbnails and every action live between this worker and the frame, which runs in the
 * extension's own origin: the page can neither read nor drive it. The one hand-over of bytes to the
 * page is attach(): on the seller's click in the frame, this tab's case's files go into the page's
 * upload box.
 */
(function (ns) {
  "use strict";

  const client = ns.client;
  const t = ns.t;
  const cv = ns.caseview;
  const THUMB_MAX_BYTES = 4 * 1024 * 1024;
  const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
  const MAX_ATTACH_BYTES = 48 * 1024 * 1024;
  const sessions = new Map(); // tabId -> session

  function session(tabId) {
    let s = sessions.get(tabId);
    if (!s) {
      s = {
        tabId, state: "none", view: null, offline: null, candidates: null, platform: null, error: "",
        frames: new Set(), page: null, collapsed: false, seq: 0, refreshTimer: null, read: false,
      };
      sessions.set(tabId, s);
    }
    return s;
  }

  // -- 天猫 or 淘宝: the seller's word per shop --------------------------------------------------------
  /** A Tmall shop's cases also show on these Taobao hosts, where nothing in the address tells them
   * apart: the seller says once per shop, and every later case of that shop follows. */
  const SHARED_HOSTS = new Set(["refund2.taobao.com", "qn.taobao.com", "myseller.taobao.com"]);
  const SHOP_CHOICES = "shopMarketplace"; // chrome.storage.local: {shopKey: "tmall" | "taobao"}; never the page's
  const MAX_SHOP = 40;

  /** The shop the page names, else the seller's Taobao-host pages as one shop (most sellers run one). */
  function shopKeyOf(shop) {
    const name = typeof shop === "string" ? shop.replace(/\s+/g, " ").trim().slice(0, MAX_SHOP) : "";
    return name ? `shop:${name}` : "taobao-hosts";
  }

  function sharedHost(url) {
    try {
      return SHARED_HOSTS.has(new URL(url).hostname);
    } catch (_) {
      return false;
    }
  }

  async function shopChoice(key) {
    try {
      const got = await chrome.storage.local.get(SHOP_CHOICES);
      const all = got[SHOP_CHOICES] || {};
      return all[key] === "tmall" || all[key] === "taobao" ? all[key] : null;
    } catch (_) {
      return null;
    }
  }

  async function setShopChoice(key, choice) {
    const got = await chrome.storage.local.get(SHOP_CHOICES);
    const all = { ...(got[SHOP_CHOICES] || {}) };
    if (choice) all[key] = choice;
    else delete all[key];
    await chrome.storage.local.set({ [SHOP_CHOICES]: all });
  }

  function caseIdOf(s) {
    return s.state === "case" && s.view ? s.view.id : null;
  }

  // -- what each side is told ---------------------------------------------------------------------
  function frameMessage(s) {
    return {
      type: "render", state: s.state, view: s.state === "case" ? s.view : null, platform: s.platform, error: s.error,
      collapsed: s.collapsed, offline: s.state !== "case" ? s.offline : null, candidates: s.state === "choose-order" ? s.candidates : null,
      market: s.market ? { chosen: s.market.choice } : null,
    };
  }

  /** The host element's hooks: nothing about files, nothing the page did not show itself. */
  function hostInfo(s) {
    // Offline with the last view of this case: the countdown still runs from its absolute deadline.
    const v = s.state === "case" ? s.view : s.offline;
    return {
      state: s.state,
      scenario: v ? v.scenario || "" : "",
      order_id: v ? v.order_id || "" : "",
      deadline_at: v ? v.deadline_at || "" : "",
      deadline_source: v ? v.deadline_source || "" : "",
      closed: Boolean(v && v.status && v.status !== "open"),
      levels: s.platform ? s.platform.levels || null : null,
    };
  }

  function post(port, message) {
    try {
      port.postMessage(message);
      return true;
    } catch (_) {
      return false;
    }
  }

  function toFrames(s, message) {
    for (const port of s.frames) if (!post(port, message)) s.frames.delete(port);
  }

  function toPage(s, message) {
    if (s.page && !post(s.page, message)) s.page = null;
  }

  function push(s) {
    toFrames(s, frameMessage(s));
    toPage(s, { type: "host", host: hostInfo(s) });
  }

  async function setView(s, view) {
    // Recognition comes with detect only: later views of the same case keep what it said.
    const before = s.view || s.offline;
    if (!view.recognition && before && before.id === view.id && before.recognition) view = { ...view, recognition: before.recognition };
    s.view = view;
    s.offline = null;
    s.state = "case";
    s.error = "";
    // The badge, alarms and the offline copy follow in a later task: the callers push the view to
    // the frame first (storage calls copy the whole view before they return).
    setTimeout(() => {
      ns.alerts.noteCase(view).catch((err) => console.error("noteCase failed", err));
      remember(view);
    }, 0);
  }

  /** With the helper gone, the overlay keeps this case's last checklist and countdown, marked 离线.
   * Kept in chrome.storage.session: the worker may restart meanwhile, and content scripts (the
   * page's side) cannot read that storage area. */
  const cacheKey = (platform, orderId) => `lastView:${platform}:${orderId}`;

  function remember(view) {
    if (!view || !view.platform || !view.order_id) return;
    chrome.storage.session.set({ [cacheKey(view.platform, view.order_id)]: { view, at: Date.now() } }).catch(() => {});
  }

  async function recall(platform, orderId) {
    if (!platform || !orderId) return null;
    try {
      const key = cacheKey(platform, orderId);
      const got = await chrome.storage.session.get(key);
      return got[key] ? got[key].view : null;
    } catch (_) {
      return null;
    }
  }

  function problem(s, res) {
    if (s.view && (res.state === "offline" || res.state === "error")) s.offline = s.view;
    s.state = res.state || "error";
    s.error = res.error || "";
    s.view = null;
  }

  // -- from the page's content script -------------------------------------------------------------
  /** What the content script read ({found} or found: null); the platform follows from the tab's address. */
  async function pageRead(msg, sender) {
    const s = session(sender.tab.id);
    const seq = ++s.seq;
    s.read = true;
    const ctx = await ns.rules.contextFor(sender.url || "");
    s.platform = ctx.platform;
    const found = msg.found && typeof msg.found === "object" ? msg.found : null;
    if (!found || !ctx.platform) {
      none(s);
      push(s);
      return { ok: true, data: hostInfo(s) };
    }
    s.lastRead = { msg, sender: { tab: { id: sender.tab.id }, url: sender.url } }; // for the seller's 天猫/淘宝 pick
    // A Tmall shop's case read on a Taobao host (refund2.taobao.com, 千牛) is the Tmall shop's: the
    // page says 天猫, or the seller said so once for this shop (that word wins over the page's).
    let platform = msg.platform === "tmall" && ctx.platform.id === "taobao" ? "tmall" : ctx.platform.id;
    let platformSource = "page";
    s.market = null;
    if (ctx.platform.id === "taobao" && sharedHost(sender.url || "")) {
      const key = shopKeyOf(msg.shop);
      const choice = await shopChoice(key);
      if (seq !== s.seq) return { ok: true, data: hostInfo(s) };
      s.market = { key, choice };
      if (choice) {
        platform = choice;
        platformSource = "seller";
      }
    }
    if (s.state !== "case" || !s.view || s.view.order_id !== found.order_id) {
      s.state = "loading";
      s.view = null;
      s.offline = null;
      push(s);
    }
    const res = await client.request("POST", "/api/cases/detect", { json: { ...found, platform, platform_source: platformSource } });
    if (seq !== s.seq) return { ok: true, data: hostInfo(s) }; // the page moved on meanwhile
    if (res.ok) await setView(s, res.data);
    else if (res.data && res.data.code === "no_live_case") none(s); // a finished after-sale never tracked
    else {
      const last = s.view || (await recall(platform, found.order_id));
      if (seq !== s.seq) return { ok: true, data: hostInfo(s) };
      s.view = last;
      problem(s, res);
    }
    push(s);
    return { ok: true, data: hostInfo(s) };
  }

  function none(s) {
    s.state = "none";
    s.view = null;
    s.offline = null;
    s.candidates = null;
  }

  /** The page names two orders and nothing prefers one: the frame asks the seller. */
  async function askOrder(msg, sender) {
    const s = session(sender.tab.id);
    const candidates = (Array.isArray(msg.candidates) ? msg.candidates : []).map(String).filter((c) => c && c.length <= 64).slice(0, 6);
    if (candidates.length < 2) return { ok: false, state: "error", error: "candidates" };
    s.seq++;
    s.read = true;
    s.platform = (await ns.rules.contextFor(sender.url || "")).platform;
    none(s);
    s.state = "choose-order";
    s.candidates = candidates;
    push(s);
    return { ok: true, data: hostInfo(s) };
  }

  async function refresh(s) {
    const id = caseIdOf(s);
    if (!id) return;
    const res = await client.request("GET", `/api/cases/${id}`);
    if (caseIdOf(s) !== id) return;
    if (res.ok && res.data && res.data.id === id) await setView(s, res.data);
    else if (!res.ok && res.state !== "error") problem(s, res);
    else return;
    push(s);
  }

  /** Refresh at once, one request at a time: events that arrive while one is in flight fold into
   * one more request after it, so a burst costs two fetches and a single drop waits for no timer. */
  function refreshSoon(s) {
    if (s.refreshing) {
      s.refreshAgain = true;
      return;
    }
    s.refreshing = true;
    refresh(s)
      .catch(() => {})
      .finally(() => {
        s.refreshing = false;
        if (s.refreshAgain) {
          s.refreshAgain = false;
          refreshSoon(s);
        }
      });
  }

  /** Whether a helper event can change what this tab shows (another case's events cannot). */
  function concerns(s, event) {
    const id = caseIdOf(s);
    if (!id) return false;
    const payload = event.payload || {};
    if (event.type === "case" || event.type === "level") return Number(event.case_id || payload.case_id) === id;
    if (event.type === "evidence" && payload.order_id && s.view) {
      return payload.order_id === s.view.order_id && (!payload.platform || payload.platform === s.view.platform);
    }
    return true; // pending files and anything new show in every case view
  }

  // -- from the overlay frame (the seller's own clicks) -------------------------------------------
  /** The frame names the case it shows; a click that arrives after the tab moved on acts on nothing. */
  function current(msg, sender) {
    const s = sessions.get(sender.tab.id);
    const id = s ? caseIdOf(s) : null;
    if (!id || Number(msg.caseId) !== id) return null;
    return s;
  }

  const stale = () => ({ ok: false, state: "error", error: t("caseChanged") });
  const failed = (res) => ({ ok: false, state: res.state, error: res.error });

  async function afterChange(s, res) {
    if (!res.ok) return failed(res);
    if (res.data && res.data.id === caseIdOf(s)) {
      await setView(s, res.data);
      push(s);
    } else await refresh(s);
    return { ok: true };
  }

  async function fileBytes(s, fileId, maxBytes, caseId = s.view.id) {
    const res = await client.request("GET", `/api/cases/${caseId}/files/${Number(fileId)}`, { raw: true, timeout: 60000 });
    if (!res.ok) return failed(res);
    if (res.data.byteLength > maxBytes) return { ok: false, state: "error", error: t("fileTooLargeToSend") };
    return { ok: true, data: { b64: ns.bytes.toBase64(res.data), type: res.headers.get("Content-Type") || "", size: res.data.byteLength } };
  }

  /** The page's upload box as the content script finds it (limits, accept), or null where there is none. */
  async function uploadBox(s) {
    try {
      const box = await chrome.tabs.sendMessage(s.tabId, { type: "uploadBox" }, { frameId: 0 });
      return box && box.found ? box : null;
    } catch (_) {
      return null; // the page's script is gone (reloaded, navigated)
    }
  }

  /** Frame actions that hand bytes to the page or change the case: carried out only once the content
   * script has checked that the overlay is really visible where the seller clicked
   * (content/visibility.js), so a page that hid it or painted a decoy over it catches nothing. */
  const GUARDED = new Set(["attach", "attachPacket", "confirm", "setKind", "assignKind", "scenario", "caseAction", "deadline", "tracking", "offerAnswer", "marketplace"]);

  const PRESS_FRESH_MS = 5000;

  async function overlayShown(s, point) {
    const at = point && typeof point === "object" ? { x: Number(point.x), y: Number(point.y) } : null;
    try {
      const seen = await chrome.tabs.sendMessage(s.tabId, { type: "verifyOverlay", point: at }, { frameId: 0 });
      return Boolean(seen && seen.ok === true);
    } catch (_) {
      return false; // the page's script is gone: nothing vouches for what the seller saw
    }
  }

  /** The one hand-over of bytes to the page: the files of case `caseId` ([{id, filename}], in order)
   * into the page's upload box, as long as the tab still shows that case when they are fetched. Both
   * ways of attaching use it (attach below, attachPacket in submit.js). */
  async function fillUpload(s, caseId, entries) {
    const files = [];
    for (const entry of entries) {
      const got = await fileBytes(s, entry.id, MAX_ATTACH_BYTES, caseId);
      if (!got.ok) return { ok: false, state: "error", error: `${entry.filename}：${got.error}` };
      files.push({ name: entry.filename, type: got.data.type || cv.mimeOf(entry.filename), b64: got.data.b64 });
    }
    if (caseIdOf(s) !== caseId) return stale();
    let filled;
    try {
      filled = await chrome.tabs.sendMessage(s.tabId, { type: "fillUpload", files }, { frameId: 0 });
    } catch (_) {
      filled = null; // the page's script is gone (reloaded, navigated)
    }
    if (!filled || !filled.ok) return { ok: false, state: "error", error: t("noUploadBox") };
    return { ok: true, data: { count: files.length } };
  }

  /** Fill the page's upload box with this case's files of one checklist option, within the limits. */
  async function attach(s, optionIndex) {
    const view = s.view;
    const options = (view.checklist && view.checklist.options) || [];
    const option = options[Number(optionIndex)];
    if (!option) return stale();
    const box = await uploadBox(s);
    if (!box) return { ok: false, state: "error", error: t("noUploadBox") };
    const upload = cv.uploadOf(view, s.platform);
    const limit = upload && upload.max_files ? upload.max_files : 1;
    const accepts = upload ? upload.accepts : ["image"];
    const wanted = [];
    for (const item of option.items) {
      if (item.form !== "file") continue;
      for (const ev of cv.filesOf(view, item)) if (ev.filename && ev.url && cv.acceptsFile(ev.filename, accepts, box.accept)) wanted.push(ev);
    }
    if (!wanted.length) return { ok: false, state: "error", error: t("nothingToAttach") };
    const max = box.multiple ? limit : 1;
    const chosen = wanted.slice(0, max);
    const filled = await fillUpload(s, view.id, chosen);
    if (!filled.ok) return filled;
    const message = wanted.length > chosen.length ? t("attachedSome", [String(chosen.length), String(wanted.length), String(max)]) : t("attached", [String(chosen.length)]);
    return { ok: true, data: { message } };
  }

  const frameHandlers = {
    async scenario(s, msg) {
      const res = await client.request("PATCH", `/api/cases/${s.view.id}`, { json: { scenario: String(msg.scenario || "") } });
      return afterChange(s, res);
    },
    /** 标记已提交 / 已结案（赢/输）/ 重新打开, as the seller says. */
    async caseAction(s, msg) {
      if (!["submitted", "won", "lost", "closed", "reopen"].includes(msg.caseAction)) return { ok: false, state: "error", error: "action" };
      return afterChange(s, await client.request("POST", `/api/cases/${s.view.id}/action`, { json: { action: msg.caseAction } }));
    },
    /** The deadline the platform shows, typed by the seller (source: seller); null withdraws it. */
    async deadline(s, msg) {
      const at = msg.deadlineAt === null ? null : String(msg.deadlineAt || "");
      if (at !== null && Number.isNaN(Date.parse(at))) return { ok: false, state: "error", error: t("deadlineUnreadable") };
      return afterChange(s, await client.request("PATCH", `/api/cases/${s.view.id}`, { json: { deadline_at: at } }));
    },
    async confirm(s, msg) {
      const body = { kind: String(msg.kind || ""), field: String(msg.field || ""), confirmed: Boolean(msg.confirmed) };
      return afterChange(s, await client.request("POST", `/api/cases/${s.view.id}/confirm`, { json: body }));
    },
    /** 确认 / 改为… on a file the helper read: it moves into that kind's folder. */
    async setKind(s, msg) {
      const ev = cv.shownFile(s.view, msg.fileId);
      if (!ev) return stale();
      const res = await client.request("POST", `/api/cases/${s.view.id}/evidence/${ev.id}/kind`, { json: { kind: String(msg.kind || "") } });
      if (!res.ok) return failed(res);
      await refresh(s);
      return { ok: true };
    },
    async addText(s, msg) {
      const res = await client.request("POST", `/api/cases/${s.view.id}/evidence`, { json: { kind: String(msg.kind || ""), value: String(msg.value || "") } });
      if (!res.ok) return failed(res);
      await refresh(s);
      return { ok: true };
    },
    async upload(s, msg) {
      if (typeof msg.b64 !== "string") return { ok: false, state: "error", error: "upload" };
      const bytes = ns.bytes.fromBase64(msg.b64);
      if (bytes.byteLength > MAX_UPLOAD_BYTES) return { ok: false, state: "error", error: t("fileTooLarge", [String(msg.filename || ""), String(MAX_UPLOAD_BYTES / 1024 / 1024)]) };
      const form = new FormData();
      form.append("kind", String(msg.kind || ""));
      form.append("file", new Blob([bytes], { type: String(msg.mime || "application/octet-stream") }), String(msg.filename || "upload"));
      const res = await client.request("POST", `/api/cases/${s.view.id}/evidence`, { form, timeout: 120000 });
      if (!res.ok) return failed(res);
      return { ok: true };
    },
    async uploaded(s) {
      await refresh(s);
      return { ok: true };
    },
    async thumb(s, msg) {
      const ev = cv.shownFile(s.view, msg.fileId);
      if (!ev) return stale();
      if (ev.size && ev.size > THUMB_MAX_BYTES) return { ok: false, state: "error", error: t("fileTooLargeToSend") };
      return fileBytes(s, ev.id, THUMB_MAX_BYTES);
    },
    async openFile(s, msg) {
      const ev = cv.shownFile(s.view, msg.fileId);
      if (!ev) return stale();
      const q = new URLSearchParams({ case: String(s.view.id), file: String(ev.id), name: String(ev.filename || "") });
      await chrome.tabs.create({ url: chrome.runtime.getURL(`viewer/viewer.html?${q}`), openerTabId: s.tabId });
      return { ok: true };
    },
    async attach(s, msg) {
      return attach(s, msg.option);
    },
    /** 按天猫店铺处理 / 改回淘宝: kept for this shop in the worker's own storage, and this case read
     * again at once with it (the helper relabels the case and moves its folder). */
    async marketplace(s, msg) {
      if (!s.market || !s.lastRead || !["tmall", "taobao"].includes(msg.marketplace)) return stale();
      const { key, choice: before } = s.market;
      await setShopChoice(key, msg.marketplace);
      await pageRead(s.lastRead.msg, s.lastRead.sender);
      if (s.state === "case") return { ok: true };
      // The helper refused (e.g. the order already has that marketplace's case): the shop stays as it was.
      const failure = { ok: false, state: "error", error: s.error || t("caseChanged") };
      await setShopChoice(key, before);
      await pageRead(s.lastRead.msg, s.lastRead.sender);
      return failure;
    },
    /** The seller works in this case's overlay: order-less inbox files (截图 1.png) go to it. */
    async focus(s) {
      const res = await client.request("POST", "/api/focus", { json: { case_id: s.view.id } });
      return res.ok ? { ok: true } : failed(res);
    },
  };

  /** A request from the overlay frame of sender.tab; the frame's own origin is checked by the router. */
  async function fromFrame(msg, sender) {
    const s = sessions.get(sender.tab.id) || session(sender.tab.id);
    if (msg.action === "retry") {
      ns.live.reconnectNow();
      toPage(s, { type: "reread" });
      return { ok: true };
    }
    if (msg.action === "options") {
      await chrome.runtime.openOptionsPage();
      return { ok: true };
    }
    if (msg.action === "chooseOrder") {
      const orderId = String(msg.orderId || "");
      if (s.state !== "choose-order" || !(s.candidates || []).includes(orderId)) return stale();
      toPage(s, { type: "orderChosen", orderId });
      return { ok: true };
    }
    if (!Object.hasOwn(frameHandlers, msg.action)) return { ok: false, state: "error", error: "action" };
    const live = current(msg, sender);
    if (!live) return stale();
    if (GUARDED.has(msg.action)) {
      // Both the seller's press (checked when it happened) and now: the page may have shown the
      // overlay again in between, or hidden it only after the press.
      const press = live.press && Date.now() - live.press.at < PRESS_FRESH_MS ? live.press : null;
      const pressed = press ? await press.seen : true;
      if (!pressed || !(await overlayShown(live, msg.point))) {
        return { ok: false, state: "error", error: t("overlayCovered"), code: "overlay_covered" };
      }
    }
    return frameHandlers[msg.action](live, msg);
  }

  // -- ports: the content script's ("page") and the frame's ("overlay") ----------------------------
  function onPagePort(port, sender) {
    const s = session(sender.tab.id);
    s.page = port;
    port.onDisconnect.addListener(() => {
      if (s.page === port) s.page = null;
    });
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "layout") {
        s.collapsed = Boolean(msg.collapsed);
        toFrames(s, { type: "layout", collapsed: s.collapsed });
      }
      // pings only keep the worker alive while a case is shown
    });
    post(port, { type: "status", state: client.stateNow().state });
    ns.live.connect();
  }

  function onFramePort(port, sender) {
    const s = session(sender.tab.id);
    s.frames.add(port);
    port.onDisconnect.addListener(() => s.frames.delete(port));
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== "object") return;
      // Layout only: where the frame sits is the content script's business, not the frame's.
      if (msg.type === "size") toPage(s, { type: "size", height: Number(msg.height) || 0, head: Number(msg.head) || 0 });
      else if (msg.type === "collapse") toPage(s, { type: "collapse", collapsed: Boolean(msg.collapsed) });
      else if (msg.type === "pressed") s.press = { at: Date.now(), seen: overlayShown(s, msg.point) }; // checked as it happens
    });
    post(port, frameMessage(s));
    // A restarted worker has forgotten the tab: the content script reads the page again.
    if (!s.read) toPage(s, { type: "reread" });
    ns.live.connect();
  }

  // -- the helper's state and live events ---------------------------------------------------------
  client.onState((state) => {
    for (const s of sessions.values()) {
      toPage(s, { type: "status", state });
      if (state === "online") refreshSoon(s);
      else if ((state === "offline" || state === "unpaired") && s.state === "case") {
        problem(s, { state, error: "" });
        push(s);
      }
    }
  });

  ns.live.onEvent((event) => {
    if (!event) return;
    for (const s of sessions.values()) {
      if (event.type === "rules") toPage(s, { type: "rules" });
      else if (concerns(s, event)) refreshSoon(s);
    }
  });

  chrome.tabs.onRemoved.addListener((tabId) => {
    sessions.delete(tabId);
  });

  ns.tabs = { pageRead, askOrder, fromFrame, onPagePort, onFramePort, sessions, frameHandlers, refresh, uploadBox, fillUpload, GUARDED };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
