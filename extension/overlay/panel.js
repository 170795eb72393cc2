/* The overlay's panel inside its frame (overlay/overlay.html, the extension's own origin): the
 * checklist, the countdown, the evidence files with their thumbnails, and every button.
 *
 * Every string that may come from the page or the helper is set with textContent or as an attribute
 * value: nothing is ever parsed as HTML. The panel knows nothing of where the frame sits in the
 * page: the content script moves it (its grip lies over this panel's head) and sizes it to the
 * height the panel reports.
 */
(function (ns) {
  "use strict";

  const t = ns.t;
  const time = ns.time;
  const cv = ns.caseview;

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

  function detailsKey(el) {
    const item = el.closest("[data-kind]");
    return `${el.dataset.role}:${item ? item.dataset.kind : ""}`;
  }

  /** 1天23小时 / 5小时3分 / 12分: a rough time left, for an estimate. */
  function approx(ms) {
    const total = Math.floor(Math.abs(ms) / 60000);
    const d = Math.floor(total / 1440);
    const hh = Math.floor((total % 1440) / 60);
    const m = total % 60;
    if (d > 0) return `${d}${t("unitDay")}${hh}${t("unitHour")}`;
    if (hh > 0) return `${hh}${t("unitHour")}${m}${t("unitMinute")}`;
    return `${m}${t("unitMinute")}`;
  }

  class Panel {
    /** handlers: scenario, confirm, upload, addText, attach, copy, openFile, thumb, retry, options,
     * claimPending, size(height, headHeight), collapse(collapsed), deadline(iso|null),
     * caseAction(action), chooseOrder(orderId), marketplace("tmall"|"taobao") */
    constructor(handlers) {
      this.handlers = handlers;
      this.root = document.documentElement;
      this.view = null;
      this.platform = null;
      this.timer = null;
      this.thumbs = new Map();
      this.statusTimer = null;
      this.openFields = new Set(); // kinds whose field checks the seller unfolded
      this.offline = false; // showing the last view of a case while the helper is away
      this.build();
    }

    build() {
      this.countdown = h("span", { className: "countdown", attrs: { "data-role": "countdown", role: "timer", "aria-live": "off" } });
      this.titleEl = h("div", { className: "title" });
      this.collapseBtn = h("button", {
        className: "icon-btn",
        attrs: { type: "button", "data-role": "collapse", title: t("collapse"), "aria-label": t("collapse") },
        on: { click: (e) => { e.stopPropagation(); this.handlers.collapse(this.root.dataset.collapsed !== "true"); } },
      });
      this.head = h("div", { className: "head", attrs: { "data-role": "handle" } }, h("div", { className: "logo", text: "证" }), this.titleEl, this.countdown, this.collapseBtn);
      this.content = h("div", { className: "content" });
      this.body = h("div", { className: "body" }, this.content);
      this.statusEl = h("div", { className: "status", attrs: { role: "status", "data-role": "status" } });
      this.panel = h("div", { className: "panel", attrs: { role: "complementary", "aria-label": t("extName") } }, this.head, this.body, this.statusEl);
      document.body.append(this.panel);
      this.setCollapsed(false);
      // The content script sizes the frame to the panel, so the page around it stays clickable.
      const report = () => this.handlers.size(this.naturalHeight(), this.head.offsetHeight);
      const observer = new ResizeObserver(report);
      for (const el of [this.head, this.content, this.statusEl]) observer.observe(el);
    }

    naturalHeight() {
      const border = 2;
      const collapsed = this.root.dataset.collapsed === "true";
      const body = collapsed ? 0 : this.content.offsetHeight;
      const status = collapsed ? 0 : this.statusEl.offsetHeight;
      return Math.ceil(this.head.offsetHeight + body + status + border);
    }

    setCollapsed(collapsed) {
      this.root.dataset.collapsed = String(Boolean(collapsed));
      this.collapseBtn.textContent = collapsed ? "▢" : "–";
      const label = collapsed ? t("expand") : t("collapse");
      this.collapseBtn.title = label;
      this.collapseBtn.setAttribute("aria-label", label);
      this.collapseBtn.setAttribute("aria-expanded", String(!collapsed));
      this.handlers.size(this.naturalHeight(), this.head.offsetHeight);
    }

    setTitle(main, small) {
      this.titleEl.replaceChildren(main, small ? h("small", { text: small }) : "");
    }

    // -- states ---------------------------------------------------------------------------------
    showLoading(platformLabel) {
      this.view = null;
      this.root.dataset.state = "loading";
      this.stopTicking();
      this.tick();
      this.setTitle(t("extName"), platformLabel || "");
      this.content.replaceChildren(h("p", { className: "muted", text: t("loading") }));
    }

    /** Helper not running / not paired / wrong version / other: say so and how to fix it. */
    showProblem(state, message, platformLabel) {
      this.view = null;
      this.root.dataset.state = state;
      this.root.dataset.scenario = "";
      this.stopTicking();
      this.tick();
      this.setTitle(t("extName"), platformLabel || "");
      this.content.replaceChildren(this.problemBox(state, message));
    }

    /** Above a cached view: why it is not live, and how to fix that. */
    prependProblem(state, message) {
      this.content.prepend(this.problemBox(state, message));
    }

    problemBox(state, message) {
      const box = h("div", { className: "problem", attrs: { "data-role": "problem" } });
      const actions = h("div", { className: "actions" });
      if (state === "offline") {
        box.append(
          h("h3", { text: t("offlineTitle") }),
          h("p", { text: t("offlineHow") }),
          h("p", { className: "muted", text: t("offlineAuto") })
        );
        actions.append(h("button", { className: "btn primary", text: t("retry"), attrs: { type: "button", "data-role": "retry" }, on: { click: () => this.handlers.retry() } }));
      } else if (state === "unpaired") {
        box.append(h("h3", { text: t("unpairedTitle") }), h("p", { text: t("unpairedHow") }));
        actions.append(h("button", { className: "btn primary", text: t("openOptions"), attrs: { type: "button", "data-role": "options" }, on: { click: () => this.handlers.options() } }));
      } else if (state === "foreign") {
        box.append(h("h3", { text: t("foreignTitle") }), h("p", { text: t("foreignHow") }));
        actions.append(h("button", { className: "btn primary", text: t("openOptions"), attrs: { type: "button" }, on: { click: () => this.handlers.options() } }));
      } else {
        box.append(h("h3", { text: state === "version" ? t("versionTitle") : t("errorTitle") }), h("p", { text: message || "" }));
        actions.append(h("button", { className: "btn", text: t("retry"), attrs: { type: "button", "data-role": "retry" }, on: { click: () => this.handlers.retry() } }));
      }
      box.append(actions);
      return box;
    }

    // -- the case -------------------------------------------------------------------------------
    showCase(view, platform) {
      const sameCase = this.view && this.view.id === view.id;
      if (!sameCase) this.openFields.clear();
      const scrollTop = sameCase ? this.body.scrollTop : 0;
      const typed = sameCase ? this.typedText() : null;
      const unfolded = sameCase ? this.unfolded() : null;
      this.view = view;
      this.platform = platform || {};
      this.root.dataset.state = this.offline ? "offline" : "case";
      this.root.dataset.offline = String(Boolean(this.offline));
      this.root.dataset.scenario = view.scenario || "";
      this.root.dataset.caseId = String(view.id);
      this.root.dataset.orderId = view.order_id || "";
      this.setTitle(t("extName"), view.platform_label || "");

      const content = [];
      if (this.offline) content.push(h("div", { className: "warnings danger", attrs: { "data-role": "offline", role: "alert" }, text: t("offlineBanner") }));
      content.push(this.renderScenario(view));
      const market = this.renderMarketplace(view);
      if (market) content.push(market);
      const maybe = this.renderMaybe(view);
      if (maybe) content.push(maybe);
      content.push(
        h("div", { className: "ids", attrs: { "data-role": "ids" } },
          h("span", {}, `${t("orderId")} `, h("b", { attrs: { "data-role": "order-id" }, text: view.order_id })),
          view.aftersale_id ? h("span", {}, `${t("aftersaleId")} `, h("b", { attrs: { "data-role": "aftersale-id" }, text: view.aftersale_id })) : null,
          view.deadline_at ? h("span", {}, `${t("deadlineAt")} `, h("b", { attrs: { "data-role": "deadline-text" }, text: time.formatDeadline(view.deadline_at) })) : null
        )
      );
      content.push(this.renderDeadline(view));
      const caseStatus = this.renderCaseStatus(view);
      if (caseStatus) content.push(caseStatus);
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
        if (ns.submitUI) content.push(ns.submitUI.explanationBox(this, view));
        content.push(
          h("div", { className: "actions" },
            h("button", { className: "btn primary", text: t("copyExplanation"), attrs: { type: "button", "data-role": "copy" }, on: { click: () => this.handlers.copy(checklist.explanation || "") } }),
            ns.submitUI ? ns.submitUI.actions(this, view) : null
          )
        );
        if (checklist.on_timeout) content.push(h("div", { className: "footnote", text: `${t("onTimeout")}${checklist.on_timeout}` }));
        if (checklist.common_practice) content.push(h("div", { className: "footnote", text: t("commonPractice") }));
      } else {
        content.push(h("p", { className: "warnings", attrs: { "data-role": "no-scenario" }, text: t("chooseScenario") }));
      }
      const extra = this.renderFolderNotes(view);
      if (extra) content.push(extra);
      if (ns.submitUI) content.push(ns.submitUI.notes(view));
      content.push(this.renderCaseActions(view));
      this.content.replaceChildren(...content.filter(Boolean));
      if (this.offline) for (const el of this.content.querySelectorAll("button, input, select")) el.disabled = true;
      if (sameCase) {
        this.body.scrollTop = scrollTop;
        this.restoreTyped(typed);
        this.restoreUnfolded(unfolded);
      }
      this.startTicking();
      if (ns.submitUI) ns.submitUI.afterRender(this, view);
    }

    /** Where the deadline came from; an estimate says so in words and asks for the platform's time;
     * two disagreeing sources say the earlier is used. Degrades to nothing extra when the helper
     * sends no source. */
    renderDeadline(view) {
      const source = view.deadline_source || "";
      const box = h("div", { className: source === "estimate" ? "deadline estimate" : "deadline", attrs: { "data-role": "deadline", "data-source": source } });
      if (!view.deadline_at && !source) return box;
      if (source) {
        const label = { page: "deadlineSourcePage", request: "deadlineSourceRequest", seller: "deadlineSourceSeller", estimate: "deadlineSourceEstimate" }[source];
        if (label) box.append(h("span", { className: source === "estimate" ? "tag estimate" : source === "seller" ? "tag seller" : "tag", attrs: { "data-role": "deadline-source" }, text: t(label) }));
      }
      if (source === "estimate" && view.deadline_at) {
        this.estimateEl = h("p", { className: "estimate-note", attrs: { "data-role": "deadline-estimate" } });
        box.append(this.estimateEl);
        this.renderEstimate();
      } else this.estimateEl = null;
      const conflict = view.deadline_conflict;
      if (conflict) {
        const text = conflict.message || t("deadlineConflictUsed", [time.formatDeadline(view.deadline_at)]);
        box.append(h("p", { className: "warnings", attrs: { "data-role": "deadline-conflict", "data-used": conflict.used || "" }, text: `⚠ ${text}` }));
      }
      const form = this.renderDeadlineForm(view);
      if (source === "estimate" || !view.deadline_at) box.append(form);
      else box.append(h("details", { attrs: { "data-role": "deadline-correct" } }, h("summary", { text: t("deadlineCorrect") }), form));
      return box;
    }

    renderEstimate() {
      const view = this.view;
      if (!this.estimateEl || !view || !view.deadline_at) return;
      const ms = time.remainingMs(view.deadline_at);
      if (ms === null) return;
      const note = t("deadlineEstimateText", [approx(ms), view.deadline_note || t("deadlineEstimateDefaultNote")]);
      const text = ms > 0 ? note : `${t("overdue")} ${note}`;
      if (this.estimateEl.textContent !== text) this.estimateEl.textContent = text;
    }

    renderDeadlineForm(view) {
      const input = h("input", { attrs: { type: "text", "data-role": "deadline-input", placeholder: t("deadlineTypeHint"), maxlength: "40", "aria-label": t("deadlineTypeLabel") } });
      const form = h("form", { className: "text-form deadline-form", attrs: { "data-role": "deadline-form" } },
        input, h("button", { className: "btn", text: t("deadlineTypeSave"), attrs: { type: "submit", "data-role": "deadline-save" } }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const got = ns.deadlineInput.parseTypedDeadline(input.value);
        if (got.error) {
          this.status(t(got.error === "out_of_range" ? "deadlineOutOfRange" : "deadlineUnreadable"), "error");
          input.focus();
          return;
        }
        this.handlers.deadline(got.at);
      });
      const wrap = h("div", { className: "deadline-type" }, h("label", { className: "muted", text: t("deadlineTypeLabel") }), form);
      if (view.deadline_source === "seller") {
        wrap.append(h("button", { className: "btn link", text: t("deadlineWithdraw"), attrs: { type: "button", "data-role": "deadline-withdraw" }, on: { click: () => this.handlers.deadline(null) } }));
      }
      return wrap;
    }

    /** The seller's word on where the case stands (the page may say it too). */
    renderCaseStatus(view) {
      const key = view.status === "submitted" ? "statusSubmitted"
        : view.status === "closed" ? (view.outcome === "won" ? "statusClosedWon" : view.outcome === "lost" ? "statusClosedLost" : "statusClosed") : null;
      return key ? h("p", { className: "case-status", attrs: { "data-role": "case-status", "data-status": view.status, "data-outcome": view.outcome || "" }, text: t(key) }) : null;
    }

    renderCaseActions(view) {
      const button = (action, label, primary) => h("button", {
        className: primary ? "btn primary" : "btn",
        text: t(label),
        attrs: { type: "button", "data-role": "case-action", "data-action": action },
        on: { click: () => this.handlers.caseAction(action) },
      });
      const row = h("div", { className: "actions case-actions", attrs: { "data-role": "case-actions" } });
      if (view.status === "open" || !view.status) row.append(button("submitted", "markSubmitted", false));
      if (view.status !== "closed") row.append(button("won", "closedWon", false), button("lost", "closedLost", false));
      if (view.status && view.status !== "open") row.append(button("reopen", "reopenCase", false));
      return row;
    }

    /** On a Taobao host (refund2, 千牛) a Tmall shop's case looks like a 淘宝 one: a quiet line lets the
     * seller say so once for the shop; once said, the way back. Nothing where the page said 天猫. */
    renderMarketplace(view) {
      const market = this.market;
      if (!market) return null;
      const line = (text, action, label) => h("p", { className: "muted market", attrs: { "data-role": "marketplace", "data-chosen": market.chosen || "" } },
        h("span", { text: `${t(text)} ` }),
        h("button", { className: "btn link", text: t(label), attrs: { type: "button", "data-role": "marketplace-choice", "data-marketplace": action }, on: { click: () => this.handlers.marketplace(action) } }));
      if (view.platform === "taobao") return line("marketplaceAsk", "tmall", "marketplaceTmall");
      if (view.platform === "tmall" && market.chosen === "tmall") return line("marketplaceChosen", "taobao", "marketplaceBack");
      return null;
    }

    /** Recognition abstained (or was unsure): the likeliest scenarios as guesses, one tap each, in the
     * warning colour with the helper's reason, so a guess never reads as a decided scenario. */
    renderMaybe(view) {
      const rec = view.recognition;
      const candidates = rec && Array.isArray(rec.candidates) ? rec.candidates.filter((c) => c && c.scenario && c.scenario !== view.scenario) : [];
      const abstained = !view.scenario || (rec && (rec.scenario === null || Boolean(rec.abstained)));
      if (!candidates.length || !abstained || view.scenario_source === "seller") return null;
      const note = rec && typeof rec.note === "string" && rec.note ? rec.note : t("maybeUnsure");
      return h("div", { className: "maybe guess", attrs: { "data-role": "maybe", "data-abstained": (rec && rec.abstained) || "" } },
        h("p", { className: "maybe-note", attrs: { "data-role": "maybe-note" }, text: note }),
        h("span", { className: "maybe-label", text: t("maybeScenario") }),
        candidates.slice(0, 3).map((c) => h("button", {
          className: "btn guess",
          text: c.label || c.scenario,
          attrs: { type: "button", "data-role": "scenario-choice", "data-scenario": c.scenario, title: (c.words || []).join("、") },
          on: { click: () => this.handlers.scenario(c.scenario) },
        })));
    }

    /** The page names two orders and nothing prefers one: which is this case? */
    showChooseOrder(candidates, platformLabel) {
      this.view = null;
      this.root.dataset.state = "choose-order";
      this.root.dataset.scenario = "";
      this.stopTicking();
      this.tick();
      this.setTitle(t("extName"), platformLabel || "");
      this.content.replaceChildren(h("div", { className: "problem", attrs: { "data-role": "choose-order" } },
        h("h3", { text: t("chooseOrderTitle") }),
        h("div", { className: "actions" }, candidates.map((id) => h("button", {
          className: "btn primary",
          text: id,
          attrs: { type: "button", "data-role": "order-choice", "data-order-id": id },
          on: { click: () => this.handlers.chooseOrder(id) },
        }))),
        h("p", { className: "muted", text: t("chooseOrderHint") })));
    }

    /** Lists the seller unfolded (pending files, 待分类, how to obtain) stay open across a live update. */
    unfolded() {
      return new Set([...this.content.querySelectorAll("details[open][data-role]")].map(detailsKey));
    }

    restoreUnfolded(keys) {
      for (const el of this.content.querySelectorAll("details[data-role]")) if (keys.has(detailsKey(el))) el.open = true;
    }

    /** What the seller is typing survives a live update of the same case (a re-render). */
    typedText() {
      const typed = new Map();
      for (const input of this.content.querySelectorAll('input[data-role="text-value"]')) {
        const kind = input.closest("[data-kind]").dataset.kind;
        if (input.value && !typed.has(kind)) typed.set(kind, { value: input.value, focused: input === document.activeElement });
      }
      return typed;
    }

    restoreTyped(typed) {
      for (const input of this.content.querySelectorAll('input[data-role="text-value"]')) {
        const kind = input.closest("[data-kind]").dataset.kind;
        const was = typed.get(kind);
        if (!was || input.value) continue;
        input.value = was.value;
        if (was.focused) input.focus();
      }
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
      if (ns.submitUI) ns.submitUI.option(this, box, index);
      return box;
    }

    uploadLimit() {
      const upload = cv.uploadOf(this.view, this.platform);
      return upload && upload.max_files ? upload.max_files : 1;
    }

    filesOf(item) {
      return cv.filesOf(this.view, item);
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
          const auto = f.confirmed && (this.view.auto_checked || []).some((a) => a.kind === item.kind && a.field === f.id);
          fields.append(h("label", {}, box, h("span", { text: f.label }),
            auto ? h("span", { className: "auto-check", text: t("autoChecked"), attrs: { "data-role": "auto-checked", title: t("autoCheckedHint") } }) : null));
        }
        el.append(fields);
      }
      if (item.state !== "done" && item.how_to_obtain && item.how_to_obtain.length && !rejectedSection) {
        el.append(h("details", { attrs: { "data-role": "how" } }, h("summary", { text: t("howToObtain") }), h("ol", {}, item.how_to_obtain.map((s) => h("li", { text: s })))));
      }
      if (!rejectedSection) {
        if (item.form === "text") el.append(this.renderTextForm(item));
        else this.enableDrop(el, item);
        if (ns.submitUI) ns.submitUI.item(this, el, item);
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
      if (ev.filename && cv.IMAGE_NAME.test(ev.filename) && ev.url) {
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
        if (!value) return;
        Promise.resolve(this.handlers.addText(item.kind, value)).then((saved) => {
          if (!saved) return;
          for (const el of this.content.querySelectorAll(`[data-kind="${CSS.escape(item.kind)}"] input[data-role="text-value"]`)) el.value = "";
        });
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

    /** 「这张像是快递红章证明（单号 SF…）」 with 确认 / 改为…: the helper's reading, the seller's call. */
    renderSuggestion(view, ev) {
      const kinds = [];
      for (const option of (view.checklist && view.checklist.options) || []) {
        for (const item of option.items || []) if (item.form !== "text" && !kinds.some((k) => k.kind === item.kind)) kinds.push({ kind: item.kind, label: item.label });
      }
      const change = h("select", { attrs: { "data-role": "change-kind", "aria-label": t("changeKind") } },
        h("option", { text: t("changeKind"), attrs: { value: "" } }),
        kinds.filter((k) => k.kind !== ev.suggested_kind).map((k) => h("option", { text: k.label, attrs: { value: k.kind } })));
      change.addEventListener("change", () => { if (change.value) this.handlers.setKind(ev, change.value); });
      return h("div", { className: "suggestion", attrs: { "data-role": "suggestion", "data-evidence-id": String(ev.id), "data-kind": ev.suggested_kind } },
        h("span", { text: ev.read.prompt }),
        h("button", { className: "btn", text: t("confirmKind"), attrs: { type: "button", "data-role": "accept-kind" }, on: { click: () => this.handlers.setKind(ev, ev.suggested_kind) } }),
        change);
    }

    renderFolderNotes(view) {
      const notes = [];
      if (view.unsorted && view.unsorted.length) {
        const unsorted = h("details", { attrs: { "data-role": "unsorted" } },
          h("summary", { text: t("unsortedFiles", [String(view.unsorted.length)]) }),
          h("div", { className: "files" }, view.unsorted.map((ev) => (ns.submitUI ? ns.submitUI.unsortedFile(this, ev) : this.renderFile(ev)))),
          view.unsorted.filter((ev) => ev.suggested_kind && ev.read && ev.read.prompt).map((ev) => this.renderSuggestion(view, ev)));
        // A file the helper read and has a guess for: show the guess without a click.
        unsorted.open = view.unsorted.some((ev) => ev.suggested_kind);
        notes.push(unsorted);
      }
      if (view.links && view.links.length) {
        // Links in the order folder: never read, never attached, never counted (helper's evidence/links.py).
        const links = h("details", { attrs: { "data-role": "links" } },
          h("summary", { text: t("linkFiles", [String(view.links.length)]) }),
          h("ul", {}, view.links.slice(0, 20).map((l) => h("li", { attrs: { "data-role": "link" }, text: `${l.name}：${l.reason}` }))));
        links.open = true;
        notes.push(links);
      }
      if (view.pending && view.pending.length) {
        notes.push(h("details", { attrs: { "data-role": "pending" } },
          h("summary", { text: t("pendingFiles", [String(view.pending.length)]) }),
          h("ul", {}, view.pending.slice(0, 20).map((p) => h("li", { text: `${p.path}：${p.reason}` }))),
          h("button", { className: "btn", text: t("claimPending"), attrs: { type: "button", "data-role": "claim-pending", title: t("claimPendingHint") }, on: { click: () => this.handlers.claimPending() } })));
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

    /** The countdown carries the host element's hooks too, so a test or tool inside the frame
     * reads the same state, scenario, order, deadline, level and deadline source. */
    tick() {
      const view = this.view;
      const el = this.countdown;
      el.dataset.state = this.root.dataset.state || "";
      el.dataset.scenario = view ? view.scenario || "" : "";
      el.dataset.orderId = view ? view.order_id || "" : "";
      if (!view || !view.deadline_at) {
        el.textContent = "";
        for (const name of ["data-deadline", "data-level", "data-deadline-source"]) el.removeAttribute(name);
        return;
      }
      const ms = time.remainingMs(view.deadline_at);
      if (ms === null) return;
      const levels = (this.platform && this.platform.levels) || time.DEFAULT_LEVELS;
      const source = view.deadline_source || "";
      const level = time.displayLevel(ms, levels, source, Boolean(view.status && view.status !== "open"));
      el.dataset.deadline = view.deadline_at;
      el.dataset.level = level;
      el.dataset.deadlineSource = source;
      // An estimate is not a clock: no seconds ticking as if the platform had said so.
      const shown = source === "estimate" ? t("deadlineEstimateShort", [approx(ms)]) : time.formatRemaining(ms, t("dayUnit"));
      const text = ms > 0 ? `${t("remaining")} ${shown}` : `${t("overdue")} ${shown}`;
      this.renderEstimate();
      if (el.textContent !== text) el.textContent = text;
      el.title = `${t("deadlineAt")} ${time.formatDeadline(view.deadline_at)}（${t("level_" + level)}）`;
    }
  }

  ns.Panel = Panel;
  ns.dom = { h };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
