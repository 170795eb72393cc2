/* The deadline a seller types from the platform's page, read without guessing: an absolute time
 * (Beijing time, as the platforms show it: 2026-12-02 14:30, 2026/12/2 14:30, 12月2日 14:30,
 * 12-02 14:30) or the time left (1天3小时, 27小时30分, 47:59:59, 1天 23:59:59). Pure: the caller
 * passes the clock. Anything else is refused, so the seller is asked again instead of a wrong
 * deadline being stored. */
(function (ns) {
  "use strict";

  const BEIJING_MS = 8 * 3600 * 1000;
  const PAST_LIMIT_MS = 30 * 24 * 3600 * 1000;
  const FUTURE_LIMIT_MS = 90 * 24 * 3600 * 1000;

  function normalize(text) {
    return String(text || "")
      .replace(/[\uff10-\uff19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
      .replace(/[：]/g, ":").replace(/[／]/g, "/").replace(/[－—–]/g, "-")
      .replace(/[\u00a0\u3000\s]+/g, " ")
      .trim();
  }

  function beijing(y, mo, d, h, mi, s) {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
    const ms = Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_MS;
    const check = new Date(ms + BEIJING_MS);
    return check.getUTCDate() === d && check.getUTCMonth() === mo - 1 ? ms : null; // no 2月30日
  }

  function absolute(text, now) {
    let m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
    if (m) return beijing(+m[1], +m[2], +m[3], +m[4], +m[5], +(m[6] || 0));
    m = /^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
    if (!m) return null;
    // No year on the page: this year's date, or next year's when that is the one ahead (late December).
    const year = new Date(now + BEIJING_MS).getUTCFullYear();
    const at = beijing(year, +m[1], +m[2], +m[3], +m[4], +(m[5] || 0));
    if (at === null) return null;
    return at < now - PAST_LIMIT_MS ? beijing(year + 1, +m[1], +m[2], +m[3], +m[4], +(m[5] || 0)) : at;
  }

  function remaining(text, now) {
    const t = text.replace(/^(剩余|还剩|剩)\s*/, "");
    let m = /^(?:(\d+)\s*天\s*)?(\d{1,3}):(\d{2})(?::(\d{2}))?$/.exec(t);
    if (m && (m[1] || m[4] !== undefined)) return now + (((+(m[1] || 0) * 24 + +m[2]) * 60 + +m[3]) * 60 + +(m[4] || 0)) * 1000;
    m = /^(?:(\d+)\s*天)?\s*(?:(\d+)\s*(?:小时|时))?\s*(?:(\d+)\s*(?:分钟|分))?\s*(?:(\d+)\s*秒)?$/.exec(t);
    if (m && (m[1] || m[2] || m[3] || m[4])) return now + (((+(m[1] || 0) * 24 + +(m[2] || 0)) * 60 + +(m[3] || 0)) * 60 + +(m[4] || 0)) * 1000;
    return null;
  }

  /** {at: ISO 8601} or {error: "unreadable" | "out_of_range"}. */
  function parseTypedDeadline(input, now) {
    const clock = now ?? Date.now();
    const text = normalize(input);
    if (!text) return { error: "unreadable" };
    const at = absolute(text, clock) ?? remaining(text, clock);
    if (at === null || Number.isNaN(at)) return { error: "unreadable" };
    if (at < clock - PAST_LIMIT_MS || at > clock + FUTURE_LIMIT_MS) return { error: "out_of_range" };
    return { at: new Date(at).toISOString() };
  }

  ns.deadlineInput = { parseTypedDeadline };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
