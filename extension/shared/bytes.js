/* File bytes across runtime messages, which carry no ArrayBuffer: base64 both ways. Shared by the
 * content script, the service worker and the viewer page (classic script). */
(function (ns) {
  "use strict";

  function toBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    // In slices: String.fromCharCode.apply on a whole photo overflows the argument stack.
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  function fromBase64(b64) {
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  ns.bytes = { toBase64, fromBase64 };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
