/* <juzheng-overlay>: all the page holds of the overlay. A CLOSED shadow root around one iframe of
 * the extension's own page (overlay/overlay.html, loaded by its dynamic address): the page can
 * reach neither the root nor the frame's document, and the frame never takes orders from the page.
 *
 * The host carries only what the page showed itself or may know: data-state, data-scenario,
 * data-order-id, data-deadline, data-level, data-deadline-source. Nothing about files.
 * This script places the frame (clear of the page's submit buttons), sizes it to the panel so the
 * page around it stays clickable, and moves it by a grip that lies over the panel's head (left of its
 * collapse button): a drag must be followed in the page's coordinates, which the frame, moving
 * under the pointer, does not have.
 */
(function (ns) {
  "use strict";

  const TAG = "juzheng-overlay";
  const WIDTH = 360;
  const MARGIN = 16;
  const SUBMIT_WORDS = /提交|举证|确认|上传凭证|申诉|submit/i;
  // Inline and !important: the page's stylesheets cannot hide, shrink or restyle the frame's box.
  const HOST_STYLE = "all: initial !important; position: fixed !important; z-index: 2147483646 !important; display: block !important; " +
    "visibility: visible !important; opacity: 1 !important; transform: none !important; filter: none !important; pointer-events: auto !important; " +
    `width: ${WIDTH}px !important; margin: 0 !important; padding: 0 !important; border: 0 !important;`;
  const GRIP_RIGHT = 44; // the collapse button's corner stays the frame's
  const SHADOW_STYLE = ":host([hidden]) { display: none !important; } " +
    "iframe { display: block; width: 100%; height: 100%; border: 0; background: transparent; color-scheme: light; } " +
    `.grip { position: absolute; left: 0; top: 0; right: ${GRIP_RIGHT}px; height: 0; cursor: grab; touch-action: none; } ` +
    ".grip:active { cursor: grabbing; }";
  const HOOKS = ["state", "scenario", "orderId", "deadline", "level", "deadlineSource"];

  function intersects(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function overlapArea(a, b) {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const hgt = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && hgt > 0 ? w * hgt : 0;
  }

  /** The page's own submit/upload controls: the overlay must not sit on them by default. */
  function pageControls() {
    const rects = [];
    const controls = document.querySelectorAll('button, input[type="submit"], input[type="button"], input[type="file"], [role="button"], a');
    for (const el of controls) {
      const label = el.tagName === "INPUT" && el.type === "file" ? "上传凭证" : (el.value || el.textContent || "").trim().slice(0, 40);
      if (!SUBMIT_WORDS.test(label)) continue;
      let r = el.getBoundingClientRect();
      // A file input is often invisible inside a styled drop area: protect the area instead.
      if (el.tagName === "INPUT" && (r.width === 0 || r.height === 0) && el.parentElement) r = el.parentElement.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) rects.push(r);
    }
    return rects;
  }

  function viewport() {
    return { vw: document.documentElement.clientWidth || window.innerWidth, vh: window.innerHeight };
  }

  function maxHeight() {
    return Math.min(window.innerHeight * 0.7, 640);
  }

  /** Top-right unless that covers a submit button; then the other corners; least overlap wins. */
  function defaultPlace(width, height) {
    const { vw, vh } = viewport();
    const w = Math.min(width, vw - 2 * MARGIN);
    const hh = Math.min(height, vh - 2 * MARGIN);
    const top = Math.min(72, Math.max(MARGIN, vh - hh - MARGIN));
    const corners = [
      { left: vw - w - MARGIN, top },
      { left: vw - w - MARGIN, top: vh - hh - MARGIN },
      { left: MARGIN, top: vh - hh - MARGIN },
      { left: MARGIN, top },
    ];
    const controls = pageControls();
    let best = null;
    for (const c of corners) {
      const box = { left: c.left, top: c.top, right: c.left + w, bottom: c.top + hh };
      const cost = controls.reduce((sum, r) => sum + overlapArea(box, r), 0);
      if (cost === 0 && !controls.some((r) => intersects(box, r))) return c;
      if (!best || cost < best.cost) best = { cost, c };
    }
    return best.c;
  }

  /** Where the seller left the overlay on this site, and whether collapsed. */
  const placeKey = () => `overlayPlace:${location.hostname}`;
  const placeStore = {
    load: async () => (await chrome.storage.local.get(placeKey()))[placeKey()] || null,
    save: (place) => chrome.storage.local.set({ [placeKey()]: place }),
  };

  class OverlayHost {
    constructor(store) {
      this.store = store || placeStore;
      this.onLayout = () => {}; // set by content/main.js: tells the worker (and so the frame) collapsed or not
      this.placing = null;
      this.el = null;
      this.frame = null;
      this.pos = { left: -10000, top: 0 };
      this.height = 0;
      this.placed = false;
      this.collapsed = false;
      this.hooks = {};
      this.levels = null;
      this.closed = false;
      this.timer = null;
    }

    mount() {
      if (this.el && this.el.isConnected) return;
      if (!this.el) {
        this.el = document.createElement(TAG);
        let root;
        try {
          root = this.el.attachShadow({ mode: "closed" });
        } catch (_) {
          // The page defined <juzheng-overlay> itself and took the shadow root: use a fresh name.
          this.el = document.createElement(TAG + "-" + Math.random().toString(36).slice(2, 8));
          root = this.el.attachShadow({ mode: "closed" });
        }
        const style = document.createElement("style");
        style.textContent = SHADOW_STYLE;
        this.frame = document.createElement("iframe");
        this.frame.setAttribute("allow", "clipboard-write");
        this.frame.setAttribute("title", ns.t("extName"));
        this.frame.src = chrome.runtime.getURL("overlay/overlay.html");
        this.grip = document.createElement("div");
        this.grip.className = "grip";
        this.enableDrag();
        root.append(style, this.frame, this.grip);
        this.applyStyle();
        window.addEventListener("resize", () => this.clamp(), { passive: true });
      }
      // Outside <body>: single-page apps replace the body and would take the overlay with it.
      document.documentElement.append(this.el);
    }

    /** The frame starts loading at document start, hidden: its load runs alongside the page's own,
     * the page reading and the helper's answer, instead of after them. */
    preload() {
      if (this.el) return;
      this.mount();
      this.el.hidden = true;
    }

    applyStyle() {
      if (!this.el) return;
      const h = Math.min(this.height || 0, maxHeight(), window.innerHeight);
      this.shownHeight = Math.max(0, Math.round(h));
      this.el.setAttribute("style", `${HOST_STYLE} left: ${Math.round(this.pos.left)}px !important; top: ${Math.round(this.pos.top)}px !important; height: ${Math.max(0, Math.round(h))}px !important;`);
    }

    async restorePlace() {
      const saved = await this.store.load();
      if (saved && typeof saved.left === "number" && typeof saved.top === "number") {
        this.setPos(saved.left, saved.top);
        this.placed = true;
      }
      if (saved && typeof saved.collapsed === "boolean") this.collapsed = saved.collapsed;
      if (!this.placed) this.placeDefault();
      this.onLayout(this.collapsed);
    }

    placeDefault() {
      const c = defaultPlace(WIDTH, maxHeight());
      this.setPos(c.left, c.top);
    }

    setPos(left, top) {
      const { vw, vh } = viewport();
      const x = Math.max(0, Math.min(left, vw - Math.min(WIDTH, vw)));
      const y = Math.max(0, Math.min(top, vh - 40));
      this.pos = { left: x, top: y };
      this.applyStyle();
    }

    clamp() {
      this.setPos(this.pos.left, this.pos.top);
    }

    save() {
      this.store.save({ left: this.pos.left, top: this.pos.top, collapsed: this.collapsed, moved: this.placed });
    }

    enableDrag() {
      let start = null;
      const grip = this.grip;
      grip.addEventListener("pointerdown", (e) => {
        if (e.button !== 0) return;
        start = { x: e.clientX, y: e.clientY, left: this.pos.left, top: this.pos.top };
        grip.setPointerCapture(e.pointerId);
        e.preventDefault();
      });
      grip.addEventListener("pointermove", (e) => {
        if (start) this.setPos(start.left + e.clientX - start.x, start.top + e.clientY - start.y);
      });
      const end = (e) => {
        if (!start) return;
        const moved = Math.abs(e.clientX - start.x) + Math.abs(e.clientY - start.y) > 2;
        start = null;
        if (moved) {
          this.placed = true;
          this.save();
        }
      };
      grip.addEventListener("pointerup", end);
      grip.addEventListener("pointercancel", end);
    }

    // -- asked by the frame, through the service worker ---------------------------------------------
    resize(height, head) {
      this.height = Math.max(0, Math.min(Number(height) || 0, 4000));
      this.grip.style.height = `${Math.max(0, Math.min(Number(head) || 0, 120))}px`;
      this.applyStyle();
    }

    setCollapsed(collapsed) {
      this.collapsed = Boolean(collapsed);
      this.save();
      this.onLayout(this.collapsed);
    }

    /** Before an action of the seller's click is carried out: is the overlay really visible, where
     * the seller clicked and all over (content/visibility.js)? ``point``: the click in the frame. */
    verifyVisible(point) {
      if (!ns.overlayVisibility) return { ok: false, reason: "hidden" };
      if (this.pos.left < -1000) return { ok: false, reason: "offscreen" }; // not placed yet
      return ns.overlayVisibility.check(this.el, this.frame, { width: WIDTH, height: this.shownHeight || 0 }, point);
    }

    // -- the hooks ------------------------------------------------------------------------------
    hide() {
      if (this.el) this.el.hidden = true;
      this.stopTicking();
    }

    /** {state, scenario, order_id, deadline_at, deadline_source, closed, levels} from the worker. */
    show(info) {
      this.mount();
      // Placed once the page is there to place it on (its submit buttons), not at document start.
      if (!this.placing) this.placing = this.restorePlace();
      this.el.hidden = false;
      this.hooks = {
        state: info.state || "",
        scenario: info.scenario || "",
        orderId: info.order_id || "",
        deadline: info.deadline_at || "",
        deadlineSource: info.deadline_source || "",
      };
      this.levels = info.levels || null;
      this.closed = Boolean(info.closed);
      this.tick();
      if (this.hooks.deadline && !this.timer) this.timer = setInterval(() => this.tick(), 1000);
      if (!this.hooks.deadline) this.stopTicking();
    }

    stopTicking() {
      clearInterval(this.timer);
      this.timer = null;
    }

    tick() {
      if (!this.el) return;
      const hooks = { ...this.hooks, level: "" };
      if (hooks.deadline) {
        const ms = ns.time.remainingMs(hooks.deadline);
        if (ms !== null) hooks.level = ns.time.displayLevel(ms, this.levels || ns.time.DEFAULT_LEVELS, hooks.deadlineSource, this.closed);
      }
      for (const name of HOOKS) {
        const value = hooks[name] || "";
        if (value) {
          if (this.el.dataset[name] !== value) this.el.dataset[name] = value;
        } else if (name in this.el.dataset) delete this.el.dataset[name];
      }
    }

    get state() {
      return this.el && !this.el.hidden ? this.hooks.state : null;
    }
  }

  ns.OverlayHost = OverlayHost;
  ns.overlayPlacement = { defaultPlace, pageControls };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
