/* The rulebook as the extension needs it: page adapters, platform labels, levels and upload limits.
 *
 * Fetched from GET /api/rules (with its ETag) and kept in chrome.storage.local, so a page opened
 * while the helper is down still gets its overlay and can say the helper is not running.
 */
(function (ns) {
  "use strict";

  const STORE_KEY = "rules";
  const MAX_AGE_MS = 5 * 60 * 1000;
  let memory = null; // {digest, platforms, fetchedAt}
  let inflight = null;

  /** Only what the extension uses: the rulebook's semantics stay in the helper. */
  function slim(data) {
    return {
      digest: data.digest,
      fetchedAt: Date.now(),
      platforms: (data.platforms || []).map((p) => ({
        id: p.id,
        label: p.label,
        levels: p.levels || null,
        upload: p.upload || null,
        pages: p.pages || [],
      })),
    };
  }

  async function cached() {
    if (memory) return memory;
    const got = await chrome.storage.local.get(STORE_KEY);
    memory = got[STORE_KEY] || null;
    return memory;
  }

  async function refresh() {
    if (inflight) return inflight;
    inflight = (async () => {
      const have = await cached();
      const res = await ns.client.request("GET", "/api/rules", { etag: have ? `"${have.digest}"` : undefined });
      if (res.ok && res.status === 304 && have) {
        have.fetchedAt = Date.now();
        return have;
      }
      if (res.ok && res.data && Array.isArray(res.data.platforms)) {
        memory = slim(res.data);
        await chrome.storage.local.set({ [STORE_KEY]: memory });
        return memory;
      }
      return have; // keep the last good rules while the helper is away
    })();
    try {
      return await inflight;
    } finally {
      inflight = null;
    }
  }

  async function get(force) {
    const have = await cached();
    if (force || !have || Date.now() - (have.fetchedAt || 0) > MAX_AGE_MS) return refresh();
    return have;
  }

  function platform(rules, id) {
    return (rules && rules.platforms.find((p) => p.id === id)) || null;
  }

  /** The page adapter for an address, with its platform's label, levels and upload limit. */
  async function contextFor(href) {
    let url;
    try {
      url = new URL(href);
    } catch (_) {
      return { state: ns.client.stateNow().state, rulesKnown: false, adapter: null, platform: null };
    }
    const rules = await get(false);
    const found = rules ? ns.extract.pickAdapter(rules.platforms, url) : null;
    return {
      state: ns.client.stateNow().state,
      rulesKnown: Boolean(rules),
      adapter: found ? found.adapter : null,
      platform: found ? { id: found.platform.id, label: found.platform.label, levels: found.platform.levels, upload: found.platform.upload } : null,
    };
  }

  function forget() {
    memory = null;
  }

  ns.rules = { get, refresh, platform, contextFor, forget };
})((globalThis.Juzheng = globalThis.Juzheng || {}));
