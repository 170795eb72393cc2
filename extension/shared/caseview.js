/* Pure reading of a case view as the helper sends it (GET /api/cases/<id>), shared by the overlay
 * frame (what to show) and the service worker (which files may be handed to the page). */
(function (ns) {
  "use strict";

  const IMAGE_NAME = /\.(png|jpe?g|gif|webp|bmp)$/i;
  const VIDEO_NAME = /\.(mp4|mov|webm|m4v|avi)$/i;
  const PDF_NAME = /\.pdf$/i;
  const MIME = {
    png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", bmp: "image/bmp",
    mp4: "video/mp4", mov: "video/quicktime", webm: "video/webm", pdf: "application/pdf",
  };

  /** Evidence records of the folder that count for a checklist item (refs are the store's ids). */
  function filesOf(view, item) {
    const evidence = (view && view.evidence) || [];
    const byId = new Map(evidence.map((e) => [String(e.id), e]));
    const refs = (item.evidence || []).map((r) => byId.get(String(r))).filter(Boolean);
    if (refs.length) return refs;
    return evidence.filter((e) => e.kind === item.kind && item.state !== "missing");
  }

  /** Every record the view shows as a file (sorted evidence and the order's 待分类 folder). */
  function shownFile(view, fileId) {
    const id = String(fileId);
    const all = [...((view && view.evidence) || []), ...((view && view.unsorted) || [])];
    return all.find((e) => String(e.id) === id && e.url) || null;
  }

  function mimeOf(name) {
    const ext = (String(name).split(".").pop() || "").toLowerCase();
    return MIME[ext] || "application/octet-stream";
  }

  /** Does a file of this name suit the platform's accepted media and the upload box's accept=""? */
  function acceptsFile(name, accepts, accept) {
    const media = accepts && accepts.length ? accepts : ["image"];
    const ok = (media.includes("image") && IMAGE_NAME.test(name)) || (media.includes("video") && VIDEO_NAME.test(name)) || (media.includes("pdf") && PDF_NAME.test(name));
    if (!ok) return false;
    const wanted = String(accept || "").trim();
    if (!wanted) return true;
    return wanted.split(",").map((a) => a.trim().toLowerCase()).some((a) => {
      if (a.endsWith("/*")) return mimeOf(name).startsWith(a.slice(0, -1));
      if (a.startsWith(".")) return name.toLowerCase().endsWith(a) || (a === ".jpg" && /\.jpeg$/i.test(name));
      return mimeOf(name) === a;
    });
  }

  function uploadOf(view, platform) {
    return (view && view.upload) || (platform && platform.upload) || null;
  }

  ns.caseview = { IMAGE_NAME, filesOf, shownFile, mimeOf, acceptsFile, uploadOf };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
