/* The content script's flow: find this page's adapter, read the page, tell the service worker what
 * was read (the page's origin cannot reach 127.0.0.1, and case data never comes back here), keep
 * the overlay's host element and frame in place, and follow SPA navigation with a debounced
 * MutationObserver.
 *
 * This script never holds the case: file names, thumbnails and the checklist go from the worker to
 * the overlay frame. The one thing it receives from the worker besides layout is fillUpload: the
 * files the seller chose to attach, on a click in the frame, for the page's own upload box.
 */
(function (ns) {
  "use strict";

  if (window.top !== window || ns.started) return;
  ns.started = true;

  const t = ns.t;
  const DEBOUNCE_MS = 400;
  const MAX_WAIT_MS = 2000;
  const MIN_INTERVAL_MS = 2000;
  // A countdown re-read that moves the deadline by more than this is a new reading, not a tick.
  const COUNTDOWN_JUMP_MS = 90 * 1000;

  let ctx = null; // {state, platform, adapter}
  let current = { sig: null, href: null, deadlineMs: null };
  let scanning = false;
  let rescanWanted = false;
  let port = null;

  async function send(message) {
    try {
      const reply = await chrome.runtime.sendMessage(message);
      return reply || { ok: false, state: "error", error: t("noReply") };
    } catch (err) {
      // The extension was reloaded or updated: this page's script is orphaned.
      return { ok: false, state: "error", error: t("extensionReloaded") };
    }
  }

  function toWorker(message) {
    if (!port) return;
    try {
      port.postMessage(message);
    } catch (_) {
      /* reconnects through onDisconnect */
    }
  }

  const host = ns.overlayHost || (ns.overlayHost = new ns.OverlayHost()); // content/preload.js made it at document start
  host.onLayout = (collapsed) => toWorker({ type: "layout", collapsed });

  function showHost(info) {
    if (!info || info.state === "none") {
      host.hide();
      return;
    }
    host.show(info);
    if (!["case", "loading", "choose-order"].includes(info.state)) current.sig = null; // read again once the helper is back
  }

  // -- the page's upload box: the one hand-over ---------------------------------------------------
  /** The page's own upload box: the first enabled file input, visible ones first. */
  function pageFileInput() {
    const inputs = Array.from(document.querySelectorAll('input[type="file"]')).filter((i) => !i.disabled);
    const shown = inputs.find((i) => (i.parentElement || i).getClientRects().length > 0);
    return shown || inputs[0] || null;
  }

  function fillUpload(files) {
    const input = pageFileInput();
    if (!input || !Array.isArray(files) || !files.length) return { ok: false };
    const dt = new DataTransfer();
    for (const f of files.slice(0, input.multiple ? files.length : 1)) {
      dt.items.add(new File([ns.bytes.fromBase64(String(f.b64 || ""))], String(f.name || "file"), { type: String(f.type || "") }));
    }
    input.files = dt.files;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return { ok: true, count: dt.files.length };
  }

  // Requests of the service worker only: runtime messages never come from the page.
  chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || sender.tab || !msg) return false;
    if (msg.type === "uploadBox") {
      const input = pageFileInput();
      sendResponse(input ? { found: true, accept: input.getAttribute("accept") || "", multiple: input.multiple } : { found: false });
    } else if (msg.type === "fillUpload") {
      sendResponse(fillUpload(msg.files));
    } else if (msg.type === "verifyOverlay") {
      sendResponse(host.verifyVisible(msg.point));
    }
    return false;
  });

  // -- reading the page ---------------------------------------------------------------------------
  function hash(text) {
    let h = 0;
    for (let i = 0; i < (text || "").length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
    return h;
  }

  async function scan(force) {
    if (!ctx || !ctx.adapter) return;
    if (scanning) {
      rescanWanted = true;
      return;
    }
    scanning = true;
    lastScanAt = Date.now();
    try {
      const found = await readPage();
      if (!found) {
        if (current.sig !== "none" || force) {
          if (host.state !== "choose-order") host.hide();
          current = { sig: "none", href: location.href, deadlineMs: null };
          if (host.state !== "choose-order") await send({ type: "pageRead", found: null });
        }
        return;
      }
      const { platform, shop, payload, deadlineMs } = found;
      // The page's own ticking countdown is left out: it changes every second, the case does not;
      // a countdown that appears (late hydration, a drawer opened) or jumps is sent again.
      const sig = [payload.order_id, payload.aftersale_id, payload.deadline_text || "", payload.page_state || "", hash(payload.request_text)].join("|");
      const jumped = deadlineMs !== null && (current.deadlineMs == null || Math.abs(deadlineMs - current.deadlineMs) > COUNTDOWN_JUMP_MS);
      if (!force && sig === current.sig && !jumped) return;
      const newCase = !current.sig || !current.sig.startsWith(payload.order_id + "|");
      current.sig = sig;
      current.href = location.href;
      current.deadlineMs = deadlineMs;
      if (newCase || host.state !== "case") showHost({ state: "loading" });
      const res = await send({ type: "pageRead", found: payload, platform, shop });
      if (current.sig !== sig) return; // navigated on meanwhile
      showHost(res.ok ? res.data : { state: res.state || "error" });
    } finally {
      scanning = false;
      if (rescanWanted) {
        rescanWanted = false;
        schedule();
      }
    }
  }

  /** What this page says, ready for the helper: null when it is no case (a list, a finished page
   * never opened as a case is left to the helper), the order asked of the seller when the page names
   * two, a Tmall shop's case seen on a Taobao host sent as tmall. */
  async function readPage() {
    const found = ns.extract.extract(ctx.adapter, location);
    if (!found) return null;
    const { _meta: meta = {}, ...payload } = found;
    if (!payload.request_text && !payload.page_state && ns.extract.needsRequest(ctx.adapter, location)) return null;
    if (!payload.order_id) {
      payload.order_id = await pickOrder(meta.order_candidates || []);
      if (!payload.order_id) return null;
    }
    const tmall = meta.marketplace === "tmall" && ctx.platform.id === "taobao";
    for (const key of Object.keys(payload)) if (payload[key] === null) delete payload[key];
    return { platform: tmall ? "tmall" : ctx.platform.id, shop: meta.shop || null, payload, deadlineMs: meta.deadline_ms ?? null };
  }

  const orderKey = (candidates) => `orderChoice:${location.host}${location.pathname}:${[...candidates].sort().join(",")}`;

  /** Two order ids and nothing on the page to prefer one: the seller's answer (given in the overlay
   * frame), kept for this page. Until then the overlay asks, and there is no case. */
  async function pickOrder(candidates) {
    if (!candidates.length) return null;
    const key = orderKey(candidates);
    const saved = (await chrome.storage.local.get(key))[key];
    if (saved && candidates.includes(saved)) return saved;
    if (pendingChoice && pendingChoice.key === key) return null; // asked already; the seller has not answered
    pendingChoice = { key, candidates };
    showHost({ state: "choose-order" });
    await send({ type: "askOrder", candidates });
    return null;
  }

  let pendingChoice = null;
  async function orderChosen(orderId) {
    if (!pendingChoice || !pendingChoice.candidates.includes(orderId)) return;
    await chrome.storage.local.set({ [pendingChoice.key]: orderId });
    pendingChoice = null;
    scan(true);
  }

  // -- following the page -------------------------------------------------------------------------
  let debounceTimer = null;
  let firstPending = 0;
  let lastScanAt = 0;
  function schedule() {
    const now = Date.now();
    if (!debounceTimer) firstPending = now;
    clearTimeout(debounceTimer);
    // Trailing debounce, but never later than MAX_WAIT after the first change; and while the
    // address stays the same, at most one read per MIN_INTERVAL (pages whose clocks tick).
    let wait = Math.max(0, Math.min(DEBOUNCE_MS, firstPending + MAX_WAIT_MS - now));
    if (location.href === current.href) wait = Math.max(wait, lastScanAt + MIN_INTERVAL_MS - now);
    debounceTimer = setTimeout(() => {
      debounceTimer = null;
      scan(false);
    }, wait);
  }

  let observer = null;
  function observe() {
    if (observer) return;
    observer = new MutationObserver((mutations) => {
      // The overlay's own host moving or ticking is no page change.
      if (mutations.every((m) => m.target === host.el)) return;
      if (host.el && !host.el.isConnected && host.state) host.mount(); // the page removed it
      schedule();
    });
    observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
    window.addEventListener("popstate", schedule);
    window.addEventListener("hashchange", schedule);
  }

  // -- the service worker's port: helper state, host hooks, layout asked by the frame --------------
  function connect() {
    try {
      port = chrome.runtime.connect({ name: "page" });
    } catch (_) {
      return; // extension reloaded
    }
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "status") onStatus(msg.state);
      else if (msg.type === "host") showHost(msg.host);
      else if (msg.type === "reread") boot(true);
      else if (msg.type === "orderChosen") orderChosen(String(msg.orderId || ""));
      else if (msg.type === "rules") boot(true);
      else if (msg.type === "size") host.resize(msg.height, msg.head);
      else if (msg.type === "collapse") host.setCollapsed(msg.collapsed);
    });
    port.onDisconnect.addListener(() => {
      port = null;
      // The service worker was stopped; wake it again so live updates keep coming.
      setTimeout(() => {
        connect();
        if (host.state) boot(true); // a fresh worker knows nothing of this tab
      }, 1000);
    });
    toWorker({ type: "layout", collapsed: host.collapsed });
  }

  // A message every 25 s keeps the service worker (and its WebSocket) alive while a case is open.
  setInterval(() => {
    if (host.state) toWorker({ type: "ping" });
  }, 25000);

  function onStatus(state) {
    if (state !== "online") return;
    if (!ctx || !ctx.adapter) boot(false);
    else if (host.state !== "case") scan(true);
  }

  let parsed = false; // the page is read once the document is parsed (whenParsed), never before
  async function boot(force) {
    if (!parsed) return; // a worker message before DOMContentLoaded: the parsed boot comes
    const early = ns.earlyContext;
    ns.earlyContext = null; // asked once at document start; later boots (reconnects, new rules) ask afresh
    const reply = (early && early.href === location.href && (await early.reply)) || (await send({ type: "context", href: location.href }));
    if (!reply.ok) return;
    ctx = reply.data;
    if (!ctx.adapter) return;
    observe();
    await scan(force);
  }

  /** ``run`` once the document is parsed, after the page's own DOMContentLoaded handlers, as a
   * document_end script would; but in the same task. This script runs at document start (so does
   * preload.js, which starts the frame and asks for the adapter): Chrome injects document_end
   * scripts by a task posted after DOMContentLoaded, often behind the page's first layout, tens of ms
   * later. Our capture listener is the first on window (no page script has run yet): the page can
   * neither stop the event before it nor fake it (isTrusted). From there, a listener added to
   * window's bubble phase runs after every handler the page has; if the page stops the event short
   * of it, the timer reads right after. */
  function whenParsed(run) {
    if (document.readyState !== "loading") {
      run();
      return;
    }
    let done = false;
    const go = () => {
      if (done) return;
      done = true;
      run();
    };
    window.addEventListener("DOMContentLoaded", (e) => {
      if (!e.isTrusted || done) return;
      window.addEventListener("DOMContentLoaded", go, { once: true });
      setTimeout(go, 0);
    }, true);
  }

  connect();
  host.preload(); // made already at document start; here only if that script did not run
  whenParsed(() => {
    parsed = true;
    boot(false);
  });
})((globalThis.Juzheng = globalThis.Juzheng || {}));
