/* Messages from _locales (zh_CN first, en for English browsers); pages mark text with data-i18n. */
(function (ns) {
  "use strict";

  function t(key, subs) {
    const text = chrome.i18n.getMessage(key, subs === undefined ? undefined : [].concat(subs).map(String));
    return text || key;
  }

  /** Fill every [data-i18n] element's text and [data-i18n-placeholder]/[data-i18n-title] attributes. */
  function localize(root) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  }

  ns.t = t;
  ns.localize = localize;
})((globalThis.Juzheng = globalThis.Juzheng || {}));
