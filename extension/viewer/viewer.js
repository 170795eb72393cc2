/* Shows one evidence file: the helper wants a token, which a plain tab cannot send, so the bytes
 * come through the service worker and are shown from a blob URL. */
(function (ns) {
  "use strict";

  ns.localize(document);
  const params = new URLSearchParams(location.search);
  const name = params.get("name") || "";
  document.getElementById("name").textContent = name;
  document.title = name || document.title;

  const { fromBase64 } = ns.bytes;

  (async () => {
    const message = document.getElementById("message");
    const reply = await chrome.runtime.sendMessage({ type: "fileBytes", caseId: params.get("case"), fileId: params.get("file") });
    if (!reply || !reply.ok) {
      message.textContent = (reply && reply.error) || ns.t("stateError");
      return;
    }
    const type = reply.data.type || "application/octet-stream";
    const url = URL.createObjectURL(new Blob([fromBase64(reply.data.b64)], { type }));
    let el;
    if (type.startsWith("image/")) {
      el = document.createElement("img");
      el.alt = name;
    } else if (type.startsWith("video/")) {
      el = document.createElement("video");
      el.controls = true;
    } else if (type === "application/pdf") {
      el = document.createElement("iframe");
    }
    if (el) {
      el.src = url;
      document.getElementById("content").append(el);
    }
    const link = document.getElementById("download");
    link.href = url;
    link.download = name || "file";
    link.hidden = false;
    message.textContent = "";
  })();
})(globalThis.Juzheng);
