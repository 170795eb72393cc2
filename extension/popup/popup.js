/* Popup: every open case, soonest deadline first, with a live countdown and where its deadline came
 * from; a click opens the case; 标记已提交 / 已结案（赢/输） take it off the list. Cases overdue for days
 * (most likely ended on the platform without the seller saying so) are folded below, not shown as red. */
(function (ns) {
  "use strict";

  const t = ns.t;
  const time = ns.time;
  ns.localize(document);
  const listEl = document.getElementById("cases");
  const stateEl = document.getElementById("state");
  const emptyEl = document.getElementById("empty");
  const staleEl = document.getElementById("stale");
  const staleListEl = document.getElementById("stale-cases");
  const STALE_MS = 3 * 86400 * 1000;
  const SOURCES = { page: "sourcePage", request: "sourceRequest", seller: "sourceSeller", estimate: "sourceEstimate" };
  let levels = {};

  document.getElementById("settings").addEventListener("click", () => chrome.runtime.openOptionsPage());

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function tick() {
    for (const li of [...listEl.children, ...staleListEl.children]) {
      const deadline = li.dataset.deadline;
      if (!deadline) continue;
      const ms = time.remainingMs(deadline);
      const level = time.levelFor(ms, levels[li.dataset.platform]);
      // An estimated deadline is never shown as safe.
      li.dataset.level = level === "ok" && li.dataset.deadlineSource === "estimate" ? "estimate" : level;
      li.querySelector(".countdown").textContent = ms > 0 ? time.formatRemaining(ms, t("dayUnit")) : t("overdue");
    }
  }

  function row(c) {
    const li = h("li");
    li.dataset.caseId = String(c.id);
    li.dataset.platform = c.platform;
    if (c.deadline_at) li.dataset.deadline = c.deadline_at;
    if (c.deadline_source) li.dataset.deadlineSource = c.deadline_source;
    li.append(h("span", "scenario", c.scenario_label || t("scenarioUnknown")), h("span", "countdown", c.deadline_at ? "" : "—"));
    const missing = c.complete ? t("complete") : c.missing !== null && c.missing !== undefined ? t("missingCount", [String(c.missing)]) : "";
    li.append(h("span", "meta", [ns.platformLabels[c.platform] || c.platform, `${t("orderId")} ${c.order_id}`, missing].filter(Boolean).join(" · ")));
    const source = [c.deadline_source && SOURCES[c.deadline_source] ? t(SOURCES[c.deadline_source]) : "", c.deadline_conflict ? t("sourceConflict") : ""];
    if (source.some(Boolean)) li.append(h("span", "source", source.filter(Boolean).join(" · ")));
    const actions = h("span", "actions");
    for (const [action, label] of [["submitted", "markSubmitted"], ["won", "markWon"], ["lost", "markLost"]]) {
      const button = h("button", "secondary small", t(label));
      button.type = "button";
      button.dataset.action = action;
      button.addEventListener("click", async (event) => {
        event.stopPropagation();
        button.disabled = true;
        const reply = await chrome.runtime.sendMessage({ type: "caseAction", id: c.id, action });
        if (reply && reply.ok) {
          li.remove();
          afterChange();
        } else {
          button.disabled = false;
          showState((reply && reply.error) || t("noReply"));
        }
      });
      actions.append(button);
    }
    li.append(actions);
    li.addEventListener("click", async () => {
      const reply = await chrome.runtime.sendMessage({ type: "openCase", id: c.id });
      if (reply && !reply.ok) showState(reply.error);
      else window.close();
    });
    return li;
  }

  function afterChange() {
    staleEl.hidden = staleListEl.children.length === 0;
    emptyEl.hidden = listEl.children.length + staleListEl.children.length > 0;
  }

  function render(cases) {
    const sorted = [...cases].sort((a, b) => (a.deadline_at ? Date.parse(a.deadline_at) : Infinity) - (b.deadline_at ? Date.parse(b.deadline_at) : Infinity));
    const now = Date.now();
    const stale = (c) => c.deadline_at && Date.parse(c.deadline_at) < now - STALE_MS;
    listEl.replaceChildren(...sorted.filter((c) => !stale(c)).map(row));
    staleListEl.replaceChildren(...sorted.filter(stale).map(row));
    afterChange();
    tick();
  }

  function showState(text) {
    stateEl.hidden = !text;
    stateEl.textContent = text || "";
  }

  async function load() {
    const rules = (await chrome.storage.local.get("rules")).rules;
    ns.platformLabels = {};
    for (const p of (rules && rules.platforms) || []) {
      ns.platformLabels[p.id] = p.label;
      levels[p.id] = p.levels;
    }
    const reply = await chrome.runtime.sendMessage({ type: "list" });
    if (!reply) return;
    render(reply.data || []);
    if (!reply.ok) {
      const how = {
        offline: `${t("offlineTitle")} — ${t("offlineHow")} ${t("offlineCommand")}`,
        unpaired: `${t("unpairedTitle")} — ${t("unpairedHow")}`,
        foreign: `${t("foreignTitle")} — ${t("foreignHow")}`,
      }[reply.state];
      showState(how || reply.error);
    } else showState("");
  }

  ns.platformLabels = {};
  load();
  setInterval(tick, 1000);
})(globalThis.Juzheng);
