/* The overlay frame's wiring: one port to the service worker, which says what to show for this tab
 * (the tab is the sender's, not anything the page could name), and one request per seller action.
 *
 * The frame never listens to postMessage: the page around it can send anything, and nothing it sends
 * is a command. Only events the seller makes in this frame (which the page cannot forge across the
 * origin boundary) lead to actions.
 */
(function (ns) {
  "use strict";

  const t = ns.t;
  const { toBase64, fromBase64 } = ns.bytes;
  const MAX_UPLOAD_BYTES = 40 * 1024 * 1024;
  const THUMB_MAX_BYTES = 4 * 1024 * 1024;
  const FOCUS_EVERY_MS = 60 * 1000;

  const POINT_FRESH_MS = 5000;

  let port = null;
  let lastFocus = { caseId: null, at: 0 };
  let lastPoint = null; // where the seller last pressed in this frame (its own coordinates)

  // The worker has the content script check that the overlay is really visible at this point before
  // it acts (content/visibility.js): a page's decoy over the button the seller pressed stops it.
  // The press is checked too, the moment it happens: a page that shows the overlay again between the
  // seller's press and the action (it cannot see the press, only guess it) is caught there.
  for (const type of ["pointerdown", "click"]) {
    window.addEventListener(type, (e) => {
      if (!e.isTrusted || (e.detail === 0 && type === "click")) return;
      lastPoint = { x: e.clientX, y: e.clientY, at: performance.now() };
      if (type === "pointerdown" && port) {
        try {
          port.postMessage({ type: "pressed", point: { x: e.clientX, y: e.clientY } });
        } catch (_) {
          /* reconnecting */
        }
      }
    }, true);
  }

  function pressedAt() {
    return lastPoint && performance.now() - lastPoint.at < POINT_FRESH_MS ? { x: lastPoint.x, y: lastPoint.y } : null;
  }

  async function act(action, extra) {
    const caseId = panel.view ? panel.view.id : null;
    try {
      const reply = await chrome.runtime.sendMessage({ type: "overlay", action, caseId, point: pressedAt(), ...(extra || {}) });
      return reply || { ok: false, state: "error", error: t("noReply") };
    } catch (_) {
      return { ok: false, state: "error", error: t("extensionReloaded") };
    }
  }

  function layout(message) {
    if (!port) return;
    try {
      port.postMessage(message);
    } catch (_) {
      /* reconnects through onDisconnect */
    }
  }

  async function upload(kind, files) {
    let done = 0;
    for (const file of files) {
      if (file.size > MAX_UPLOAD_BYTES) {
        panel.status(t("fileTooLarge", [file.name, String(MAX_UPLOAD_BYTES / 1024 / 1024)]), "error");
        continue;
      }
      panel.status(t("uploading", [file.name]), "");
      const b64 = toBase64(await file.arrayBuffer());
      const res = await act("upload", { kind, filename: file.name, mime: file.type, b64 });
      if (!res.ok) {
        panel.status(`${file.name}：${res.error}`, "error");
        continue;
      }
      done++;
    }
    await act("uploaded");
    if (done) panel.status(t("uploaded", [String(done)]), "ok");
  }

  async function copy(text) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (_) {
      // No focus for the async clipboard: the extension's clipboardWrite permission allows this.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.cssText = "position:fixed;left:-9999px;top:0;opacity:0";
      document.body.append(area);
      area.select();
      try {
        ok = document.execCommand("copy");
      } catch (_) {
        ok = false;
      }
      area.remove();
    }
    panel.status(ok ? t("copied") : t("copyFailed"), ok ? "ok" : "error");
  }

  /** The seller works in this case's overlay: order-less inbox files (截图 1.png) are filed to it. */
  function focusCase(force) {
    const id = panel.view ? panel.view.id : null;
    if (!id) return Promise.resolve({ ok: false });
    const now = Date.now();
    if (!force && lastFocus.caseId === id && now - lastFocus.at < FOCUS_EVERY_MS) return Promise.resolve({ ok: true });
    lastFocus = { caseId: id, at: now };
    return act("focus");
  }

  const panel = new ns.Panel({
    scenario: async (scenario) => {
      const res = await act("scenario", { scenario });
      panel.status(res.ok ? t("scenarioSaved") : res.error, res.ok ? "ok" : "error");
    },
    confirm: async (kind, field, confirmed) => {
      const res = await act("confirm", { kind, field, confirmed });
      if (!res.ok) panel.status(res.error, "error");
    },
    upload: (kind, files) => upload(kind, files),
    setKind: async (ev, kind) => {
      const res = await act("setKind", { fileId: ev.id, kind });
      panel.status(res.ok ? t("kindSet") : res.error, res.ok ? "ok" : "error");
    },
    addText: async (kind, value) => {
      const res = await act("addText", { kind, value });
      panel.status(res.ok ? t("saved") : res.error, res.ok ? "ok" : "error");
      return res.ok;
    },
    attach: async (option) => {
      const index = panel.view && panel.view.checklist ? panel.view.checklist.options.indexOf(option) : -1;
      if (ns.submitUI) return ns.submitUI.attach(panel, index); // the packet: converted, confirmed where final
      const res = await act("attach", { option: index });
      panel.status(res.ok ? res.data.message : res.error, res.ok ? "ok" : "error");
    },
    copy: (text) => {
      if (ns.submitUI && !ns.submitUI.mayCopy(panel)) return; // never a blank like 【待填：快递单号】
      copy(text);
    },
    act: (action, extra) => act(action, extra),
    openFile: (ev) => act("openFile", { fileId: ev.id }),
    thumb: async (ev) => {
      if (ev.size && ev.size > THUMB_MAX_BYTES) return null;
      const res = await act("thumb", { fileId: ev.id });
      if (!res.ok) return null;
      // A blob: address of this frame's origin: the page can neither see nor fetch it.
      return URL.createObjectURL(new Blob([fromBase64(res.data.b64)], { type: res.data.type || "image/png" }));
    },
    retry: () => act("retry"),
    options: () => act("options"),
    claimPending: async () => {
      // Files that waited before the case was opened are only ever filed on the seller's answer.
      if (ns.submitUI) return ns.submitUI.claim(panel);
      const res = await focusCase(true);
      if (res.ok) panel.status(t("pendingClaimed"), "ok");
      else if (res.error) panel.status(res.error, "error");
    },
    size: (height, head) => layout({ type: "size", height, head }),
    deadline: async (deadlineAt) => {
      const res = await act("deadline", { deadlineAt });
      panel.status(res.ok ? t("deadlineSaved") : res.error, res.ok ? "ok" : "error");
    },
    marketplace: async (marketplace) => {
      const res = await act("marketplace", { marketplace });
      if (!res.ok) panel.status(res.error, "error");
    },
    caseAction: async (caseAction) => {
      const res = await act("caseAction", { caseAction });
      panel.status(res.ok ? t("caseActionSaved") : res.error, res.ok ? "ok" : "error");
    },
    chooseOrder: async (orderId) => {
      const res = await act("chooseOrder", { orderId });
      if (!res.ok) panel.status(res.error, "error");
    },
    collapse: (collapsed) => layout({ type: "collapse", collapsed }),
  });

  let shownState = null;
  function render(msg) {
    const label = msg.platform ? msg.platform.label : "";
    panel.offline = false;
    panel.market = msg.market || null;
    if (msg.state === "case" && msg.view) {
      panel.showCase(msg.view, msg.platform);
    } else if (msg.state === "offline" && msg.offline) {
      // The helper is away: this case's last checklist and countdown, marked 离线, under the
      // problem's explanation (how to start the helper).
      panel.offline = true;
      panel.showCase(msg.offline, msg.platform);
      panel.prependProblem(msg.state, msg.error);
    } else if (msg.state === "choose-order" && msg.candidates) {
      panel.showChooseOrder(msg.candidates, label);
    } else if (msg.state === "loading") {
      if (shownState !== "loading") panel.showLoading(label);
    } else if (msg.state === "none") {
      panel.showLoading(label);
    } else {
      panel.showProblem(msg.state, msg.error, label);
    }
    shownState = msg.state;
    panel.root.dataset.offline = String(panel.offline);
    panel.setCollapsed(Boolean(msg.collapsed));
  }

  function connect() {
    try {
      port = chrome.runtime.connect({ name: "overlay" });
    } catch (_) {
      return; // extension reloaded: this frame is orphaned
    }
    port.onMessage.addListener((msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "render") render(msg);
      else if (msg.type === "layout") panel.setCollapsed(Boolean(msg.collapsed));
    });
    port.onDisconnect.addListener(() => {
      port = null;
      setTimeout(connect, 500); // the service worker was stopped; it answers again when woken
    });
    layout({ type: "size", height: panel.naturalHeight(), head: panel.head.offsetHeight });
  }

  // Working in the overlay is the seller's own doing: trusted events only (the page cannot
  // dispatch events into this frame; isTrusted guards against this frame's own synthetic ones).
  for (const type of ["pointerdown", "keydown", "drop"]) {
    document.addEventListener(type, (e) => {
      if (e.isTrusted) focusCase(false);
    }, true);
  }

  // Keeps the service worker (and its WebSocket) alive while a case is shown.
  setInterval(() => {
    if (port && panel.view) layout({ type: "ping" });
  }, 25000);

  connect();
})((globalThis.Juzheng = globalThis.Juzheng || {}));
