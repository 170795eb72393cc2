/* The content script's flow: find this page's adapter, read the page, ask the helper (through the
 * service worker: the page's origin cannot reach 127.0.0.1), show the overlay, follow SPA
 * navigation with a debounced MutationObserver and live events through a port. */
(function (ns) {
  "use strict";

  const { toBase64, fromBase64 } = ns.bytes;

  if (window.top !== window || ns.started) return;
  ns.started = true;

  const t = ns.t;
  const DEBOUNCE_MS = 400;
  const MAX_WAIT_MS = 2000;
  const MIN_INTERVAL_MS = 2000;
  // A countdown re-read that moves the deadline by more than this is a new reading, not a tick.
  const COUNTDOWN_JUMP_MS = 90 * 1000;
  const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
  const THUMB_MAX_BYTES = 4 * 1024 * 1024;
  const IMAGE_NAME = /\.(png|jpe?g|gif|webp|bmp)$/i;
  const VIDEO_NAME = /\.(mp4|mov|webm|m4v|avi)$/i;
  const PDF_NAME = /\.pdf$/i;

  let ctx = null; // {state, platform, adapter}
  let current = { sig: null, caseId: null, href: null };
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

  const overlay = new ns.Overlay(
    {
      scenario: async (scenarioId) => {
        const res = await send({ type: "patchCase", id: current.caseId, patch: { scenario: scenarioId } });
        if (res.ok) {
          overlay.showCase(res.data, ctx.platform);
          overlay.status(t("scenarioSaved"), "ok");
        } else overlay.status(res.error, "error");
      },
      confirm: async (kind, field, confirmed) => {
        const res = await send({ type: "confirm", id: current.caseId, body: { kind, field, confirmed } });
        if (res.ok) overlay.showCase(res.data, ctx.platform);
        else overlay.status(res.error, "error");
      },
      upload: (kind, files) => upload(kind, files),
      addText: async (kind, value) => {
        const res = await send({ type: "addText", id: current.caseId, body: { kind, value } });
        if (res.ok) {
          overlay.status(t("saved"), "ok");
          await refresh();
        } else overlay.status(res.error, "error");
      },
      attach: (option) => attach(option),
      copy: (text) => copy(text),
      openFile: (ev) => send({ type: "openFile", caseId: current.caseId, fileId: ev.id, filename: ev.filename || "" }),
      thumb: async (ev) => {
        if (ev.size && ev.size > THUMB_MAX_BYTES) return null;
        const res = await send({ type: "fileBytes", caseId: current.caseId, fileId: ev.id, maxBytes: THUMB_MAX_BYTES });
        if (!res.ok) return null;
        return URL.createObjectURL(new Blob([fromBase64(res.data.b64)], { type: res.data.type || "image/png" }));
      },
      retry: () => {
        send({ type: "reconnect" });
        boot(true);
      },
      options: () => send({ type: "openOptions" }),
      loadPlace: async () => {
        const key = placeKey();
        const got = await chrome.storage.local.get(key);
        return got[key] || null;
      },
      savePlace: (place) => chrome.storage.local.set({ [placeKey()]: place }),
    },
    null
  );

  function placeKey() {
    return `overlayPlace:${location.hostname}`;
  }

  // -- actions ------------------------------------------------------------------------------------
  async function upload(kind, files) {
    if (!current.caseId) return;
    let done = 0;
    for (const file of files) {
      if (file.size > MAX_UPLOAD_BYTES) {
        overlay.status(t("fileTooLarge", [file.name, String(MAX_UPLOAD_BYTES / 1024 / 1024)]), "error");
        continue;
      }
      overlay.status(t("uploading", [file.name]), "");
      const b64 = toBase64(await file.arrayBuffer());
      const res = await send({ type: "upload", id: current.caseId, kind, filename: file.name, mime: file.type, b64 });
      if (!res.ok) {
        overlay.status(`${file.name}：${res.error}`, "error");
        continue;
      }
      done++;
    }
    await refresh();
    if (done) overlay.status(t("uploaded", [String(done)]), "ok");
  }

  function acceptsFile(name, accepts, input) {
    const media = accepts && accepts.length ? accepts : ["image"];
    const ok = (media.includes("image") && IMAGE_NAME.test(name)) || (media.includes("video") && VIDEO_NAME.test(name)) || (media.includes("pdf") && PDF_NAME.test(name));
    if (!ok) return false;
    const accept = (input.getAttribute("accept") || "").trim();
    if (!accept) return true;
    return accept.split(",").map((a) => a.trim().toLowerCase()).some((a) => {
      if (a.endsWith("/*")) return mimeOf(name).startsWith(a.slice(0, -1));
      if (a.startsWith(".")) return name.toLowerCase().endsWith(a) || (a === ".jpg" && /\.jpeg$/i.test(name));
      return mimeOf(name) === a;
    });
  }

  function mimeOf(name) {
    const ext = (name.split(".").pop() || "").toLowerCase();
    return { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", bmp: "image/bmp", mp4: "video/mp4", mov: "video/quicktime", webm: "video/webm", pdf: "application/pdf" }[ext] || "application/octet-stream";
  }

  /** The page's own upload box: the first file input outside the overlay, visible ones first. */
  function pageFileInput() {
    const inputs = Array.from(document.querySelectorAll('input[type="file"]')).filter((i) => !i.disabled);
    const shown = inputs.find((i) => (i.parentElement || i).getClientRects().length > 0);
    return shown || inputs[0] || null;
  }

  /** Fill the page's <input type=file> with the option's files, so only the platform's submit is left. */
  async function attach(option) {
    const view = overlay.view;
    if (!view) return;
    const input = pageFileInput();
    if (!input) {
      overlay.status(t("noUploadBox"), "error");
      return;
    }
    const upload = view.upload || (ctx.platform && ctx.platform.upload) || null;
    const limit = upload && upload.max_files ? upload.max_files : 1;
    const accepts = upload ? upload.accepts : ["image"];
    const wanted = [];
    for (const item of option.items) {
      if (item.form !== "file") continue;
      for (const ev of overlay.filesOf(item)) if (ev.filename && acceptsFile(ev.filename, accepts, input)) wanted.push(ev);
    }
    if (!wanted.length) {
      overlay.status(t("nothingToAttach"), "error");
      return;
    }
    const max = input.multiple ? limit : 1;
    const chosen = wanted.slice(0, max);
    const dt = new DataTransfer();
    for (const ev of chosen) {
      const res = await send({ type: "fileBytes", caseId: view.id, fileId: ev.id });
      if (!res.ok) {
        overlay.status(`${ev.filename}：${res.error}`, "error");
        return;
      }
      dt.items.add(new File([fromBase64(res.data.b64)], ev.filename, { type: res.data.type || mimeOf(ev.filename) }));
    }
    input.files = dt.files;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    const message = wanted.length > chosen.length ? t("attachedSome", [String(chosen.length), String(wanted.length), String(max)]) : t("attached", [String(chosen.length)]);
    overlay.status(message, "ok");
  }

  async function copy(text) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (_) {
      // No clipboard permission or focus: the old way, from a throw-away textarea.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.cssText = "position:fixed;left:-9999px;top:0;opacity:0";
      overlay.root.append(area);
      area.select();
      try {
        ok = document.execCommand("copy");
      } catch (_) {
        ok = false;
      }
      area.remove();
    }
    overlay.status(ok ? t("copied") : t("copyFailed"), ok ? "ok" : "error");
  }

  // -- reading the page ---------------------------------------------------------------------------
  function hash(text) {
    let h = 0;
    for (let i = 0; i < (text || "").length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
    return h;
  }

  function problem(res) {
    const label = ctx && ctx.platform ? ctx.platform.label : "";
    overlay.showProblem(res.state || "error", res.error, label);
    current.caseId = null;
    current.sig = null; // so the page is read again once the helper is back
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
      let found = await readPage();
      if (!found) {
        if (current.sig !== "none") overlay.hide();
        current = { sig: "none", caseId: null, href: location.href };
        return;
      }
      const { platform, payload, deadlineMs } = found;
      // The page's own ticking countdown is left out: it changes every second, the case does not;
      // a countdown that appears (late hydration, a drawer opened) or jumps is sent again.
      const sig = [payload.order_id, payload.aftersale_id, payload.deadline_text || "", payload.page_state || "", hash(payload.request_text)].join("|");
      const jumped = deadlineMs !== null && (current.deadlineMs == null || Math.abs(deadlineMs - current.deadlineMs) > COUNTDOWN_JUMP_MS);
      if (!force && sig === current.sig && !jumped) return;
      const newCase = !current.sig || !current.sig.startsWith(payload.order_id + "|");
      current.sig = sig;
      current.href = location.href;
      current.deadlineMs = deadlineMs;
      if (newCase || !overlay.view) overlay.showLoading(ctx.platform.label);
      const res = await send({ type: "detect", payload: { platform, ...payload } });
      if (current.sig !== sig) return; // navigated on meanwhile
      if (res.ok) {
        current.caseId = res.data.id;
        overlay.showCase(res.data, ctx.platform);
        focus();
      } else if (res.code === "no_live_case") {
        overlay.hide(); // a finished after-sale the helper never tracked: nothing to show
        current.caseId = null;
      } else problem(res);
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
    const { _meta: meta, ...payload } = found;
    if (!payload.request_text && !payload.page_state && ns.extract.needsRequest(ctx.adapter, location)) return null;
    if (!payload.order_id) {
      payload.order_id = await pickOrder(meta.order_candidates || []);
      if (!payload.order_id) return null;
    }
    const tmall = meta.marketplace === "tmall" && ctx.platform.id === "taobao" && (ctx.platforms || ["tmall"]).includes("tmall");
    for (const key of Object.keys(payload)) if (payload[key] === null) delete payload[key];
    return { platform: tmall ? "tmall" : ctx.platform.id, payload, deadlineMs: meta.deadline_ms };
  }

  /** Two order ids and nothing on the page to prefer one: the seller's answer, kept for this page. */
  async function pickOrder(candidates) {
    if (!candidates.length) return null;
    const key = `orderChoice:${location.host}${location.pathname}:${[...candidates].sort().join(",")}`;
    const saved = (await chrome.storage.local.get(key))[key];
    if (saved && candidates.includes(saved)) return saved;
    if (typeof overlay.askOrder !== "function") return null;
    const chosen = await overlay.askOrder(candidates, ctx.platform.label);
    if (!chosen || !candidates.includes(chosen)) return null;
    await chrome.storage.local.set({ [key]: chosen });
    return chosen;
  }

  let refreshTimer = null;
  async function refresh() {
    if (!current.caseId) return;
    const res = await send({ type: "case", id: current.caseId });
    if (res.ok && res.data.id === current.caseId) overlay.showCase(res.data, ctx.platform);
    else if (!res.ok && res.state !== "error") problem(res);
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  /** Tell the helper which case the seller is looking at: the sorter files order-less inbox files
   * (a screenshot named 截图 1.png) under it. */
  function focus() {
    if (current.caseId && document.visibilityState === "visible") send({ type: "focus", id: current.caseId });
  }
  document.addEventListener("visibilitychange", focus);

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
    observer = new MutationObserver(schedule);
    observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
    window.addEventListener("popstate", schedule);
    window.addEventListener("hashchange", schedule);
  }

  // -- live updates through the service worker ----------------------------------------------------
  function connect() {
    try {
      port = chrome.runtime.connect({ name: "live" });
    } catch (_) {
      return; // extension reloaded
    }
    port.onMessage.addListener((msg) => {
      if (msg.type === "status") onStatus(msg.state);
      else if (msg.type === "event") onEvent(msg.event);
    });
    port.onDisconnect.addListener(() => {
      port = null;
      // The service worker was stopped; wake it again so live updates keep coming.
      setTimeout(connect, 1000);
    });
  }

  // A message every 25 s keeps the service worker (and its WebSocket) alive while a case is open.
  setInterval(() => {
    if (port && current.caseId) {
      try {
        port.postMessage({ type: "ping" });
      } catch (_) {
        /* reconnects through onDisconnect */
      }
    }
  }, 25000);

  function onStatus(state) {
    if (state === "online") {
      if (!ctx || !ctx.adapter) boot(false);
      else if (!current.caseId) scan(true);
      else refreshSoon();
    } else if ((state === "offline" || state === "unpaired") && current.caseId) {
      problem({ state, error: "" });
    }
  }

  function onEvent(event) {
    if (!event) return;
    if (event.type === "rules") {
      boot(true);
      return;
    }
    if (current.caseId) refreshSoon();
  }

  async function boot(force) {
    const reply = await send({ type: "context", href: location.href });
    if (!reply.ok) return;
    ctx = reply.data;
    if (!ctx.adapter) return;
    observe();
    await scan(force);
  }

  connect();
  boot(false);
})((globalThis.Juzheng = globalThis.Juzheng || {}));
