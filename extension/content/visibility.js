/* Is the overlay really what the seller sees? Asked by the service worker before a frame action
 * that hands bytes to the page or changes the case (attach, confirm, file as a kind, scenario...).
 *
 * Clickjacking: the page cannot touch the frame, but it owns <juzheng-overlay> and everything around
 * it. It can make the host (or an ancestor it moves the host into) transparent, scale it to nothing,
 * clip or filter it, or paint a decoy above it with pointer-events:none, so that the seller, clicking
 * the decoy's "领取红包", really clicks 附加到上传框 beneath. IntersectionObserver v2 (isVisible)
 * would say so, but reads false for everything in headless Chromium and cannot be tested; so this
 * checks, synchronously (the page's script cannot run in between):
 *  - the host and every ancestor (through shadow roots): opacity, visibility, filter, clip-path,
 *    mask, mix-blend-mode, transform (no scaling, no skewing);
 *  - the host and the iframe have their real size;
 *  - at the seller's click point and a grid over the frame, nothing of the page is on top: hit
 *    testing with every page element that has pointer-events:none briefly given pointer-events:auto
 *    (inline !important, which beats any page rule; restored before returning), as elementFromPoint
 *    otherwise looks straight through such a decoy. The page's own shadow trees, closed ones too,
 *    are reached with chrome.dom.openOrClosedShadowRoot.
 */
(function (ns) {
  "use strict";

  const MIN_OPACITY = 0.99;
  const GRID = 3; // 3 x 3 points over the frame's visible part
  const NEAR = 10; // px around the click point
  const MAX_ELEMENTS = 50000;

  function shadowOf(el) {
    try {
      if (globalThis.chrome && chrome.dom && chrome.dom.openOrClosedShadowRoot) return chrome.dom.openOrClosedShadowRoot(el);
    } catch (_) {
      /* not an element that can host one */
    }
    return el.shadowRoot || null;
  }

  /** Every element of the page, into its shadow trees, except our own host's. */
  function pageElements(host) {
    const out = [];
    const stack = [document.documentElement];
    while (stack.length && out.length < MAX_ELEMENTS) {
      const el = stack.pop();
      if (!el || el === host) continue;
      out.push(el);
      const root = shadowOf(el);
      if (root) for (const child of root.children) stack.push(child);
      for (const child of el.children) stack.push(child);
    }
    return out;
  }

  function parentOf(el) {
    if (el.parentElement) return el.parentElement;
    const node = el.parentNode;
    return node && node.host ? node.host : null; // up out of a shadow root
  }

  /** A 2D/3D transform that only moves (no scale, rotation or skew), or none at all. */
  function movesOnly(transform) {
    if (!transform || transform === "none") return true;
    let m;
    try {
      m = new DOMMatrixReadOnly(transform);
    } catch (_) {
      return false;
    }
    const near = (a, b) => Math.abs(a - b) < 0.01;
    return near(m.a, 1) && near(m.b, 0) && near(m.c, 0) && near(m.d, 1) && (m.is2D || (near(m.m33, 1) && near(m.m34, 0) && near(m.m44, 1)));
  }

  // Filters that keep the overlay legible: Chinese sites turn the whole page grey (html { filter:
  // grayscale(1) }) on days of national mourning, and that must not stop the seller's work.
  const HARMLESS_FILTERS = new Set(["grayscale", "sepia", "saturate", "hue-rotate"]);

  function harmlessFilter(filter) {
    if (!filter || filter === "none") return true;
    const names = filter.match(/[a-z-]+(?=\()/g) || [];
    const rest = filter.replace(/[a-z-]+\([^)]*\)/g, "").trim();
    return names.length > 0 && !rest && names.every((n) => HARMLESS_FILTERS.has(n));
  }

  /** The first style of the host or an ancestor that hides or distorts it, or "". */
  function styleProblem(host) {
    const own = getComputedStyle(host);
    if (own.display === "none" || own.visibility !== "visible") return "hidden";
    for (let el = host; el; el = parentOf(el)) {
      const cs = getComputedStyle(el);
      if (Number(cs.opacity) < MIN_OPACITY) return "opacity";
      if (!harmlessFilter(cs.filter)) return "filter";
      if (cs.clipPath && cs.clipPath !== "none") return "clip-path";
      const mask = cs.maskImage || cs.webkitMaskImage;
      if (mask && mask !== "none") return "mask";
      if (cs.mixBlendMode && cs.mixBlendMode !== "normal") return "mix-blend-mode";
      if (!movesOnly(cs.transform)) return "transform";
      if (cs.contentVisibility === "hidden") return "hidden";
    }
    return "";
  }

  function sizeProblem(host, frame, expected) {
    const r = host.getBoundingClientRect();
    const f = frame.getBoundingClientRect();
    const near = (a, b) => Math.abs(a - b) <= 1.5;
    if (!near(r.width, expected.width) || !near(r.height, expected.height) || r.height < 1) return "size";
    if (!near(f.width, r.width) || !near(f.height, r.height) || !near(f.left, r.left) || !near(f.top, r.top)) return "size";
    return "";
  }

  function samplePoints(rect, point) {
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = window.innerHeight;
    const box = { left: Math.max(rect.left, 0), top: Math.max(rect.top, 0), right: Math.min(rect.right, vw), bottom: Math.min(rect.bottom, vh) };
    const grid = [];
    if (box.right - box.left >= 2 && box.bottom - box.top >= 2) {
      for (let i = 0; i < GRID; i++) {
        for (let j = 0; j < GRID; j++) {
          grid.push({ x: box.left + ((i + 0.5) * (box.right - box.left)) / GRID, y: box.top + ((j + 0.5) * (box.bottom - box.top)) / GRID });
        }
      }
    }
    const click = [];
    if (point && Number.isFinite(point.x) && Number.isFinite(point.y)) {
      const x = rect.left + point.x;
      const y = rect.top + point.y;
      for (const [dx, dy] of [[0, 0], [-NEAR, 0], [NEAR, 0], [0, -NEAR], [0, NEAR]]) {
        const p = { x: Math.min(Math.max(x + dx, box.left + 1), box.right - 1), y: Math.min(Math.max(y + dy, box.top + 1), box.bottom - 1) };
        click.push(p);
      }
    }
    return { grid, click };
  }

  /** Hit-test the points with pointer-events:none of page elements lifted for the moment. */
  function topmostAt(host, points) {
    const lifted = [];
    for (const el of pageElements(host)) {
      if (getComputedStyle(el).pointerEvents !== "none") continue;
      lifted.push([el, el.style.getPropertyValue("pointer-events"), el.style.getPropertyPriority("pointer-events")]);
    }
    for (const [el] of lifted) el.style.setProperty("pointer-events", "auto", "important");
    try {
      return points.map((p) => document.elementFromPoint(p.x, p.y));
    } finally {
      for (const [el, value, priority] of lifted) {
        if (value) el.style.setProperty("pointer-events", value, priority);
        else el.style.removeProperty("pointer-events");
        if (el.getAttribute("style") === "") el.removeAttribute("style");
      }
    }
  }

  /** {ok, reason}: reason one of hidden, opacity, filter, clip-path, mask, mix-blend-mode,
   * transform, size, offscreen, covered. ``point``: the click in the frame's own coordinates. */
  function check(host, frame, expected, point) {
    if (!host || !frame || !host.isConnected || host.hidden) return { ok: false, reason: "hidden" };
    const style = styleProblem(host);
    if (style) return { ok: false, reason: style };
    const size = sizeProblem(host, frame, expected);
    if (size) return { ok: false, reason: size };
    const { grid, click } = samplePoints(host.getBoundingClientRect(), point);
    if (!grid.length) return { ok: false, reason: "offscreen" };
    const hits = topmostAt(host, [...click, ...grid]);
    const ours = (el) => el === host;
    // The click and its surroundings must be ours; of the whole frame most (a page's chat bubble
    // over one corner is not an attack on the button the seller pressed elsewhere).
    if (!hits.slice(0, click.length).every(ours)) return { ok: false, reason: "covered" };
    const shown = hits.slice(click.length).filter(ours).length;
    if (shown < Math.ceil((grid.length * 2) / 3)) return { ok: false, reason: "covered" };
    return { ok: true, reason: "" };
  }

  ns.overlayVisibility = { check, movesOnly, harmlessFilter };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
