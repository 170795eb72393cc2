/* Options: find the helper by itself, pair by asking the seller at the helper (or with a code),
 * show the connection state and what to do next. Every call goes through the service worker. */
(function (ns) {
  "use strict";

  const t = ns.t;
  ns.localize(document);
  const form = document.getElementById("pair-form");
  const statusEl = document.getElementById("status");
  const detailEl = document.getElementById("status-detail");
  const resultEl = document.getElementById("pair-result");
  const nextEl = document.getElementById("next-step");
  const startButton = document.getElementById("pair-start");
  const waitEl = document.getElementById("pair-wait");
  const POLL_MS = 1000;
  let polling = null;

  const STATE_TEXT = {
    online: "stateOnline",
    offline: "stateOffline",
    unpaired: "stateUnpaired",
    foreign: "stateForeign",
    version: "stateVersion",
    error: "stateError",
  };

  const send = (msg) => chrome.runtime.sendMessage(msg);

  function say(text, tone) {
    resultEl.textContent = text || "";
    resultEl.dataset.tone = tone || "";
  }

  function showStatus(data) {
    const state = data.state || "error";
    statusEl.dataset.state = state;
    statusEl.textContent = t(STATE_TEXT[state] || "stateError");
    nextEl.hidden = state !== "online";
    if (state === "online" && data.health) detailEl.textContent = t("onlineDetail", [data.health.version, String(data.port)]);
    else if (state === "offline") detailEl.textContent = t("offlineHowPort", [String(data.port)]);
    else if (state === "unpaired") detailEl.textContent = t("unpairedHow");
    else detailEl.textContent = data.error || "";
  }

  async function refresh() {
    let reply = await send({ type: "status" });
    if (!reply || !reply.ok) return;
    if (reply.data.state === "offline" || reply.data.state === "foreign") {
      // Not on the saved port: look on the default and the usual ones before telling the seller.
      const found = await send({ type: "discover" });
      if (found && found.ok && found.data.found) reply = await send({ type: "status" });
    }
    if (document.activeElement !== form.elements.port) form.elements.port.value = reply.data.port;
    showStatus(reply.data);
  }

  function showWaiting(question, extensionId) {
    waitEl.hidden = false;
    startButton.disabled = true;
    document.getElementById("pair-question").textContent = t("pairWaiting", [question]);
    document.getElementById("pair-wait-how").textContent = t("pairWaitingHow", [extensionId]);
  }

  function stopWaiting() {
    if (polling) clearTimeout(polling);
    polling = null;
    waitEl.hidden = true;
    startButton.disabled = false;
  }

  async function poll() {
    const reply = await send({ type: "pairAskStatus" });
    if (!reply || !reply.ok) {
      stopWaiting();
      say(reply && reply.status === 404 ? t("pairExpired") : (reply && reply.error) || t("stateError"), "error");
      return;
    }
    const state = reply.data.state;
    if (state === "pending") {
      polling = setTimeout(poll, POLL_MS);
      return;
    }
    stopWaiting();
    if (state === "approved") say(t("pairOk"), "ok");
    else if (state === "denied") say(t("pairDenied"), "error");
    await refresh();
  }

  startButton.addEventListener("click", async () => {
    say("");
    startButton.disabled = true;
    const reply = await send({ type: "pairAsk" });
    if (!reply || !reply.ok) {
      startButton.disabled = false;
      say((reply && reply.error) || t("stateError"), "error");
      await refresh();
      return;
    }
    showWaiting(reply.data.question, reply.data.extensionId);
    polling = setTimeout(poll, POLL_MS);
  });

  document.getElementById("pair-cancel").addEventListener("click", async () => {
    stopWaiting();
    await send({ type: "pairAskCancel" });
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say("");
    const code = form.elements["pairing-code"].value.trim();
    if (!/^\d{6}$/.test(code)) {
      say(t("codeInvalid"), "error");
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const reply = await send({ type: "pair", code, port: Number(form.elements.port.value) });
      if (reply && reply.ok) {
        say(t("pairOk"), "ok");
        form.elements["pairing-code"].value = "";
      } else {
        say((reply && reply.error) || t("stateError"), "error");
      }
    } finally {
      button.disabled = false;
      await refresh();
    }
  });

  form.elements.port.addEventListener("change", async () => {
    const reply = await send({ type: "setPort", port: Number(form.elements.port.value) });
    if (reply && !reply.ok) say(reply.error, "error");
    await refresh();
  });

  document.getElementById("unpair").addEventListener("click", async () => {
    await send({ type: "unpair" });
    await refresh();
  });

  // A reload while an ask waits: keep waiting for it.
  send({ type: "pairAskStatus" }).then((reply) => {
    if (reply && reply.ok && reply.data.state === "pending") {
      waitEl.hidden = false;
      startButton.disabled = true;
      polling = setTimeout(poll, POLL_MS);
    }
  });
  refresh();
  // Say so as soon as the helper starts or stops while this page is open.
  setInterval(refresh, 5000);
})(globalThis.Juzheng);
