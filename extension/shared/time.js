/* Countdown arithmetic shared by the overlay, the popup and the service worker (classic script:
 * content scripts cannot be ES modules). Everything runs from the absolute deadline the helper
 * sends, so a page left open for hours still shows the right time and level. */
(function (ns) {
  "use strict";

  const LEVEL_ORDER = { ok: 0, warn: 1, urgent: 2, overdue: 3 };
  const DEFAULT_LEVELS = { warn_before: "12h", urgent_before: "2h" };

  /** "1d12h30m" (the rules' duration text) → milliseconds; null when unreadable. */
  function parseDuration(text) {
    if (typeof text !== "string") return null;
    const m = /^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$/.exec(text);
    if (!m || !(m[1] || m[2] || m[3])) return null;
    const [d, h, min] = [m[1], m[2], m[3]].map((v) => (v ? Number(v) : 0));
    return ((d * 24 + h) * 60 + min) * 60 * 1000;
  }

  /** Same thresholds as the helper's level_for: <=0 overdue, <=urgent urgent, <=warn warn. */
  function levelFor(remainingMs, levels) {
    const lv = levels || DEFAULT_LEVELS;
    const urgent = parseDuration(lv.urgent_before) ?? parseDuration(DEFAULT_LEVELS.urgent_before);
    const warn = parseDuration(lv.warn_before) ?? parseDuration(DEFAULT_LEVELS.warn_before);
    if (remainingMs <= 0) return "overdue";
    if (remainingMs <= urgent) return "urgent";
    if (remainingMs <= warn) return "warn";
    return "ok";
  }

  /** The level to show: a closed case is calm; an estimated deadline is never "ok" (never green),
   * the same as the helper's display_level. */
  function displayLevel(remaining, levels, source, closed) {
    if (closed) return "ok";
    const level = levelFor(remaining, levels);
    return source === "estimate" && level === "ok" ? "estimate" : level;
  }

  function remainingMs(deadlineIso, now) {
    const at = Date.parse(deadlineIso);
    if (Number.isNaN(at)) return null;
    return at - (now ?? Date.now());
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  /** 1天 03:04:05 / 03:04:05; overdue shows how long ago, prefixed by the caller's word. */
  function formatRemaining(ms, dayWord) {
    const total = Math.floor(Math.abs(ms) / 1000);
    const days = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const clock = `${pad(h)}:${pad(m)}:${pad(s)}`;
    return days > 0 ? `${days}${dayWord || "天"} ${clock}` : clock;
  }

  /** A deadline as the seller reads it: Beijing time, which the platforms use. */
  function formatDeadline(deadlineIso) {
    const at = new Date(deadlineIso);
    if (Number.isNaN(at.getTime())) return "";
    const bj = new Date(at.getTime() + 8 * 3600 * 1000);
    return `${bj.getUTCFullYear()}-${pad(bj.getUTCMonth() + 1)}-${pad(bj.getUTCDate())} ${pad(bj.getUTCHours())}:${pad(bj.getUTCMinutes())}`;
  }

  function worse(a, b) {
    return (LEVEL_ORDER[a] ?? -1) >= (LEVEL_ORDER[b] ?? -1) ? a : b;
  }

  ns.time = { LEVEL_ORDER, DEFAULT_LEVELS, parseDuration, levelFor, displayLevel, remainingMs, formatRemaining, formatDeadline, worse };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
