/* Page adapters applied to the DOM: what an after-sale page says, found by visible labels and text.
 *
 * The adapters are data from the helper's rules (GET /api/rules → platforms[].pages[]); nothing here
 * knows a platform. CSS class names are never used: these back offices hash and change them. A
 * label and its value may sit in one text node (订单编号：…), in sibling elements, in table cells
 * (side by side or a header row above a value row) or in dt/dd; ids are also read from the address.
 */
(function (ns) {
  "use strict";

  const SKIP_TAGS = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA", "SELECT", "OPTION", "SVG", "JUZHENG-OVERLAY"]);
  const BLOCK_TAGS = new Set([
    "P", "DIV", "LI", "TD", "TH", "DD", "DT", "SECTION", "ARTICLE", "BLOCKQUOTE", "TR", "DL", "UL", "OL", "FORM", "BODY",
    "H1", "H2", "H3", "H4", "H5", "H6", "HEADER", "FOOTER", "MAIN", "ASIDE", "NAV", "TABLE",
  ]);
  const SEPARATORS = /^[\s:：\-—|｜]+/;
  const MAX_PAGE_TEXT = 15000;
  const MAX_REQUEST_TEXT = 5000;
  const MAX_VALUE = 600;

  function clean(text) {
    return (text || "").replace(/[\s\u00a0\u3000]+/g, " ").trim();
  }

  /** "*.taobao.com" matches taobao.com and every sub-domain; anything else is an exact host. */
  function hostMatches(host, pattern) {
    host = (host || "").toLowerCase();
    pattern = (pattern || "").toLowerCase();
    if (pattern.startsWith("*.")) {
      const base = pattern.slice(2);
      return host === base || host.endsWith("." + base);
    }
    return host === pattern;
  }

  function safeRegExp(source) {
    try {
      return new RegExp(source);
    } catch (_) {
      return null;
    }
  }

  /** The adapter for this address: the whole host decides; a matching path_hint only breaks ties. */
  function pickAdapter(platforms, loc) {
    let best = null;
    for (const platform of platforms || []) {
      for (const adapter of platform.pages || []) {
        if (!(adapter.hosts || []).some((h) => hostMatches(loc.hostname, h))) continue;
        const hint = adapter.path_hint ? safeRegExp(adapter.path_hint) : null;
        const exact = (adapter.hosts || []).some((h) => !h.startsWith("*.") && hostMatches(loc.hostname, h));
        const score = (hint && hint.test(loc.pathname) ? 2 : 0) + (exact ? 1 : 0);
        if (!best || score > best.score) best = { score, platform, adapter };
      }
    }
    return best ? { platform: best.platform, adapter: best.adapter } : null;
  }

  /**
   * Whether the page must also show the platform's evidence request before it counts. Hosts an
   * adapter names exactly (mms.pinduoduo.com, refund2.taobao.com) count whatever their path, so a
   * renamed path still gets the overlay; a host matched only by a wildcard (*.taobao.com: the
   * buyer's order list too) counts on the adapter's path_hint or with the request on the page.
   */
  function needsRequest(adapter, loc) {
    const hosts = adapter.hosts || [];
    if (hosts.some((h) => !h.startsWith("*.") && hostMatches(loc.hostname, h))) return false;
    const hint = adapter.path_hint ? safeRegExp(adapter.path_hint) : null;
    return !(hint && hint.test(loc.pathname));
  }

  /** Query parameters of the address, including a hash route's own query (#/detail?id=…). */
  function urlParams(loc) {
    const params = new URLSearchParams(loc.search || "");
    const hash = loc.hash || "";
    const q = hash.indexOf("?");
    if (q >= 0) {
      for (const [k, v] of new URLSearchParams(hash.slice(q + 1))) if (!params.has(k)) params.set(k, v);
    }
    return params;
  }

  /** Non-empty text nodes of the page in document order, outside scripts, styles and form fields.
   * A native walk without a JS filter: a filter callback per node costs ~6x more on big pages.
   * Visibility is checked later, only for the few nodes that hold a label. */
  function collectTextNodes(root) {
    const nodes = [];
    if (!root) return nodes;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue;
      if (!value || !value.trim()) continue;
      const parent = node.parentElement;
      if (parent && SKIP_TAGS.has(parent.tagName.toUpperCase())) continue;
      nodes.push(node);
    }
    return nodes;
  }

  /** The text nodes with the whole page's text joined once, so absent labels cost one search. */
  function pageOf(root) {
    const nodes = collectTextNodes(root);
    return { nodes, joined: nodes.map((n) => n.nodeValue).join("\n") };
  }

  function visible(el) {
    if (!el) return false;
    if (el.closest("[hidden], [aria-hidden='true']")) return false;
    if (typeof el.checkVisibility !== "function") return true;
    return el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
  }

  /** Text after the first occurrence of ``label`` in ``text``, separators stripped. */
  function after(text, label) {
    const at = text.indexOf(label);
    return at < 0 ? "" : clean(text.slice(at + label.length)).replace(SEPARATORS, "");
  }

  /** The element holds the label and nothing else, or a label of three characters or more after a
   * short qualifier (关联订单号, 原订单号): a field's name, not a sentence that mentions it. A
   * two-character label with a qualifier is another field (货物状态, 订单状态 are not 状态). */
  function isLabelOnly(el, label) {
    const text = clean(el.textContent).replace(/[:：\s]+$/, "");
    if (text === label) return true;
    const head = text.slice(0, text.length - label.length);
    return label.length >= 3 && text.endsWith(label) && head.length <= 4 && /^[\u4e00-\u9fa5]+$/.test(head);
  }

  /** Where the value of a label might be, most specific first. */
  function* candidates(textNode, label) {
    yield after(clean(textNode.nodeValue), label);
    let el = textNode.parentElement;
    // The innermost element whose whole text is the label is the label's box.
    let box = null;
    for (let e = el, depth = 0; e && depth < 4 && e !== document.body; e = e.parentElement, depth++) {
      if (isLabelOnly(e, label)) box = e;
      else break;
    }
    if (!box) {
      if (el) yield after(clean(el.textContent), label);
      return;
    }
    const cell = box.closest("td, th");
    if (cell && isLabelOnly(cell, label)) {
      for (let c = cell.nextElementSibling; c; c = c.nextElementSibling) {
        if (cell.tagName === "TH" && c.tagName === "TH") break; // a header row: its values are below
        const text = clean(c.textContent);
        if (text) {
          yield text;
          break;
        }
      }
      // A header row of labels above a row of values: the cell in the same column below.
      const row = cell.parentElement;
      const index = Array.prototype.indexOf.call(row.children, cell);
      let next = row.nextElementSibling;
      if (!next && row.parentElement && row.parentElement.tagName === "THEAD") {
        const body = row.parentElement.parentElement.querySelector("tbody");
        next = body ? body.firstElementChild : null;
      }
      if (next && next.children[index]) yield clean(next.children[index].textContent);
    }
    // Sibling elements (dt → dd, span → span), then the label's wrapper's siblings.
    for (let e = box, depth = 0; e && depth < 3 && e !== document.body; e = e.parentElement, depth++) {
      if (depth > 0 && !isLabelOnly(e, label)) {
        yield after(clean(e.textContent), label);
        break;
      }
      for (let s = e.nextElementSibling; s; s = s.nextElementSibling) {
        const text = clean(s.textContent);
        if (text) {
          yield text;
          break;
        }
      }
    }
  }

  function accept(candidate, rule, needDigit) {
    const value = clean(candidate).replace(SEPARATORS, "");
    if (!value) return null;
    if (rule.value_pattern) {
      const re = safeRegExp(rule.value_pattern);
      const m = re ? re.exec(value) : null;
      return m ? (m[1] !== undefined ? m[1] : m[0]) : null;
    }
    if (needDigit && !/\d/.test(value)) return null;
    return value.slice(0, MAX_VALUE);
  }

  /** The label ends its text or is followed by a separator: a field (收件人：…), not a word in a
   * sentence (收件人拒签、收件人姓名与…一致). */
  function standsAlone(text, label) {
    const at = text.indexOf(label);
    const next = text.charAt(at + label.length);
    return !next || /[\s:：\u00a0\u3000|｜]/.test(next);
  }

  /** The value of one labelled field, or null. Longer labels first: 剩余举证时间 before 剩余. */
  function findLabelled(page, rule, needDigit) {
    if (!rule || !Array.isArray(rule.labels)) return null;
    const labels = [...rule.labels].filter((l) => l && page.joined.includes(l)).sort((a, b) => b.length - a.length);
    for (const label of labels) {
      for (const node of page.nodes) {
        if (!node.nodeValue.includes(label)) continue;
        if (rule.field_only && !standsAlone(node.nodeValue, label)) continue;
        // A two-character label at the end of a longer word is that word (货物状态 is not 状态).
        if (label.length <= 2 && /[\u4e00-\u9fa5]$/.test(node.nodeValue.slice(0, node.nodeValue.indexOf(label)))) continue;
        if (!visible(node.parentElement)) continue;
        for (const candidate of candidates(node, label)) {
          const value = accept(candidate, rule, needDigit);
          if (value) return value;
        }
      }
    }
    return null;
  }

  function blockOf(node) {
    let el = node.parentElement;
    while (el && !BLOCK_TAGS.has(el.tagName.toUpperCase())) el = el.parentElement;
    return el || node.parentElement;
  }

  /** The platform's evidence request: the labelled field plus every block holding a marker phrase. */
  function findRequest(page, adapter) {
    const parts = [];
    const seen = new Set();
    const add = (text) => {
      const value = clean(text).slice(0, 1500);
      if (value && !seen.has(value)) {
        seen.add(value);
        parts.push(value);
      }
    };
    const labelled = findLabelled(page, adapter.request_text, false);
    if (labelled) add(labelled);
    const markers = (adapter.request_markers || []).filter((m) => m && page.joined.includes(m));
    if (markers.length) {
      for (const node of page.nodes) {
        if (!markers.some((m) => node.nodeValue.includes(m))) continue;
        const block = blockOf(node);
        if (block && block !== document.body && visible(block)) add(block.textContent);
        else add(node.nodeValue);
        if (parts.join("\n").length > MAX_REQUEST_TEXT) break;
      }
    }
    return parts.join("\n").slice(0, MAX_REQUEST_TEXT);
  }

  function fromUrl(params, names, rule) {
    for (const name of names || []) {
      const raw = params.get(name);
      if (!raw) continue;
      const value = rule ? accept(raw, rule, false) : clean(raw);
      if (value) return value;
    }
    return null;
  }

  const ID_SAFE = /^[0-9A-Za-z_-]{1,64}$/;

  // -- the page's text as lines: a block's inline pieces joined (<b>2</b>天 → 2天) ---------------
  const MAX_LINES_CHARS = 60000;

  /** Lines of text, one per block run, each with the block element it came from. */
  function linesOf(page) {
    if (page.lines) return page.lines;
    const lines = [];
    const blocks = new Map();
    let current = null;
    let total = 0;
    for (const node of page.nodes) {
      const parent = node.parentElement;
      let block = blocks.get(parent);
      if (block === undefined) {
        block = blockOf(node);
        blocks.set(parent, block);
      }
      if (!current || current.block !== block) {
        current = { block, text: "" };
        lines.push(current);
      }
      current.text += node.nodeValue;
      total += node.nodeValue.length;
      if (total > MAX_LINES_CHARS) break;
    }
    for (const line of lines) line.text = ns.countdown.normalise(line.text).replace(/\s+/g, " ").trim();
    page.lines = lines.filter((l) => l.text);
    return page.lines;
  }

  // -- the countdown / deadline ---------------------------------------------------------------------
  const GENERIC_LABELS = [
    "剩余举证时间", "剩余处理时间", "剩余处理时长", "剩余举证时长", "剩余时间", "还剩", "距超时", "距离超时", "处理时限",
    "举证时限", "举证截止时间", "举证截止", "截止时间", "超时时间", "到期时间", "举证倒计时", "处理倒计时", "倒计时",
  ];

  /** Whether ``block`` speaks of another order: it names an order number that is not the case's and
   * not the case's own (a header reminder 「订单 2311…-… 剩余处理时长 05:12:33」 is that order's clock). */
  function aboutAnotherOrder(block, orderRule, caseOrder) {
    if (!block || !caseOrder || !orderRule || !orderRule.value_pattern) return false;
    const re = safeRegExp(orderRule.value_pattern);
    if (!re) return false;
    const text = block.textContent || "";
    if (text.length > 2000 || text.includes(caseOrder)) return false;
    for (const m of text.matchAll(new RegExp(re.source, "g"))) {
      if ((m[1] !== undefined ? m[1] : m[0]) !== caseOrder) return true;
    }
    return false;
  }

  /** Labelled countdowns: each value that reads as a duration or a date, with its label's box visible. */
  function labelledCountdowns(page, labels, nowMs, skip) {
    const out = [];
    const present = (labels || []).filter((l) => l && page.joined.includes(l)).sort((a, b) => b.length - a.length);
    for (const label of present) {
      for (const node of page.nodes) {
        if (!node.nodeValue.includes(label)) continue;
        if (!visible(node.parentElement)) continue;
        if (skip && skip(blockOf(node))) continue;
        for (const candidate of candidates(node, label)) {
          const found = candidate && ns.countdown.readValue(candidate, nowMs);
          if (found) {
            out.push({ ...found, label });
            break;
          }
        }
        if (out.length > 20) return out;
      }
    }
    return out;
  }

  /** Countdowns in sentences (10小时22分05秒后，系统将…, 请在12月02日 14:30前完成举证) on visible lines. */
  function sentenceCountdowns(page, nowMs, skip) {
    const out = [];
    const checked = new Map();
    for (const line of linesOf(page)) {
      if (!/\d/.test(line.text)) continue;
      if (skip && skip(line.block)) continue;
      const found = ns.countdown.findAll(line.text, nowMs);
      if (!found.length) continue;
      let shown = checked.get(line.block);
      if (shown === undefined) {
        shown = visible(line.block);
        checked.set(line.block, shown);
      }
      if (shown) out.push(...found);
    }
    return out;
  }

  function earliest(list) {
    return list.length ? list.reduce((best, c) => (c.at < best.at ? c : best)) : null;
  }

  /** The page's deadline: the adapter's labels first, then generic labels, then sentences; within a
   * tier the earliest, so a deadline shown is never later than one the page states. ``caseOrder``:
   * the case's order number, when known; a countdown in a block about another order is not ours. */
  function findCountdown(page, adapter, nowMs, caseOrder) {
    const own = [...((adapter.remaining && adapter.remaining.labels) || []), ...((adapter.deadline && adapter.deadline.labels) || [])];
    const skip = caseOrder ? (block) => aboutAnotherOrder(block, adapter.order_id, caseOrder) : null;
    return (
      earliest(labelledCountdowns(page, own, nowMs, skip)) ||
      earliest(labelledCountdowns(page, GENERIC_LABELS, nowMs, skip)) ||
      earliest(sentenceCountdowns(page, nowMs, skip))
    );
  }

  // -- the order -------------------------------------------------------------------------------------
  /** Every visible labelled value of ``rule``: [{value, node}]. */
  function labelledAll(page, rule, needDigit) {
    const out = [];
    if (!rule || !Array.isArray(rule.labels)) return out;
    const labels = [...rule.labels].filter((l) => l && page.joined.includes(l)).sort((a, b) => b.length - a.length);
    const seenNodes = new Set();
    for (const label of labels) {
      for (const node of page.nodes) {
        if (seenNodes.has(node) || !node.nodeValue.includes(label)) continue;
        if (!visible(node.parentElement)) continue;
        for (const candidate of candidates(node, label)) {
          const value = accept(candidate, rule, needDigit);
          if (value) {
            seenNodes.add(node);
            if (ID_SAFE.test(value)) out.push({ value, node });
            break;
          }
        }
        if (out.length > 50) return out;
      }
    }
    return out;
  }

  function commonAncestor(a, b) {
    const chain = new Set();
    for (let e = a; e; e = e.parentElement) chain.add(e);
    for (let e = b; e; e = e.parentElement) if (chain.has(e)) return e;
    return null;
  }

  /** What marks the page's main detail block: the after-sale id's text and the request's blocks. */
  function anchorsOf(page, aftersaleId, adapter) {
    const anchors = [];
    if (aftersaleId) {
      for (const node of page.nodes) {
        if (node.nodeValue.includes(aftersaleId)) {
          anchors.push(node.parentElement);
          if (anchors.length > 3) break;
        }
      }
    }
    const markers = (adapter.request_markers || []).filter((m) => m && page.joined.includes(m));
    if (markers.length) {
      for (const node of page.nodes) {
        if (markers.some((m) => node.nodeValue.includes(m))) {
          anchors.push(node.parentElement);
          if (anchors.length > 8) break;
        }
      }
    }
    return anchors.filter(Boolean);
  }

  /** How far an element is from the main block: the text size of their smallest common ancestor. */
  function distance(el, anchors) {
    let best = Infinity;
    for (const anchor of anchors) {
      const common = commonAncestor(el, anchor);
      if (!common || common === document.body || common === document.documentElement) continue;
      best = Math.min(best, (common.textContent || "").length);
    }
    return best;
  }

  /**
   * The order of this page from its labelled values: one value is taken; several different ones
   * are ranked by how close they sit to the after-sale id or the request (a header reminder, a chat
   * message or a history list of other orders sits further away). Two close ones with nothing to
   * prefer either: {candidates} so the seller is asked. {list: true} for a page of many orders.
   */
  function chooseOrder(page, rule, anchors) {
    const found = labelledAll(page, rule, true);
    const values = [...new Set(found.map((f) => f.value))];
    if (!values.length) return { id: null };
    if (values.length === 1) return { id: values[0], node: found[0].node };
    const ranked = values
      .map((value) => {
        const nodes = found.filter((f) => f.value === value);
        const d = Math.min(...nodes.map((f) => distance(f.node.parentElement, anchors)));
        return { value, d, node: nodes[0].node };
      })
      .sort((a, b) => a.d - b.d);
    if (!anchors.length || ranked[0].d === Infinity) {
      return values.length >= 3 ? { id: null, list: true } : { id: null, candidates: values.slice(0, 5) };
    }
    const [first, second] = ranked;
    if (second.d > first.d * 1.5 + 20) return { id: first.value, node: first.node };
    return { id: null, candidates: ranked.filter((r) => r.d <= first.d * 1.5 + 20).map((r) => r.value).slice(0, 5) };
  }

  // -- the case's state ------------------------------------------------------------------------------
  const STATUS_LABELS = ["售后状态", "退款状态", "纠纷状态", "维权状态", "处理状态", "工单状态", "当前状态", "售后单状态", "状态"];
  const STATES = [
    // 「系统将默认支持买家」 is a request's warning, not a ruling: a ruling says 判定 or 仲裁结果.
    ["won", /商家胜诉|卖家胜诉|判定商家胜|判商家胜|(?:判定|仲裁结果|处理结果)\s*[:：]?\s*(?:支持|有利于)(?:商家|卖家)/],
    ["lost", /买家胜诉|判定买家胜|判买家胜|(?:判定|仲裁结果|处理结果)\s*[:：]?\s*(?:支持|有利于)(?:买家|消费者)/],
    ["closed", /退款成功|售后关闭|售后已关闭|退款关闭|退款已关闭|已撤销|撤销了|已撤回|售后完成|售后已完成|纠纷已结束|已完结|已结案|交易关闭/],
    ["requested", /待商家举证|待卖家举证|请商家举证|请卖家举证|需商家举证|需卖家举证|(?:需要|要求)(?:商家|卖家)(?:尽快)?(?:举证|上传凭证|提供凭证)|商家举证中|待商家补充凭证|待商家上传凭证|平台介入.{0,12}举证/],
    ["submitted", /已举证|已提交凭证|凭证已提交|举证已提交|待平台处理|等待平台处理|平台处理中|待小二处理|小二处理中|平台审核中/],
  ];
  const DATED = /\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s+\d{1,2}:\d{2}/;

  function classify(text) {
    for (const [state, re] of STATES) if (re.test(text)) return state;
    return null;
  }

  /** The state the page shows: its labelled status, else the first short status-like text outside
   * the history (dated entries). ``other`` is a labelled status that is none of ours (待买家退货). */
  function findState(page, ownIds) {
    const labelled = findLabelled(page, { labels: STATUS_LABELS }, false);
    if (labelled) {
      const state = classify(labelled.slice(0, 40));
      if (state) return state;
    }
    for (const line of linesOf(page)) {
      if (line.text.length > 40 || DATED.test(line.text)) continue;
      if (ownIds && aboutAnotherCase(line.block, ownIds)) continue;
      const state = classify(line.text);
      if (state && visible(line.block)) return state;
    }
    return labelled ? "other" : null;
  }

  const CASE_NUMBER = /\d{6}-\d{15}|\d{12,22}/g;
  const OTHER_WORDS = /其他退款|其他订单|其它订单|另一单|另一笔|最近订单|历史订单|该买家的其他/;

  /** A status line that belongs to another order or case: its row or line names a long number that
   * is neither this case's order nor its after-sale id (「…退款成功」 in the buyer's other orders), or
   * says so (此订单的其他退款：…（退款关闭）). */
  function aboutAnotherCase(block, ownIds) {
    if (!block) return false;
    const row = (block.closest && block.closest("tr, li")) || block;
    const text = row.textContent || "";
    if (text.length > 400) return false;
    if (OTHER_WORDS.test(text)) return true;
    for (const m of text.matchAll(CASE_NUMBER)) if (!ownIds.includes(m[0])) return true;
    return false;
  }

  // -- tracking number and history ----------------------------------------------------------------------
  const TRACKING = {
    labels: ["退货物流单号", "退货运单号", "退货单号", "退回单号", "寄回单号", "快递单号", "运单号", "运单编号", "物流单号", "发货单号",
      "退货物流", "发货物流"],
    value_pattern: "([A-Za-z]{0,4}\\d{9,22})",
  };
  const COURIER = /(?:^|[^A-Za-z0-9])((?:SF|YT|JT|JDV?|ZTO|YD|DPK|EMS|KYE|DBL|TT)\d{10,18})(?![0-9])/;

  // A courier's name right before a number (中通快递 78421903561842): the digits-only numbers of
  // 中通, 韵达, 申通 … that COURIER's prefixes cannot tell.
  const COURIER_NAMED = /(?:中通|圆通|申通|韵达|顺丰|极兔|京东|邮政|德邦|百世|天天|丰网|优速|宅急送|跨越|EMS)(?:快递|速递|快运|物流|包裹)?\s*[:：]?\s*([A-Za-z]{0,4}\d{10,22})(?![0-9])/;

  function findTracking(page) {
    const labelled = findLabelled(page, TRACKING, true);
    if (labelled) return labelled;
    for (const line of linesOf(page)) {
      if (!/快递|速递|快运|物流|运单|单号|邮政/.test(line.text)) continue;
      const m = COURIER.exec(line.text) || COURIER_NAMED.exec(line.text);
      if (m) return m[1];
    }
    return null;
  }

  // -- who the parcel went to and when ------------------------------------------------------------------
  // The value as the page shows it (张** 138****5678 浙江省…); the helper takes the name and phone
  // apart. The pattern keeps a request sentence that merely names the field (收件人姓名与…一致) out.
  const RECIPIENT = {
    field_only: true,
    labels: ["收货人信息", "收件人信息", "收货信息", "收货人姓名", "收件人姓名", "收货人", "收件人", "收件方"],
    // (a header row's next label — 发货时间, 订单状态 — is no value either)
    value_pattern: "^((?!姓名|信息|地址|电话|手机|与|和|及|的|[\\u4e00-\\u9fa5]{0,6}(?:时间|日期|状态|编号|单号|信息|地址|电话|方式)$)[\\u4e00-\\u9fa5·*＊]{1,6}(?![\\u4e00-\\u9fa5])[^\\n]{0,80})",
  };
  const DATE_VALUE = "((?:\\d{4}\\s*[-/.年]\\s*)?\\d{1,2}\\s*[-/.月]\\s*\\d{1,2}\\s*日?(?:\\s*\\d{1,2}:\\d{2}(?::\\d{2})?)?)";
  const SIGNED = { field_only: true, labels: ["签收时间", "签收日期", "妥投时间", "派送签收时间"], value_pattern: "^" + DATE_VALUE };
  const SHIPPED = { field_only: true, labels: ["发货时间", "发货日期", "揽收时间", "揽件时间"], value_pattern: "^" + DATE_VALUE };
  const SIGNED_EVENT = /已签收|签收成功|已妥投|本人签收|代收点签收/;

  function findRecipient(page) {
    return findLabelled(page, RECIPIENT, false);
  }

  /** 签收时间 where the page labels it, else the date of the logistics track's 已签收 entry. */
  function findSigned(page) {
    const labelled = findLabelled(page, SIGNED, true);
    if (labelled) return labelled;
    const date = new RegExp(DATE_VALUE);
    const lines = linesOf(page);
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i].text;
      if (text.length > 240 || !SIGNED_EVENT.test(text) || /未签收|拒签/.test(text)) continue;
      // The entry's own date, else a time alone on the line above (time and event cells), as in findHistory.
      const above = i > 0 && lines[i - 1].text.length < 24 ? lines[i - 1].text : "";
      for (const source of [text, above]) {
        const m = date.exec(source);
        if (m && /\d{4}|\d:\d{2}/.test(m[1])) return m[1];
      }
    }
    return null;
  }

  function findShipped(page) {
    return findLabelled(page, SHIPPED, true);
  }

  // -- the shop the page names (千牛 and refund2 show 店铺/店铺名称 in the order block or the header) --
  // A name, not the next field: 店铺类型/店铺评分 are other labels (field_only keeps them out), and a
  // value that is itself a label (订单编号：…) or a sentence is no shop name.
  const SHOP = {
    field_only: true,
    labels: ["店铺名称", "店铺名", "所属店铺", "商家店铺", "店铺"],
    value_pattern: "^((?![^\\s]{0,6}(?:编号|单号|时间|状态|类型|评分)(?:[\\s:：]|$))[^\\s:：|｜,，。；;][^:：|｜\\n,，。；;]{0,39})",
  };

  /** The shop's name as the page labels it, or null: the seller's 天猫/淘宝 choice is kept per shop. */
  function findShop(page) {
    const value = findLabelled(page, SHOP, false);
    if (!value) return null;
    // The next field in the same line (店铺名称：X 店铺类型：天猫, 店铺名 X 订单编号 …) is cut off.
    const name = value.replace(/\s+\S{0,4}(?:订单|退款|售后|维权|买家|卖家|商品|店铺|类型|编号|时间|状态)[\s\S]*$/, "").trim();
    return name && name.length <= 40 ? name : null;
  }

  const HISTORY_LINE = /(?:\d{4}\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s+\d{1,2}:\d{2}/;

  /** The dated entries of 协商历史 / 售后日志 / 服务进度, whatever their markup: lines with a date and time. */
  function findHistory(page) {
    const out = [];
    let size = 0;
    const lines = linesOf(page);
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i].text;
      if (text.length > 240 || !HISTORY_LINE.test(text)) continue;
      // A time alone on its line: the entry's words are on the next lines (time, actor, action cells).
      const entry = text.length < 24 ? [text, lines[i + 1] && lines[i + 1].text, lines[i + 2] && lines[i + 2].text].filter(Boolean).join(" ") : text;
      out.push(entry.slice(0, 240));
      size += entry.length;
      if (out.length >= 60 || size > 6000) break;
    }
    return out.join("\n");
  }

  /**
   * Apply one adapter to the page. Returns what the helper's POST /api/cases/detect takes (without
   * ``platform``) plus ``_meta`` for the content script only, or null when this is no case page
   * (no order named, or a list of many orders). ``order_id`` is null when the seller must choose
   * among ``_meta.order_candidates``.
   */
  function extract(adapter, loc, root, nowMs) {
    const now = nowMs ?? Date.now();
    const page = pageOf(root || document.body);
    const params = urlParams(loc);
    const urlIds = adapter.url_params || {};
    const orderRule = adapter.order_id;
    // The address names the case the seller opened; it also changes first on SPA navigation.
    const urlOrder = fromUrl(params, urlIds.order_id, orderRule);
    let aftersaleId = fromUrl(params, urlIds.aftersale_id, adapter.aftersale_id) || "";
    // A page's own id (a work order's): the address names one case, but the after-sale id the page
    // shows comes first.
    const caseRef = fromUrl(params, urlIds.case_ref, adapter.aftersale_id) || "";
    const fromAddress = Boolean(urlOrder || aftersaleId || caseRef);
    if (!aftersaleId) {
      const labelled = labelledAll(page, adapter.aftersale_id, true);
      const distinct = [...new Set(labelled.map((l) => l.value))];
      if (distinct.length >= 3 && !fromAddress) return null; // a list of after-sales, not one case
      aftersaleId = distinct[0] || caseRef;
    }
    if (!ID_SAFE.test(aftersaleId)) aftersaleId = "";
    if (!fromAddress && manyOrders(page, orderRule)) return null;
    const anchors = anchorsOf(page, aftersaleId, adapter);
    let order = urlOrder && ID_SAFE.test(urlOrder) ? { id: urlOrder } : chooseOrder(page, orderRule, anchors);
    if (order.list && !fromAddress) return null;
    if (order.list) order = { id: null };
    if (!order.id && !order.candidates) return null;

    const countdown = findCountdown(page, adapter, now, order.id);
    const state = findState(page, [order.id, aftersaleId, caseRef].filter(Boolean));
    const requestText = findRequest(page, adapter) || null;
    const pageText = clean(page.joined.slice(0, MAX_PAGE_TEXT * 2)).slice(0, MAX_PAGE_TEXT);
    const mainBlock = order.node ? mainBlockOf(order.node.parentElement, anchors) : null;
    const tmall = /天猫/.test(mainBlock ? mainBlock.textContent || "" : "") || /天猫(?:店铺|商家|商城|旗舰店)|店铺类型\s*[:：]?\s*天猫/.test(page.joined);
    return {
      url: loc.href.slice(0, 4000),
      order_id: order.id,
      aftersale_id: aftersaleId,
      remaining_text: countdown && countdown.kind === "remaining" ? countdown.text : null,
      deadline_text: countdown && countdown.kind === "deadline" ? countdown.text : null,
      request_text: requestText,
      page_text: pageText || null,
      history_text: findHistory(page) || null,
      tracking_number: findTracking(page),
      recipient_text: findRecipient(page),
      signed_text: findSigned(page),
      shipped_text: findShipped(page),
      page_state: state === "other" ? null : state || (requestText ? "requested" : null),
      _meta: {
        order_candidates: order.candidates || null,
        deadline_ms: countdown ? countdown.at : null,
        deadline_found_by: countdown ? countdown.label || countdown.trigger : null,
        status: state,
        marketplace: tmall ? "tmall" : null,
        shop: findShop(page),
      },
    };
  }

  /** A list page: three or more different order numbers, the order label heading a column or
   * repeated for each row. A detail page quoting one or two other orders is no list. */
  function manyOrders(page, rule) {
    if (!rule || !rule.value_pattern) return false;
    const re = safeRegExp(rule.value_pattern);
    if (!re) return false;
    const global = new RegExp(re.source, "g");
    const values = new Set();
    for (const node of page.nodes) {
      if (!re.test(node.nodeValue) || !visible(node.parentElement)) continue;
      for (const m of node.nodeValue.matchAll(global)) values.add(m[1] !== undefined ? m[1] : m[0]);
      if (values.size >= 3) break;
    }
    if (values.size < 3) return false;
    let labels = 0;
    for (const node of page.nodes) {
      if (!(rule.labels || []).some((l) => node.nodeValue.includes(l))) continue;
      if (node.parentElement && node.parentElement.closest("th, thead")) return true;
      if (++labels >= 3) return true;
    }
    return false;
  }

  /** The block holding the order id and the after-sale id or request: for reading what else it says. */
  function mainBlockOf(el, anchors) {
    let best = null;
    for (const anchor of anchors) {
      const common = commonAncestor(el, anchor);
      if (common && common !== document.body && (!best || (common.textContent || "").length < (best.textContent || "").length)) best = common;
    }
    return best;
  }

  ns.extract = {
    clean, hostMatches, pickAdapter, needsRequest, urlParams, collectTextNodes, pageOf, findLabelled, findRequest,
    linesOf, findCountdown, findState, findTracking, findRecipient, findSigned, findShipped, findShop, findHistory, chooseOrder, extract,
  };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
