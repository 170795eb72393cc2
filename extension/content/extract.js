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
  const BLOCK_TAGS = new Set(["P", "DIV", "LI", "TD", "DD", "SECTION", "ARTICLE", "BLOCKQUOTE", "TR", "DL", "UL", "FORM", "BODY"]);
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

  function isLabelOnly(el, label) {
    const text = clean(el.textContent).replace(/[:：\s]+$/, "");
    return text === label;
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

  /** The value of one labelled field, or null. Longer labels first: 剩余举证时间 before 剩余. */
  function findLabelled(page, rule, needDigit) {
    if (!rule || !Array.isArray(rule.labels)) return null;
    const labels = [...rule.labels].filter((l) => l && page.joined.includes(l)).sort((a, b) => b.length - a.length);
    for (const label of labels) {
      for (const node of page.nodes) {
        if (!node.nodeValue.includes(label)) continue;
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

  /**
   * Apply one adapter to the page. Returns what the helper's POST /api/cases/detect takes (without
   * ``platform``), or null when the page names no order (not an after-sale page).
   */
  function extract(adapter, loc, root) {
    const page = pageOf(root || document.body);
    const params = urlParams(loc);
    const urlIds = adapter.url_params || {};
    const orderRule = adapter.order_id;
    // The address names the case the seller opened; it also changes first on SPA navigation.
    const orderId = fromUrl(params, urlIds.order_id, orderRule) || findLabelled(page, orderRule, true);
    if (!orderId || !ID_SAFE.test(orderId)) return null;
    let aftersaleId = fromUrl(params, urlIds.aftersale_id, adapter.aftersale_id) || findLabelled(page, adapter.aftersale_id, true) || "";
    if (!ID_SAFE.test(aftersaleId)) aftersaleId = "";
    const pageText = clean(page.joined.slice(0, MAX_PAGE_TEXT * 2)).slice(0, MAX_PAGE_TEXT);
    return {
      url: loc.href.slice(0, 4000),
      order_id: orderId,
      aftersale_id: aftersaleId,
      remaining_text: findLabelled(page, adapter.remaining, true),
      deadline_text: findLabelled(page, adapter.deadline, true),
      request_text: findRequest(page, adapter) || null,
      page_text: pageText || null,
    };
  }

  ns.extract = { clean, hostMatches, pickAdapter, needsRequest, urlParams, collectTextNodes, pageOf, findLabelled, findRequest, extract };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
