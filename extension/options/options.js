/* Options: the helper's port, pairing with a code from `juzheng pair`, and the connection state.
 * All calls go through the service worker (the one place that talks to the helper). */
(function (ns) {
  "use strict";

  const t = ns.t;
  ns.localize(document);
  const form = document.getElementById("pair-form");
  const statusEl = document.getElementById("status");
  const detailEl = document.getElementById("status-detail");
  const resultEl = document.getElementById("pair-result");

  const STATE_TEXT = {
    online: "stateOnline",
    offline: "stateOffline",
    unpaired: "stateUnpaired",
    foreign: "stateForeign",
    version: "stateVersion",
    error: "stateError",
  };

  function showStatus(data) {
    const state = data.state || "error";
    statusEl.dataset.state = state;
    statusEl.textContent = t(STATE_TEXT[state] || "stateError");
    if (state === "online" && data.health) detailEl.textContent = t("onlineDetail", [data.health.version, String(data.port)]);
    else if (state === "offline") detailEl.textContent = t("offlineHowPort", [String(data.port)]);
    else if (state === "unpaired") detailEl.textContent = t("unpairedHow");
    else detailEl.textContent = data.error || "";
  }

  async function refresh() {
    const reply = await chrome.runtime.sendMessage({ type: "status" });
    if (!reply || !reply.ok) return;
    form.elements.port.value = reply.data.port;
    showStatus(reply.data);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    resultEl.textContent = "";
    resultEl.dataset.tone = "";
    const code = form.elements["pairing-code"].value.trim();
    if (!/^\d{6}$/.test(code)) {
      resultEl.textContent = t("codeInvalid");
      resultEl.dataset.tone = "error";
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const reply = await chrome.runtime.sendMessage({ type: "pair", code, port: Number(form.elements.port.value) });
      if (reply && reply.ok) {
        resultEl.textContent = t("pairOk");
        resultEl.dataset.tone = "ok";
        form.elements["pairing-code"].value = "";
      } else {
        resultEl.textContent = (reply && reply.error) || t("stateError");
        resultEl.dataset.tone = "error";
      }
    } finally {
      button.disabled = false;
      await refresh();
    }
  });

  form.elements.port.addEventListener("change", async () => {
    const reply = await chrome.runtime.sendMessage({ type: "setPort", port: Number(form.elements.port.value) });
    if (reply && !reply.ok) {
      resultEl.textContent = reply.error;
      resultEl.dataset.tone = "error";
    }
    await refresh();
  });

  document.getElementById("unpair").addEventListener("click", async () => {
    await chrome.runtime.sendMessage({ type: "unpair" });
    await refresh();
  });

  refresh();
  // Say so as soon as the helper starts or stops while this page is open.
  setInterval(refresh, 5000);
})(globalThis.Juzheng);
