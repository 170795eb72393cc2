/* The overlay's part of getting evidence in: whether each option's files can go into the platform's
 * box (and what cannot), the confirm step before attaching on a platform that takes one submission
 * only, 「归为…」 and drag for unsorted files, the inbox offer, the tracking-number question that
 * keeps 「复制说明」 from copying a blank, duplicates, and 「打包导出」.
 *
 * The panel calls in at a few points (option, item, unsortedFile, actions, afterRender); every
 * request goes through panel.handlers.act to the service worker, which acts only on this tab's case.
 * Text from the helper or the page is set with textContent only.
 */
(function (ns) {
  "use strict";

  const h = (...args) => ns.dom.h(...args);
  const EVIDENCE_TYPE = "application/x-juzheng-evidence";

  const ZH = {
    packetReady: "可以提交：$1 个文件放进上传框",
    packetConvert: "（$1 个将先转换为平台收的格式，原文件保留）",
    packetNotReady: "还不能提交：",
    confirmTitle: "提交前核对这组凭证",
    confirmFinal: "该平台的举证只能提交一次，提交后不能补充或修改。",
    confirmMissing: "还缺：",
    confirmCautions: "注意：",
    confirmProblems: "放不进上传框：",
    confirmAttach: "确认，放进上传框",
    confirmCancel: "再看看",
    convertedFrom: "由 $1 转换",
    preparing: "正在准备这组文件（需要时转换为 JPEG）…",
    attachedPacket: "已把 $1 个文件放进页面的上传框：请核对后点平台的提交按钮。",
    assignTo: "归为…",
    assigned: "已归为：$1",
    dropHere: "拖到某一项上即可归类",
    offerAccept: "归到这个案子",
    offerDecline: "不用",
    offerAccepted: "已把 $1 个文件归到这个案子",
    offerDeclined: "好的，这些文件留在收件箱，不会再问这个案子",
    offerNone: "收件箱里没有可以归到本订单的文件（写了别的订单号或别的平台的文件不会归进来）",
    askTitle: "说明里还缺：",
    askSave: "填入",
    askBlocked: "说明里还缺“$1”：请先在下面填写，再复制",
    explanationCut: "说明超过平台字数上限，已截短",
    pack: "打包导出",
    packZip: "打包为 zip",
    packing: "正在打包导出…",
    packed: "已导出到：$1",
    duplicates: "放进收件箱的重复文件（已移到 .重复）：",
  };
  const EN = {
    packetReady: "Ready: $1 file(s) for the upload box",
    packetConvert: " ($1 converted to a format the platform takes first; originals kept)",
    packetNotReady: "Not ready yet: ",
    confirmTitle: "Check this evidence before submitting",
    confirmFinal: "This platform takes one submission only: nothing can be added or changed afterwards.",
    confirmMissing: "Missing: ",
    confirmCautions: "Cautions: ",
    confirmProblems: "Cannot go into the upload box: ",
    confirmAttach: "Confirm, put into the upload box",
    confirmCancel: "Not yet",
    convertedFrom: "converted from $1",
    preparing: "Preparing the files (converting to JPEG where needed)…",
    attachedPacket: "$1 file(s) placed in the page's upload box: check them and press the platform's submit button.",
    assignTo: "File as…",
    assigned: "Filed as: $1",
    dropHere: "Drag onto an item to file it",
    offerAccept: "File them to this case",
    offerDecline: "No",
    offerAccepted: "$1 file(s) filed to this case",
    offerDeclined: "The files stay in the inbox; this case will not ask again",
    offerNone: "No inbox file can be filed to this order (files naming another order or platform never are)",
    askTitle: "The explanation still needs: ",
    askSave: "Fill in",
    askBlocked: "The explanation still needs “$1”: fill it in below, then copy",
    explanationCut: "The explanation was cut to the platform's limit",
    pack: "Export packet",
    packZip: "Export as zip",
    packing: "Exporting…",
    packed: "Exported to: $1",
    duplicates: "Duplicates set aside (moved to .重复): ",
  };

  function say(key, subs) {
    const lang = (chrome.i18n && chrome.i18n.getUILanguage ? chrome.i18n.getUILanguage() : "zh-CN").toLowerCase();
    let text = (lang.startsWith("zh") ? ZH : EN)[key] || ZH[key] || key;
    (subs || []).forEach((s, i) => { text = text.replace(`$${i + 1}`, String(s)); });
    return text;
  }

  const state = { offerCase: null, offer: null, dialog: null, busy: false };

  function packetOf(view, index) {
    return ((view && view.packets) || []).find((p) => p.option === index) || null;
  }

  // -- options: can the files go in? ----------------------------------------------------------------
  function option(panel, box, index) {
    const packet = packetOf(panel.view, index);
    if (!packet || !packet.complete) return;
    const lines = [];
    if (packet.ready) {
      const converting = packet.files.filter((f) => !f.ready).length;
      lines.push(h("p", { text: say("packetReady", [packet.files.length]) + (converting ? say("packetConvert", [converting]) : "") }));
    } else {
      lines.push(h("p", { text: say("packetNotReady") }));
    }
    for (const p of packet.problems || []) lines.push(h("p", { className: "item-warn", dataset: { code: p.code }, text: `⚠ ${p.message}` }));
    for (const n of packet.notes || []) lines.push(h("p", { className: "muted", dataset: { code: n.code }, text: `ℹ ${n.message}` }));
    box.append(h("div", { className: "packet", attrs: { "data-role": "packet", "data-ready": String(Boolean(packet.ready)) } }, lines));
  }

  // -- attaching, with the confirm step on a one-shot platform -------------------------------------
  async function attach(panel, index) {
    if (state.busy) return;
    state.busy = true;
    panel.status(say("preparing"), "");
    try {
      const res = await panel.handlers.act("packet", { option: index });
      if (!res.ok) {
        panel.status(res.error, "error");
        return;
      }
      const prepared = res.data;
      if (prepared.single_submission) {
        state.dialog = { index, prepared };
        panel.status("", "");
        afterRender(panel, panel.view);
        return;
      }
      await put(panel, index);
    } finally {
      state.busy = false;
    }
  }

  async function put(panel, index) {
    const res = await panel.handlers.act("attachPacket", { option: index });
    if (!res.ok) {
      panel.status(res.error, "error");
      return;
    }
    const problems = res.data.problems || [];
    panel.status(say("attachedPacket", [res.data.count]) + (problems.length ? ` ⚠ ${problems.join("；")}` : ""), problems.length ? "error" : "ok");
  }

  function dialogEl(panel) {
    const { index, prepared } = state.dialog;
    const list = h("div", { className: "files", attrs: { "data-role": "packet-files" } });
    for (const entry of prepared.entries) {
      const thumb = h("img", { attrs: { alt: "" } });
      const ev = { id: entry.evidence_id, filename: entry.filename, url: entry.url };
      panel.loadThumb(ev, thumb);
      list.append(h("div", { className: "file packet-file", attrs: { "data-role": "packet-file", "data-evidence-id": String(entry.evidence_id) } },
        thumb,
        h("span", { text: entry.filename }),
        h("small", { className: "muted", text: entry.proves }),
        entry.converted_from ? h("small", { className: "muted", text: say("convertedFrom", [entry.converted_from]) }) : null));
    }
    const section = (role, title, items, cls) => (items && items.length
      ? h("div", { className: cls || "", attrs: { "data-role": role } }, h("b", { text: title }), h("ul", {}, items.map((x) => h("li", { text: x }))))
      : null);
    return h("div", { className: "confirm-packet warnings", attrs: { "data-role": "confirm-packet", role: "dialog", "aria-label": say("confirmTitle") } },
      h("b", { text: say("confirmTitle") }),
      h("p", { className: "danger", attrs: { "data-role": "final-note" }, text: prepared.final_note || say("confirmFinal") }),
      list,
      section("packet-missing", say("confirmMissing"), prepared.missing),
      section("packet-problems", say("confirmProblems"), prepared.errors, "danger"),
      section("packet-cautions", say("confirmCautions"), prepared.cautions),
      h("div", { className: "actions" },
        h("button", { className: "btn primary", text: say("confirmAttach"), attrs: { type: "button", "data-role": "confirm-attach", disabled: !prepared.entries.length },
          on: { click: async () => { state.dialog = null; afterRender(panel, panel.view); await put(panel, index); } } }),
        h("button", { className: "btn", text: say("confirmCancel"), attrs: { type: "button", "data-role": "cancel-attach" },
          on: { click: () => { state.dialog = null; afterRender(panel, panel.view); } } })));
  }

  // -- unsorted files: 「归为…」 and drag onto an item ---------------------------------------------
  function fileKinds(view) {
    const seen = new Map();
    for (const o of (view.checklist && view.checklist.options) || []) {
      for (const item of o.items) if (item.form === "file" && !seen.has(item.kind)) seen.set(item.kind, item.label);
    }
    return seen;
  }

  function unsortedFile(panel, ev) {
    const el = panel.renderFile(ev);
    const kinds = fileKinds(panel.view);
    const menu = kinds.size ? h("select", {
      attrs: { "data-role": "assign", "data-evidence-id": String(ev.id), "aria-label": say("assignTo"), title: say("dropHere") },
      on: { change: (e) => { if (e.target.value) assign(panel, ev.id, e.target.value); } },
    }, h("option", { text: say("assignTo"), attrs: { value: "" } }), [...kinds].map(([id, label]) => h("option", { text: label, attrs: { value: id } }))) : null;
    // The wrapper is what is dragged: a <button> does not start a drag in every browser.
    const wrap = h("span", { className: "unsorted-file", attrs: { "data-role": "unsorted-file", "data-evidence-id": String(ev.id), draggable: "true", title: say("dropHere") } }, el, menu);
    wrap.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData(EVIDENCE_TYPE, String(ev.id));
      e.dataTransfer.setData("text/plain", ev.filename || "");
      e.dataTransfer.effectAllowed = "move";
    });
    return wrap;
  }

  async function assign(panel, fileId, kind) {
    const res = await panel.handlers.act("assignKind", { fileId, kind });
    const label = fileKinds(panel.view).get(kind) || kind;
    panel.status(res.ok ? say("assigned", [label]) : res.error, res.ok ? "ok" : "error");
  }

  function item(panel, el, it) {
    if (it.form !== "file") return;
    const ours = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes(EVIDENCE_TYPE);
    el.addEventListener("dragover", (e) => {
      if (!ours(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      el.classList.add("drop");
    });
    el.addEventListener("dragleave", () => el.classList.remove("drop"));
    el.addEventListener("drop", (e) => {
      if (!ours(e)) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      el.classList.remove("drop");
      const id = e.dataTransfer.getData(EVIDENCE_TYPE);
      if (id) assign(panel, Number(id), it.kind);
    }, true);
  }

  // -- the explanation: blanks asked for, never copied ------------------------------------------
  function explanationBox(panel, view) {
    const detail = view.checklist && view.checklist.explanation_detail;
    if (!detail) return null;
    const parts = [];
    if (detail.warning) parts.push(h("p", { className: "item-warn", attrs: { "data-role": "explanation-warning" }, text: `⚠ ${detail.warning}` }));
    for (const blank of detail.missing || []) {
      if (blank.key !== "tracking_number") {
        parts.push(h("p", { className: "item-warn", text: `${say("askTitle")}${blank.label}` }));
        continue;
      }
      const input = h("input", { attrs: { type: "text", "data-role": "tracking-number", maxlength: "64", placeholder: blank.label, "aria-label": blank.label } });
      const form = h("form", { className: "text-form", attrs: { "data-role": "explanation-ask" } },
        h("span", { text: `${say("askTitle")}${blank.label}` }), input, h("button", { className: "btn", text: say("askSave"), attrs: { type: "submit" } }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        const res = await panel.handlers.act("tracking", { value });
        if (!res.ok) panel.status(res.error, "error");
      });
      parts.push(form);
    }
    return parts.length ? h("div", { attrs: { "data-role": "explanation" } }, parts) : null;
  }

  /** 「复制说明」: true when the text may be copied; otherwise ask for what is missing. */
  function mayCopy(panel) {
    const detail = panel.view && panel.view.checklist && panel.view.checklist.explanation_detail;
    if (!detail || detail.ready) return true;
    panel.status(say("askBlocked", [detail.missing.map((b) => b.label).join("、")]), "error");
    const input = panel.content.querySelector('[data-role="tracking-number"]');
    if (input) input.focus();
    return false;
  }

  // -- actions row: export, duplicates ------------------------------------------------------------
  function actions(panel, view) {
    const out = [];
    const pack = async (zip) => {
      panel.status(say("packing"), "");
      const res = await panel.handlers.act("pack", { zip });
      panel.status(res.ok ? say("packed", [res.data.path]) : res.error, res.ok ? "ok" : "error");
      if (res.ok) panel.content.dataset.packed = res.data.path;
    };
    out.push(h("button", { className: "btn", text: say("pack"), attrs: { type: "button", "data-role": "pack" }, on: { click: () => pack(false) } }));
    out.push(h("button", { className: "btn", text: say("packZip"), attrs: { type: "button", "data-role": "pack-zip" }, on: { click: () => pack(true) } }));
    return out;
  }

  function notes(view) {
    const dupes = view.duplicates || [];
    if (!dupes.length) return null;
    return h("div", { className: "footnote", attrs: { "data-role": "duplicates" } },
      h("span", { text: say("duplicates") }), h("ul", {}, dupes.slice(0, 10).map((d) => h("li", { attrs: { "data-role": "duplicate" }, text: d.message }))));
  }

  // -- the inbox offer ----------------------------------------------------------------------------
  async function loadOffer(panel, force) {
    const view = panel.view;
    if (!view) return;
    if (!force && state.offerCase === view.id) return;
    state.offerCase = view.id;
    const res = await panel.handlers.act("offer");
    if (!panel.view || panel.view.id !== view.id) return;
    state.offer = res.ok && res.data.files && res.data.files.length ? res.data : null;
    afterRender(panel, panel.view);
  }

  function offerEl(panel) {
    const offer = state.offer;
    const answer = async (accept) => {
      const paths = offer.files.map((f) => f.path);
      state.offer = null;
      afterRender(panel, panel.view);
      const res = await panel.handlers.act("offerAnswer", { paths, accept });
      if (!res.ok) panel.status(res.error, "error");
      else panel.status(accept ? say("offerAccepted", [res.data.accepted.length]) : say("offerDeclined"), "ok");
    };
    return h("div", { className: "warnings", attrs: { "data-role": "inbox-offer", role: "dialog" } },
      h("b", { text: offer.question }),
      h("ul", {}, offer.files.map((f) => h("li", { attrs: { "data-role": "offer-file" }, text: f.name }))),
      h("div", { className: "actions" },
        h("button", { className: "btn primary", text: say("offerAccept"), attrs: { type: "button", "data-role": "offer-accept" }, on: { click: () => answer(true) } }),
        h("button", { className: "btn", text: say("offerDecline"), attrs: { type: "button", "data-role": "offer-decline" }, on: { click: () => answer(false) } })));
  }

  /** 「把这些文件归到本订单」: the seller's answer, for the files the offer may hold (same platform, no order in the name). */
  async function claim(panel) {
    const res = await panel.handlers.act("offer");
    if (!res.ok) {
      panel.status(res.error, "error");
      return;
    }
    const files = res.data.files || [];
    if (!files.length) {
      panel.status(say("offerNone"), "error");
      return;
    }
    state.offer = null;
    const done = await panel.handlers.act("offerAnswer", { paths: files.map((f) => f.path), accept: true });
    panel.status(done.ok ? say("offerAccepted", [done.data.accepted.length]) : done.error, done.ok ? "ok" : "error");
  }

  /** After each render of the case: the offer and the confirm step stay on top of the content. */
  function afterRender(panel, view) {
    if (!view || !panel.content) return;
    for (const el of panel.content.querySelectorAll('[data-role="submit-layer"]')) el.remove();
    const layer = h("div", { attrs: { "data-role": "submit-layer" } },
      state.dialog && state.dialog.prepared.case_id === view.id ? dialogEl(panel) : null,
      state.offer && state.offer.case_id === view.id ? offerEl(panel) : null);
    if (layer.childElementCount) panel.content.prepend(layer);
    loadOffer(panel, false);
  }

  ns.submitUI = { option, attach, item, unsortedFile, explanationBox, mayCopy, actions, notes, afterRender, loadOffer, claim };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
