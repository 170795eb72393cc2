/* At document start (content/host.js loaded before this): the overlay's host element and its frame,
 * hidden, so the extension page loads while the seller page does. content/main.js (also injected at
 * document start) reads the page once it is parsed and shows the host once there is a case. Content
 * scripts of one frame share their world, so main.js finds this host on the namespace. */
(function (ns) {
  "use strict";

  if (window.top !== window || ns.overlayHost) return;
  ns.overlayHost = new ns.OverlayHost();
  ns.overlayHost.preload();
  // The adapter for this address is asked for now, while the page is still loading: main.js needs it
  // the moment the document is parsed, and waiting for a worker round trip then is the overlay's
  // first delay.
  const href = location.href;
  ns.earlyContext = {
    href,
    reply: chrome.runtime.sendMessage({ type: "context", href }).catch(() => null),
  };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
