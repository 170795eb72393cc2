/* <juzheng-overlay>: the checklist and countdown over the platform's page.
 *
 * An autonomous custom element name with an OPEN shadow root (tests and assistive tools reach in).
 * Content scripts have no custom element registry, so the element stays undefined and is driven
 * from here. Every string that may come from the page or the helper is set with textContent or as
 * an attribute value: nothing is ever parsed as HTML.
 */
(function (ns) {
  "use strict";

  const t = ns.t;
  const time = ns.time;
  const TAG = "juzheng-overlay";
  const WIDTH = 360;
  const MARGIN = 16;
  const IMAGE_NAME = /\.(png|jpe?g|gif|webp|bmp)$/i;
  const SUBMIT_WORDS = /提交|举证|确认|上传凭证|申诉|submit/i;

  /** Build an element: h("div", {className, dataset, attrs, on}, ...children). Strings become text. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    const p = props || {};
    if (p.className) el.className = p.className;
    if (p.text !== undefined && p.text !== null) el.textContent = String(p.text);
    for (const [k, v] of Object.entries(p.dataset || {})) if (v !== undefined && v !== null) el.dataset[k] = String(v);
    for (const [k, v] of Object.entries(p.attrs || {})) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : String(v));
    for (const [k, v] of Object.entries(p.on || {})) el.addEventListener(k, v);
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function intersects(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function overlapArea(a, b) {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const hgt = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && hgt > 0 ? w * hgt : 0;
  }

  /** The page's own submit/upload controls: the overlay must not sit on them by default. */
  function pageControls() {
    const rects = [];
    const controls = document.querySelectorAll('button, input[type="submit"], input[type="button"], input[type="file"], [role="button"], a');
    for (const el of controls) {
      if (el.closest(TAG)) continue;
      const label = el.tagName === "INPUT" && el.type === "file" ? "上传凭证" : (el.value || el.textContent || "").trim().slice(0, 40);
      if (!SUBMIT_WORDS.test(label)) continue;
      let r = el.getBoundingClientRect();
      // A file input is often invisible inside a styled drop area: protect the area instead.
      if (el.tagName === "INPUT" && (r.width === 0 || r.height === 0) && el.parentElement) r = el.parentElement.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) rects.push(r);
    }
    return rects;
  }

  /** Top-right unless that covers a submit button; then the other corners; least overlap wins. */
  function defaultPlace(width, height) {
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = window.innerHeight;
    const w = Math.min(width, vw - 2 * MARGIN);
    const hh = Math.min(height, vh - 2 * MARGIN);
    const top = Math.min(72, Math.max(MARGIN, vh - hh - MARGIN));
    const corners = [
      { left: vw - w - MARGIN, top },
      { left: vw - w - MARGIN, top: vh - hh - MARGIN },
      { left: MARGIN, top: vh - hh - MARGIN },
      { left: MARGIN, top },
    ];
    const controls = pageControls();
    let best = null;
    for (const c of corners) {
      const box = { left: c.left, top: c.top, right: c.left + w, bottom: c.top + hh };
      const cost = controls.reduce((sum, r) => sum + overlapArea(box, r), 0);
      if (cost === 0 && !controls.some((r) => intersects(box, r))) return c;
      if (!best || cost < best.cost) best = { cost, c };
    }
    return best.c;
  }

  class Overlay {
    /** handlers: scenario, confirm, upload, addText, attach, copy, openFile, thumb, retry, options, move */
    constructor(handlers, storageKey) {
      this.handlers = handlers;
      this.storageKey = storageKey;
      this.host = null;
      this.root = null;
      this.view = null;
      this.platform = null;
      this.timer = null;
      this.placed = false;
      this.thumbs = new Map();
      this.statusTimer = null;
      this.openFields = new Set(); // kinds whose field checks the seller unfolded
    }

    mount() {
      if (this.host && this.host.isConnected) return;
      if (!this.host) {
        this.host = document.createElement(TAG);
        try {
          this.root = this.host.attachShadow({ mode: "open" });
        } catch (_) {
          // The page defined <juzheng-overlay> itself and took the shadow root: use a fresh name.
          this.host = document.createElement(TAG + "-" + Math.random().toString(36).slice(2, 8));
          this.root = this.host.attachShadow({ mode: "open" });
        }
        this.root.append(h("style", { text: ns.overlayStyle }));
        this.countdown = h("span", { className: "countdown", attrs: { "data-role": "countdown", role: "timer", "aria-live": "off" } });
        this.titleEl = h("div", { className: "title" });
        this.collapseBtn = h("button", {
          className: "icon-btn",
          attrs: { type: "button", "data-role": "collapse", title: t("collapse"), "aria-label": t("collapse") },
          on: { click: (e) => { e.stopPropagation(); this.setCollapsed(this.host.dataset.collapsed !== "true"); } },
        });
        this.head = h("div", { className: "head", attrs: { "data-role": "handle" } }, h("div", { className: "logo", text: "证" }), this.titleEl, this.countdown, this.collapseBtn);
        this.body = h("div", { className: "body" });
        this.statusEl = h("div", { className: "status", attrs: { role: "status", "data-role": "status" } });
        this.panel = h("div", { className: "panel", attrs: { role: "complementary", "aria-label": t("extName") } }, this.head, this.body, this.statusEl);
        this.root.append(this.panel);
        this.enableDrag();
        this.setCollapsed(false, false);
        this.host.style.left = "-10000px";
        this.host.style.top = "0px";
        window.addEventListener("resize", () => this.clamp(), { passive: true });
      }
      // Outside <body>: single-page apps replace the body and would take the overlay with it.
      document.documentElement.append(this.host);
      this.restorePlace();
    }

    async restorePlace() {
      const saved = await this.handlers.loadPlace();
      if (saved && typeof saved.left === "number" && typeof saved.top === "number") {
        this.setPos(saved.left, saved.top);
        this.placed = true;
      }
      if (saved && typeof saved.collapsed === "boolean") this.setCollapsed(saved.collapsed, false);
      if (!this.placed) this.placeDefault();
    }

    placeDefault() {
      const height = Math.min(window.innerHeight * 0.7, 640);
      const c = defaultPlace(WIDTH, height);
      this.setPos(c.left, c.top);
    }

    setPos(left, top) {
      const vw = document.documentElement.clientWidth || window.innerWidth;
      const vh = window.innerHeight;
      const w = this.panel ? this.panel.offsetWidth || WIDTH : WIDTH;
      const x = Math.max(0, Math.min(left, vw - Math.min(w, vw)));
      const y = Math.max(0, Math.min(top, vh - 40));
      this.host.style.left = `${Math.round(x)}px`;
      this.host.style.top = `${Math.round(y)}px`;
    }

    clamp() {
      if (!this.host) return;
      this.setPos(parseFloat(this.host.style.left) || 0, parseFloat(this.host.style.top) || 0);
    }

    savePlace() {
      this.handlers.savePlace({
        left: parseFloat(this.host.style.left) || 0,
        top: parseFloat(this.host.style.top) || 0,
        collapsed: this.host.dataset.collapsed === "true",
        moved: this.placed,
      });
    }

    enableDrag() {
      let start = null;
      this.head.addEventListener("pointerdown", (e) => {
        if (e.button !== 0 || e.target.closest("button, select, input")) return;
        start = { x: e.clientX, y: e.clientY, left: parseFloat(this.host.style.left) || 0, top: parseFloat(this.host.style.top) || 0 };
        this.head.setPointerCapture(e.pointerId);
        e.preventDefault();
      });
      this.head.addEventListener("pointermove", (e) => {
        if (!start) return;
        this.setPos(start.left + e.clientX - start.x, start.top + e.clientY - start.y);
      });
      const end = (e) => {
        if (!start) return;
        const moved = Math.abs(e.clientX - start.x) + Math.abs(e.clientY - start.y) > 2;
        start = null;
        if (moved) {
          this.placed = true;
          this.savePlace();
        }
      };
      this.head.addEventListener("pointerup", end);
      this.head.addEventListener("pointercancel", end);
    }

    setCollapsed(collapsed, save = true) {
      if (!this.host) return;
      this.host.dataset.collapsed = String(Boolean(collapsed));
      this.collapseBtn.textContent = collapsed ? "▢" : "–";
      const label = collapsed ? t("expand") : t("collapse");
      this.collapseBtn.title = label;
      this.collapseBtn.setAttribute("aria-label", label);
      this.collapseBtn.setAttribute("aria-expanded", String(!collapsed));
      if (save) this.savePlace();
    }

    hide() {
      if (this.host) this.host.hidden = true;
      this.stopTicking();
    }

    destroy() {
      this.stopTicking();
      for (const url of this.thumbs.values()) if (url) URL.revokeObjectURL(url);
      this.thumbs.clear();
      if (this.host) this.host.remove();
      this.host = null;
    }

    setTitle(main, small) {
      this.titleEl.replaceChildren(main, small ? h("small", { text: small }) : "");
    }

    // -- states ---------------------------------------------------------------------------------
    showLoading(platformLabel) {
      this.mount();
      this.host.hidden = false;
      this.host.dataset.state = "loading";
      this.setTitle(t("extName"), platformLabel || "");
      this.body.replaceChildren(h("p", { className: "muted", text: t("loading") }));
    }

    /** Helper not running / not paired / wrong version / other: say so and how to fix it. */
    showProblem(state, message, platformLabel) {
      this.mount();
      this.view = null;
      this.host.hidden = false;
      this.host.dataset.state = state;
      this.host.dataset.scenario = "";
      this.stopTicking();
      this.countdown.textContent = "";
      this.setTitle(t("extName"), platformLabel || "");
      const box = h("div", { className: "problem", attrs: { "data-role": "problem" } });
      const actions = h("div", { className: "actions" });
      if (state === "offline") {
        box.append(
          h("h3", { text: t("offlineTitle") }),
          h("p", { text: t("offlineHow") }),
          h("p", {}, h("code", { text: "scripts/run" }), " · ", h("code", { text: "scripts\\run.ps1" })),
          h("p", { className: "muted", text: t("offlineAuto") })
        );
        actions.append(h("button", { className: "btn primary", text: t("retry"), attrs: { type: "button", "data-role": "retry" }, on: { click: () => this.handlers.retry() } }));
      } else if (state === "unpaired") {
        box.append(h("h3", { text: t("unpairedTitle") }), h("p", { text: t("unpairedHow") }), h("p", {}, h("code", { text: "juzheng pair" })));
        actions.append(h("button", { className: "btn primary", text: t("openOptions"), attrs: { type: "button", "data-role": "options" }, on: { click: () => this.handlers.options() } }));
      } else if (state === "foreign") {
        box.append(h("h3", { text: t("foreignTitle") }), h("p", { text: t("foreignHow") }));
        actions.append(h("button", { className: "btn primary", text: t("openOptions"), attrs: { type: "button" }, on: { click: () => this.handlers.options() } }));
      } else {
        box.append(h("h3", { text: state === "version" ? t("versionTitle") : t("errorTitle") }), h("p", { text: message || "" }));
        actions.append(h("button", { className: "btn", text: t("retry"), attrs: { type: "button", "data-role": "retry" }, on: { click: () => this.handlers.retry() } }));
      }
      box.append(actions);
      this.body.replaceChildren(box);
    }

    // -- the case -------------------------------------------------------------------------------
    showCase(view, platform) {
      this.mount();
      const sameCase = this.view && this.view.id === view.id;
      if (!sameCase) this.openFields.clear();
      const scrollTop = sameCase ? this.body.scrollTop : 0;
      this.view = view;
      this.platform = platform || {};
      this.host.hidden = false;
      this.host.dataset.state = "case";
      this.host.dataset.scenario = view.scenario || "";
      this.host.dataset.caseId = String(view.id);
      this.host.dataset.orderId = view.order_id || "";
      this.setTitle(t("extName"), view.platform_label || "");

      const content = [];
      content.push(this.renderScenario(view));
      content.push(
        h("div", { className: "ids", attrs: { "data-role": "ids" } },
          h("span", {}, `${t("orderId")} `, h("b", { attrs: { "data-role": "order-id" }, text: view.order_id })),
          view.aftersale_id ? h("span", {}, `${t("aftersaleId")} `, h("b", { attrs: { "data-role": "aftersale-id" }, text: view.aftersale_id })) : null,
          view.deadline_at ? h("span", {}, `${t("deadlineAt")} `, h("b", { attrs: { "data-role": "deadline-text" }, text: time.formatDeadline(view.deadline_at) })) : null
        )
      );
      const checklist = view.checklist;
      if (checklist) {
        if (checklist.deadlines && checklist.deadlines.length > 1) content.push(this.renderStages(checklist.deadlines));
        const warnings = this.renderWarnings(checklist);
        if (warnings) content.push(warnings);
        content.push(h("div", { className: "mode", attrs: { "data-role": "mode", "data-mode": checklist.mode }, text: checklist.mode === "all_of" ? t("modeAll") : t("modeAny") }));
        checklist.options.forEach((option, index) => {
          if (index > 0 && checklist.mode !== "all_of") content.push(h("div", { className: "or", text: t("or") }));
          content.push(this.renderOption(option, index));
        });
        if (checklist.rejected && checklist.rejected.length) {
          content.push(h("div", { className: "mode", text: t("rejectedTitle") }));
          const box = h("div", { className: "option", attrs: { "data-role": "rejected" } });
          for (const item of checklist.rejected) box.append(this.renderItem(item, true));
          content.push(box);
        }
        content.push(
          h("div", { className: "actions" },
            h("button", { className: "btn primary", text: t("copyExplanation"), attrs: { type: "button", "data-role": "copy" }, on: { click: () => this.handlers.copy(checklist.explanation || "") } })
          )
        );
        if (checklist.on_timeout) content.push(h("div", { className: "footnote", text: `${t("onTimeout")}${checklist.on_timeout}` }));
        if (checklist.common_practice) content.push(h("div", { className: "footnote", text: t("commonPractice") }));
      } else {
        content.push(h("p", { className: "warnings", attrs: { "data-role": "no-scenario" }, text: t("chooseScenario") }));
      }
      const extra = this.renderFolderNotes(view);
      if (extra) content.push(extra);
      this.body.replaceChildren(...content);
      if (sameCase) this.body.scrollTop = scrollTop;
      this.startTicking();
    }

    renderScenario(view) {
      const select = h("select", {
        attrs: { "data-role": "scenario", "aria-label": t("scenario") },
        on: { change: (e) => { if (e.target.value) this.handlers.scenario(e.target.value); } },
      });
      if (!view.scenario) select.append(h("option", { text: t("chooseScenarioOption"), attrs: { value: "", selected: true } }));
      for (const s of view.scenarios_for_platform || []) {
        const opt = h("option", { text: s.label, attrs: { value: s.id } });
        if (s.id === view.scenario) opt.selected = true;
        select.append(opt);
      }
      const source = view.scenario
        ? h("span", { className: view.scenario_source === "seller" ? "tag seller" : "tag", text: view.scenario_source === "seller" ? t("scenarioBySeller") : t("scenarioDetected") })
        : null;
      return h("div", { className: "row" }, h("span", { className: "muted", text: t("scenario") }), select, source);
    }

    renderStages(deadlines) {
      return h("div", { className: "deadlines", attrs: { "data-role": "stages" } },
        deadlines.map((d) => h("div", {}, h("span", { text: d.label }), h("span", { className: "muted", text: time.formatDeadline(d.deadline_at) })))
      );
    }

    renderWarnings(checklist) {
      const list = checklist.warnings || [];
      if (!list.length) return null;
      const danger = list.some((w) => w.code === "expired" || w.code === "rejected_kind" || w.code === "overdue");
      return h("div", { className: danger ? "warnings danger" : "warnings", attrs: { "data-role": "warnings", role: "alert" } },
        list.map((w) => h("p", { dataset: { code: w.code, kind: w.kind || undefined }, text: `⚠ ${w.message}` }))
      );
    }

    renderOption(option, index) {
      const hasFiles = option.items.some((it) => it.form === "file" && this.filesOf(it).length);
      const attach = h("button", {
        className: "btn",
        text: t("attachToUpload"),
        attrs: { type: "button", "data-role": "attach", disabled: !hasFiles, title: t("attachHint", [String(this.uploadLimit())]) },
        on: { click: () => this.handlers.attach(option) },
      });
      const box = h("div", {
        className: option.complete ? "option complete" : "option",
        attrs: { "data-role": "option", "data-option": String(index), "data-complete": String(Boolean(option.complete)) },
      }, h("div", { className: "option-head" }, h("div", { className: "note", text: option.note || "" }), attach));
      for (const item of option.items) box.append(this.renderItem(item, false));
      return box;
    }

    uploadLimit() {
      const upload = (this.view && this.view.upload) || (this.platform && this.platform.upload);
      return upload && upload.max_files ? upload.max_files : 1;
    }

    /** Evidence records of the folder that count for this item (refs are the store's ids). */
    filesOf(item) {
      const byId = new Map((this.view.evidence || []).map((e) => [String(e.id), e]));
      const refs = (item.evidence || []).map((r) => byId.get(String(r))).filter(Boolean);
      if (refs.length) return refs;
      return (this.view.evidence || []).filter((e) => e.kind === item.kind && item.state !== "missing");
    }

    renderItem(item, rejectedSection) {
      const symbol = item.state === "done" ? "✓" : item.state === "rejected" ? "!" : "✗";
      const el = h("div", {
        className: "item",
        attrs: { "data-kind": item.kind, "data-state": item.state, "data-form": item.form, "data-role": rejectedSection ? "rejected-item" : "item" },
      }, h("div", { className: "item-head" },
        h("span", { className: "state", text: symbol, attrs: { "aria-label": t("state_" + item.state) } }),
        h("span", { className: "label", text: item.label }),
        h("span", { className: "tag", text: t("state_" + item.state) })
      ));
      const files = this.filesOf(item);
      if (files.length) {
        const wrap = h("div", { className: "files" });
        for (const ev of files) wrap.append(this.renderFile(ev));
        el.append(wrap);
      }
      for (const w of item.warnings || []) el.append(h("div", { className: "item-warn", text: `⚠ ${w}` }));
      if (item.fields && item.fields.length && item.state === "done" && !rejectedSection) {
        const done = item.fields.filter((f) => f.confirmed).length;
        const fields = h("details", { className: "fields", attrs: { "data-role": "fields" } },
          h("summary", { text: t("fieldChecks", [String(done), String(item.fields.length)]) }));
        fields.open = this.openFields.has(item.kind) || done === 0;
        fields.addEventListener("toggle", () => {
          if (fields.open) this.openFields.add(item.kind);
          else this.openFields.delete(item.kind);
        });
        for (const f of item.fields) {
          const box = h("input", {
            attrs: { type: "checkbox", "data-field": f.id },
            on: { change: (e) => this.handlers.confirm(item.kind, f.id, e.target.checked) },
          });
          box.checked = Boolean(f.confirmed);
          fields.append(h("label", {}, box, h("span", { text: f.label })));
        }
        el.append(fields);
      }
      if (item.state !== "done" && item.how_to_obtain && item.how_to_obtain.length && !rejectedSection) {
        el.append(h("details", { attrs: { "data-role": "how" } }, h("summary", { text: t("howToObtain") }), h("ol", {}, item.how_to_obtain.map((s) => h("li", { text: s })))));
      }
      if (!rejectedSection) {
        if (item.form === "text") el.append(this.renderTextForm(item));
        else this.enableDrop(el, item);
      }
      return el;
    }

    renderFile(ev) {
      const name = ev.filename || ev.value || "";
      if (!ev.url) {
        // A text kind (举证号): the value itself, nothing to open.
        return h("span", { className: "file text", attrs: { "data-role": "value", "data-evidence-id": String(ev.id) } }, h("span", { text: name }));
      }
      const button = h("button", {
        className: "file",
        attrs: { type: "button", title: t("openFile", [name]), "data-role": "file", "data-evidence-id": String(ev.id) },
        on: { click: () => this.handlers.openFile(ev) },
      });
      if (ev.filename && IMAGE_NAME.test(ev.filename) && ev.url) {
        const img = h("img", { attrs: { alt: "", loading: "lazy" } });
        button.append(img);
        this.loadThumb(ev, img);
      }
      button.append(h("span", { text: name }));
      return button;
    }

    async loadThumb(ev, img) {
      const key = `${ev.id}:${ev.size || ""}:${ev.added_at || ""}`;
      if (!this.thumbs.has(key)) this.thumbs.set(key, this.handlers.thumb(ev).catch(() => null));
      const url = await this.thumbs.get(key);
      if (url) img.src = url;
      else img.remove();
    }

    renderTextForm(item) {
      const input = h("input", { attrs: { type: "text", "data-role": "text-value", placeholder: t("pasteValue", [item.label]), maxlength: "2000" } });
      const form = h("form", { className: "text-form" }, input, h("button", { className: "btn", text: t("save"), attrs: { type: "submit" } }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const value = input.value.trim();
        if (value) this.handlers.addText(item.kind, value);
      });
      return form;
    }

    enableDrop(el, item) {
      const picker = h("input", { attrs: { type: "file", multiple: true, hidden: true, "data-role": "picker" } });
      picker.addEventListener("change", () => {
        if (picker.files.length) this.handlers.upload(item.kind, Array.from(picker.files));
        picker.value = "";
      });
      el.append(
        h("div", { className: "hint" }, t("dropHint"), " ",
          h("button", { className: "btn", text: t("chooseFile"), attrs: { type: "button", "data-role": "choose" }, on: { click: () => picker.click() } })),
        picker
      );
      let depth = 0;
      const isFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
      el.addEventListener("dragenter", (e) => {
        if (!isFiles(e)) return;
        e.preventDefault();
        depth++;
        el.classList.add("drop");
      });
      el.addEventListener("dragover", (e) => {
        if (!isFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      });
      el.addEventListener("dragleave", () => {
        depth = Math.max(0, depth - 1);
        if (!depth) el.classList.remove("drop");
      });
      el.addEventListener("drop", (e) => {
        e.preventDefault();
        e.stopPropagation();
        depth = 0;
        el.classList.remove("drop");
        const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
        if (files.length) this.handlers.upload(item.kind, files);
      });
    }

    renderFolderNotes(view) {
      const notes = [];
      if (view.unsorted && view.unsorted.length) {
        notes.push(h("details", { attrs: { "data-role": "unsorted" } },
          h("summary", { text: t("unsortedFiles", [String(view.unsorted.length)]) }),
          h("div", { className: "files" }, view.unsorted.map((ev) => this.renderFile(ev)))));
      }
      if (view.pending && view.pending.length) {
        notes.push(h("details", { attrs: { "data-role": "pending" } },
          h("summary", { text: t("pendingFiles", [String(view.pending.length)]) }),
          h("ul", {}, view.pending.slice(0, 20).map((p) => h("li", { text: `${p.path}：${p.reason}` })))));
      }
      return notes.length ? h("div", { className: "footnote" }, notes) : null;
    }

    // -- status line ----------------------------------------------------------------------------
    status(message, tone) {
      if (!this.statusEl) return;
      this.statusEl.textContent = message || "";
      this.statusEl.dataset.tone = tone || "";
      clearTimeout(this.statusTimer);
      if (message && tone !== "error") this.statusTimer = setTimeout(() => { this.statusEl.textContent = ""; }, 8000);
    }

    // -- countdown ------------------------------------------------------------------------------
    startTicking() {
      this.tick();
      if (!this.timer) this.timer = setInterval(() => this.tick(), 1000);
    }

    stopTicking() {
      clearInterval(this.timer);
      this.timer = null;
    }

    tick() {
      const view = this.view;
      if (!view || !view.deadline_at) {
        this.countdown.textContent = "";
        this.countdown.removeAttribute("data-deadline");
        this.countdown.removeAttribute("data-level");
        return;
      }
      const ms = time.remainingMs(view.deadline_at);
      if (ms === null) return;
      const levels = (this.platform && this.platform.levels) || time.DEFAULT_LEVELS;
      const level = view.status && view.status !== "open" ? "ok" : time.levelFor(ms, levels);
      this.countdown.dataset.deadline = view.deadline_at;
      this.countdown.dataset.level = level;
      const text = ms > 0 ? `${t("remaining")} ${time.formatRemaining(ms, t("dayUnit"))}` : `${t("overdue")} ${time.formatRemaining(ms, t("dayUnit"))}`;
      if (this.countdown.textContent !== text) this.countdown.textContent = text;
      this.countdown.title = `${t("deadlineAt")} ${time.formatDeadline(view.deadline_at)}（${t("level_" + level)}）`;
    }
  }

  ns.Overlay = Overlay;
  ns.overlayInternals = { h, defaultPlace, pageControls };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
