/* The badge and the deadline notifications.
 *
 * The badge counts open cases at warn or worse. A case gets one desktop notification when it turns
 * `warn` and one when it turns `urgent` (once each, remembered in storage) — from the helper when it
 * notifies itself (GET /api/health says `notifies`), from Chrome only when the helper cannot. Times come from the
 * absolute deadlines and chrome.alarms, never from a long-lived worker: MV3 service workers stop
 * when idle, alarms wake them.
 */
(function (ns) {
  "use strict";

  const time = ns.time;
  const CASES_KEY = "cases";
  const NOTIFIED_KEY = "notified";
  const TICK = "tick";
  const LEVEL_ALARM = /^level:(\d+):(warn|urgent)$/;

  async function levelsFor(platformId) {
    const rules = await ns.rules.get(false);
    const p = ns.rules.platform(rules, platformId);
    return (p && p.levels) || time.DEFAULT_LEVELS;
  }

  async function currentLevel(c) {
    if (!c.deadline_at || (c.status && c.status !== "open")) return null;
    return time.levelFor(time.remainingMs(c.deadline_at), await levelsFor(c.platform));
  }

  async function storedCases() {
    const got = await chrome.storage.local.get(CASES_KEY);
    return got[CASES_KEY] || [];
  }

  async function updateBadge(list) {
    let count = 0;
    let worst = "ok";
    for (const c of list) {
      const level = await currentLevel(c);
      if (level && time.LEVEL_ORDER[level] >= time.LEVEL_ORDER.warn) {
        count++;
        worst = time.worse(level, worst);
      }
    }
    await chrome.action.setBadgeText({ text: count ? String(count) : "" });
    await chrome.action.setBadgeBackgroundColor({ color: worst === "warn" ? "#bf6a02" : "#cf222e" });
    await chrome.action.setTitle({ title: count ? ns.t("badgeTitle", [String(count)]) : ns.t("actionTitle") });
  }

  /** The helper is running and sends deadline notifications itself (desktop or tray balloon). */
  async function helperNotifies() {
    try {
      const h = await ns.client.health();
      return Boolean(h.ok && h.data && h.data.notifies);
    } catch (_) {
      return false;
    }
  }

  async function notify(c, level) {
    const got = await chrome.storage.local.get(NOTIFIED_KEY);
    const notified = got[NOTIFIED_KEY] || {};
    const urgentish = level === "urgent" || level === "overdue";
    const key = urgentish ? `${c.id}:urgent` : `${c.id}:warn`;
    if (notified[key]) return false;
    notified[key] = c.deadline_at;
    if (urgentish) notified[`${c.id}:warn`] = notified[`${c.id}:warn`] || c.deadline_at; // no 'warn' after 'urgent'
    await chrome.storage.local.set({ [NOTIFIED_KEY]: notified });
    if (await helperNotifies()) return false; // the helper tells the seller itself: one notification, not two
    const ms = time.remainingMs(c.deadline_at);
    const rules = await ns.rules.get(false);
    const platform = ns.rules.platform(rules, c.platform);
    await chrome.notifications.create(`case:${c.id}:${urgentish ? "urgent" : "warn"}`, {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: urgentish ? ns.t("notifyUrgentTitle") : ns.t("notifyWarnTitle"),
      message: ns.t("notifyMessage", [
        platform ? platform.label : c.platform,
        c.order_id,
        c.scenario_label || ns.t("scenarioUnknown"),
        ms > 0 ? time.formatRemaining(ms, ns.t("dayUnit")) : ns.t("overdue"),
        time.formatDeadline(c.deadline_at),
      ]),
      priority: urgentish ? 2 : 1,
      requireInteraction: urgentish,
    });
    return true;
  }

  /** Notify what is due now and set alarms for the moments each case will turn warn and urgent. */
  async function schedule(list) {
    const got = await chrome.storage.local.get(NOTIFIED_KEY);
    const notified = got[NOTIFIED_KEY] || {};
    for (const c of list) {
      if (!c.deadline_at || (c.status && c.status !== "open")) continue;
      const level = await currentLevel(c);
      if (level && level !== "ok") await notify(c, level);
      const levels = await levelsFor(c.platform);
      const at = Date.parse(c.deadline_at);
      for (const lv of ["warn", "urgent"]) {
        if (notified[`${c.id}:${lv}`]) continue;
        const when = at - time.parseDuration(levels[`${lv}_before`] || time.DEFAULT_LEVELS[`${lv}_before`]);
        if (when > Date.now()) await chrome.alarms.create(`level:${c.id}:${lv}`, { when });
      }
    }
  }

  /** One case view or summary seen anywhere (detect, a page refresh): merge it into the list. */
  async function noteCase(view) {
    const list = await storedCases();
    const summary = {
      id: view.id,
      platform: view.platform,
      order_id: view.order_id,
      aftersale_id: view.aftersale_id,
      scenario: view.scenario,
      scenario_label: view.scenario_label,
      status: view.status,
      deadline_at: view.deadline_at,
      level: view.level,
      complete: view.checklist ? view.checklist.complete : null,
      missing: view.checklist ? Math.min(...view.checklist.options.map((o) => o.missing.length)) : null,
    };
    const next = list.filter((c) => c.id !== view.id);
    if (summary.status === "open") next.push(summary);
    await chrome.storage.local.set({ [CASES_KEY]: next });
    await updateBadge(next);
    await schedule([summary]);
  }

  /** GET /api/cases: the open cases by deadline. Falls back to the last list when offline. */
  async function refreshCases() {
    const res = await ns.client.request("GET", "/api/cases?status=open");
    if (!res.ok) {
      const list = await storedCases();
      await updateBadge(list);
      return { ok: false, state: res.state, error: res.error, data: list };
    }
    const list = res.data || [];
    await chrome.storage.local.set({ [CASES_KEY]: list });
    await updateBadge(list);
    await schedule(list);
    return { ok: true, data: list };
  }

  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshCases, 300);
  }

  chrome.alarms.onAlarm.addListener(async (alarm) => {
    if (alarm.name === TICK) {
      await refreshCases();
      return;
    }
    const m = LEVEL_ALARM.exec(alarm.name);
    if (!m) return;
    const c = (await storedCases()).find((x) => String(x.id) === m[1]);
    if (!c) return;
    const level = await currentLevel(c);
    if (level && time.LEVEL_ORDER[level] >= time.LEVEL_ORDER[m[2]]) await notify(c, level);
    await updateBadge(await storedCases());
  });

  chrome.notifications.onClicked.addListener(async (id) => {
    const m = /^case:(\d+)/.exec(id);
    if (!m) return;
    chrome.notifications.clear(id);
    await ns.router.openCase(Number(m[1]));
  });

  function ensureTick() {
    chrome.alarms.get(TICK).then((a) => {
      if (!a) chrome.alarms.create(TICK, { periodInMinutes: 1 });
    });
  }

  ns.live.onEvent((event) => {
    if (["case", "evidence", "level", "rules"].includes(event.type)) refreshSoon();
  });

  ns.alerts = { refreshCases, noteCase, updateBadge, ensureTick, storedCases, notify, schedule };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
