/* Popup: every open case, soonest deadline first, with a live countdown; a click opens the case. */
(function (ns) {
  "use strict";

  const t = ns.t;
  const time = ns.time;
  ns.localize(document);
  const listEl = document.getElementById("cases");
  const stateEl = document.getElementById("state");
  const emptyEl = document.getElementById("empty");
  let levels = {};

  document.getElementById("settings").addEventListener("click", () => chrome.runtime.openOptionsPage());

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function tick() {
    for (const li of listEl.children) {
      const deadline = li.dataset.deadline;
      if (!deadline) continue;
      const ms = time.remainingMs(deadline);
      const level = time.levelFor(ms, levels[li.dataset.platform]);
      li.dataset.level = level;
      li.querySelector(".countdown").textContent = ms > 0 ? time.formatRemaining(ms, t("dayUnit")) : t("overdue");
    }
  }

  function render(cases) {
    const sorted = [...cases].sort((a, b) => (a.deadline_at ? Date.parse(a.deadline_at) : Infinity) - (b.deadline_at ? Date.parse(b.deadline_at) : Infinity));
    listEl.replaceChildren(
      ...sorted.map((c) => {
        const li = h("li");
        li.dataset.caseId = String(c.id);
        li.dataset.platform = c.platform;
        if (c.deadline_at) li.dataset.deadline = c.deadline_at;
        li.append(h("span", "scenario", c.scenario_label || t("scenarioUnknown")), h("span", "countdown", c.deadline_at ? "" : "—"));
        const missing = c.complete ? t("complete") : c.missing !== null && c.missing !== undefined ? t("missingCount", [String(c.missing)]) : "";
        li.append(h("span", "meta", [ns.platformLabels[c.platform] || c.platform, `${t("orderId")} ${c.order_id}`, missing].filter(Boolean).join(" · ")));
        li.addEventListener("click", async () => {
          const reply = await chrome.runtime.sendMessage({ type: "openCase", id: c.id });
          if (reply && !reply.ok) showState(reply.error);
          else window.close();
        });
        return li;
      })
    );
    emptyEl.hidden = sorted.length > 0;
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
