/* The generic countdown and deadline finder: pure text in, the page's deadline out.
 *
 * Back offices word their countdowns many ways (剩余处理时长 1天02时, 10小时22分05秒后，系统将默认支持买家,
 * 请在12月02日 14:30前完成举证) and split the digits over inline elements; the caller joins a block's
 * text across those elements first. Here a duration or a date only counts next to a trigger word
 * (before it: 剩余/还剩/距超时/截止…; after it: …后自动/…后系统将/…前完成), so the order date, a
 * history entry or the "举证时长48小时" window nearby are not taken for the countdown. The result is
 * a canonical text the helper's parser reads (剩余 1天2小时0分5秒 / 截止 2026-12-02 14:30) plus the
 * deadline in epoch milliseconds, so the caller can tell a tick from a jump.
 */
(function (ns) {
  "use strict";

  // Before a duration: the time left. Longest first, so 剩余举证时间 wins over 剩余.
  const REMAIN_BEFORE = [
    "剩余举证时间", "剩余处理时间", "剩余处理时长", "剩余举证时长", "剩余回复时间", "剩余时间", "剩余时长", "剩余",
    "还剩下", "还剩", "距离超时", "距超时", "距离截止", "距截止", "距结束", "倒计时", "处理时限", "举证时限",
    // 「距举证结束还有 09:41:05」「距处理截止还有…」
    "距举证结束", "距举证截止", "距处理结束", "距处理截止", "结束还有", "截止还有", "超时还有", "到期还有",
    "处理时效", "举证时效", "回复时效", "剩", "余",
  ];
  // Before a date: the deadline itself.
  const DEADLINE_BEFORE = [
    "举证截止时间", "举证截止", "截止时间", "截至时间", "超时时间", "到期时间", "处理时限", "举证时限", "截止", "截至",
    "请在", "请于", "须于", "需于", "须在", "需在", "务必在", "务必于", "最晚", "于",
  ];
  // After a duration: "…后，系统将默认支持买家", "…后自动同意/自动退款", "…后未处理".
  // Not "…内": "48小时内完成举证" is the window counted from the request, not the time left.
  const AFTER_DURATION = /^\s*(?:后|之后|以后)\s*[，,、]?\s*(?:系统|平台|将|会|自动|默认|视为|若|如|未|超时|即|订单|退款|关闭|同意|买家)/;
  // After a date: "…前完成举证", "…之前上传凭证".
  const AFTER_DATE = /^\s*(?:前|之前|以前|截止|截至|到期)/;
  // How far (in characters) a trigger may sit from its value: a label, a colon, a few words.
  const NEAR_BEFORE = 14;

  const UNIT = String.raw`(?:(\d{1,3})\s*(?:天|日))?\s*(?:(\d{1,3})\s*(?:个小时|小时|时))?\s*(?:(\d{1,3})\s*(?:分钟|分))?\s*(?:(\d{1,3})\s*秒)?`;
  const CLOCK = String.raw`(?:(\d{1,3})\s*天\s*)?(\d{1,3})\s*:\s*([0-5]\d)(?:\s*:\s*([0-5]\d))?`;
  const DATE = String.raw`(?:(20\d{2})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:T|\s)?\s*(\d{1,2})\s*[:时点]\s*(\d{2})?(?:\s*分)?(?:\s*:\s*(\d{2}))?`;

  // A day named relative to today (今天 23:59 前, 明天下午2点30分, 后天 10:00 截止): Beijing's today.
  const RELDAY = String.raw`(今天|今日|明天|明日|后天)\s*(?:(凌晨|早上|上午|中午|下午|傍晚|晚上)\s*)?(\d{1,2})\s*(?::|点|时)\s*(\d{2})?(?:\s*分)?`;
  const RELDAY_OFFSET = { 今天: 0, 今日: 0, 明天: 1, 明日: 1, 后天: 2 };
  const AFTERNOON = new Set(["下午", "傍晚", "晚上"]);

  const DATE_RE = new RegExp(DATE, "g");
  const RELDAY_RE = new RegExp(RELDAY, "g");
  const DATED_VALUE = new RegExp(`${DATE}|${RELDAY}`); // a labelled value that names a date (readValue)
  const CLOCK_RE = new RegExp(CLOCK, "g");
  const UNIT_RE = new RegExp(UNIT, "g");

  /** Full-width digits and colons, NBSP and ideographic spaces: the forms pages and copies use. */
  function normalise(text) {
    return (text || "").normalize("NFKC").replace(/[\u00a0\u2000-\u200b\u3000]/g, " ").replace(/：/g, ":");
  }

  function num(v) {
    return v ? Number(v) : 0;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function nearTrigger(text, start, triggers) {
    const before = text.slice(Math.max(0, start - NEAR_BEFORE - 8), start);
    for (const word of triggers) {
      const at = before.lastIndexOf(word);
      if (at < 0) continue;
      const gap = before.slice(at + word.length);
      // A one-character trigger (剩 3 小时, 余 05:12:33) only right before its value, and not as
      // the end of another word (剩余 is its own trigger; 结余 / 余额 are money).
      if (word.length === 1 && (gap.trim() !== "" || /[\u4e00-\u9fa5]/.test(before.charAt(at - 1)))) continue;
      // Only separators and a few label words between the trigger and the value, no other number.
      if (gap.length <= NEAR_BEFORE && !/\d/.test(gap) && !/[。；;！!]/.test(gap)) return word;
    }
    return null;
  }

  // 于/请在 alone are too common: before a date they count only with the 前 (截止) that closes it.
  const WEAK_DATE_TRIGGERS = new Set(["于", "请在", "请于", "须于", "需于", "须在", "需在", "务必在", "务必于"]);

  /** The trigger that makes the date at [start, end) a deadline ("前" when it is the word after),
   * or null: a label before it (截止时间), or 前/截止 after it. */
  function dateTrigger(text, start, end) {
    const before = nearTrigger(text, start, DEADLINE_BEFORE);
    if (AFTER_DATE.test(text.slice(end, end + 4))) return before || "前";
    return before && !WEAK_DATE_TRIGGERS.has(before) ? before : null;
  }

  /** Beijing wall time → epoch ms; the year is the next one that is not more than a day past. */
  function beijingMs(year, month, day, hour, minute, second, nowMs) {
    const make = (y) => Date.UTC(y, month - 1, day, hour - 8, minute, second);
    if (year) return make(year);
    const bjNow = new Date(nowMs + 8 * 3600 * 1000);
    for (const y of [bjNow.getUTCFullYear(), bjNow.getUTCFullYear() + 1]) {
      const at = make(y);
      if (at >= nowMs - 86400 * 1000) return at;
    }
    return null;
  }

  function validDate(month, day, hour, minute) {
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 24 && minute <= 59;
  }

  /** Every triggered duration or date in ``text``: {kind, text, at, index, trigger}. */
  function findAll(raw, nowMs) {
    const text = normalise(raw);
    const now = nowMs ?? Date.now();
    const found = [];
    const taken = []; // spans of dates, so their hh:mm is not read again as a clock

    DATE_RE.lastIndex = 0;
    for (let m; (m = DATE_RE.exec(text)); ) {
      const [all, y, mo, d, h, mi, s] = m;
      const end = m.index + all.length;
      taken.push([m.index, end]);
      const month = num(mo), day = num(d), hour = num(h), minute = num(mi), second = num(s);
      if (!validDate(month, day, hour, minute)) continue;
      const trigger = dateTrigger(text, m.index, end);
      if (!trigger) continue;
      const at = beijingMs(y ? Number(y) : null, month, day, hour, minute, second, now);
      if (at === null) continue;
      const date = `${y ? y + "-" : ""}${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}${s ? ":" + pad(second) : ""}`;
      found.push({ kind: "deadline", text: `截止 ${date}`, at, index: m.index, trigger });
    }

    RELDAY_RE.lastIndex = 0;
    for (let m; (m = RELDAY_RE.exec(text)); ) {
      const [all, day, part, h, mi] = m;
      const end = m.index + all.length;
      let hour = num(h);
      const minute = num(mi);
      if (part && AFTERNOON.has(part) && hour < 12) hour += 12;
      if (hour > 24 || minute > 59) continue;
      taken.push([m.index, end]); // its hh:mm is a time of day, never a countdown
      const trigger = dateTrigger(text, m.index, end);
      if (!trigger) continue;
      const bj = new Date(now + 8 * 3600 * 1000);
      const at = Date.UTC(bj.getUTCFullYear(), bj.getUTCMonth(), bj.getUTCDate() + RELDAY_OFFSET[day], hour - 8, minute, 0);
      const local = new Date(at + 8 * 3600 * 1000);
      const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
      found.push({ kind: "deadline", text: `截止 ${date}`, at, index: m.index, trigger });
    }

    const inDate = (i) => taken.some(([a, b]) => i >= a && i < b);
    CLOCK_RE.lastIndex = 0;
    for (let m; (m = CLOCK_RE.exec(text)); ) {
      if (inDate(m.index) || inDate(m.index + m[0].length - 1)) continue;
      const end = m.index + m[0].length;
      const before = nearTrigger(text, m.index, REMAIN_BEFORE);
      const after = AFTER_DURATION.test(text.slice(end, end + 14));
      if (!before && !after) continue;
      const [, d, h, mi, s] = m;
      const seconds = ((num(d) * 24 + num(h)) * 60 + num(mi)) * 60 + num(s);
      taken.push([m.index, end]);
      found.push(remaining(seconds, now, m.index, before || "后"));
    }

    UNIT_RE.lastIndex = 0;
    for (let m; (m = UNIT_RE.exec(text)); ) {
      if (!m[0]) {
        UNIT_RE.lastIndex++;
        continue;
      }
      if (!(m[1] || m[2] || m[3] || m[4]) || inDate(m.index)) continue;
      const end = m.index + m[0].length;
      const before = nearTrigger(text, m.index, REMAIN_BEFORE);
      // Without a label, one round unit ("48小时后自动退款", "超过7天后关闭") is the rule's wording,
      // not this case's countdown: a live one shows at least two units (10小时22分05秒后).
      const units = [m[1], m[2], m[3], m[4]].filter(Boolean).length;
      const after = units >= 2 && !/超过|超出|满$/.test(text.slice(Math.max(0, m.index - 3), m.index)) && AFTER_DURATION.test(text.slice(end, end + 14));
      if (!before && !after) continue;
      const seconds = ((num(m[1]) * 24 + num(m[2])) * 60 + num(m[3])) * 60 + num(m[4]);
      found.push(remaining(seconds, now, m.index, before || "后"));
    }
    return found.sort((a, b) => a.index - b.index);
  }

  function remaining(seconds, now, index, trigger) {
    const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    const mi = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return { kind: "remaining", text: `剩余 ${d}天${h}小时${mi}分${s}秒`, at: now + seconds * 1000, index, trigger, seconds };
  }

  /** The deadline a text states: the earliest of what it says (a deadline shown must never be
   * later than the truth), or null. */
  function find(text, nowMs) {
    const all = findAll(text, nowMs);
    if (!all.length) return null;
    return all.reduce((best, c) => (c.at < best.at ? c : best));
  }

  /** A labelled value read as a countdown or deadline (the label itself is the trigger). */
  function readValue(value, nowMs) {
    const text = normalise(value).slice(0, 200);
    if (DATED_VALUE.test(text)) return find("截止 " + text, nowMs) || find(text, nowMs);
    return find("剩余 " + text, nowMs);
  }

  ns.countdown = { normalise, findAll, find, readValue, REMAIN_BEFORE, DEADLINE_BEFORE };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
