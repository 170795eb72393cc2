/* The extension's service worker: the only code that talks to the local helper (see client.js).
 * Classic script with importScripts, so the countdown and adapter code is shared with pages. */
importScripts(
  "/shared/i18n.js",
  "/shared/time.js",
  "/shared/bytes.js",
  "/shared/caseview.js",
  "/content/extract.js",
  "/background/client.js",
  "/background/rules.js",
  "/background/live.js",
  "/background/alerts.js",
  "/background/tabs.js",
  "/background/router.js",
  "/background/pairing.js"
);

(function (ns) {
  "use strict";

  chrome.runtime.onInstalled.addListener((details) => {
    ns.alerts.ensureTick();
    // A fresh install cannot do anything before it is paired: show the seller how.
    if (details.reason === "install") {
      chrome.storage.local.get("token").then((got) => {
        if (!got.token) chrome.runtime.openOptionsPage();
      });
    }
  });

  chrome.runtime.onStartup.addListener(() => {
    ns.alerts.ensureTick();
    ns.alerts.refreshCases();
  });

  ns.alerts.ensureTick();
})(globalThis.Juzheng);
