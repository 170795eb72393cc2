"""The extension's files checked without a browser: the manifest, its stable id, the locales, the
page adapters in the rules against the manifest's match patterns, and no HTML sinks in the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.browser import EXTENSION_DIR, extension_id
from juzheng.rules import load_rulebook

MANIFEST = json.loads((EXTENSION_DIR / "manifest.json").read_text(encoding="utf-8"))
LOCALES = {
    loc: json.loads((EXTENSION_DIR / "_locales" / loc / "messages.json").read_text(encoding="utf-8"))
    for loc in ("zh_CN", "en")
}
SCRIPTS = sorted(p for p in EXTENSION_DIR.rglob("*.js"))
PAGES = sorted(p for p in EXTENSION_DIR.rglob("*.html"))
# Keys built from a value: item states and deadline levels as the helper sends them.
DYNAMIC = {"state_": ("done", "missing", "rejected"), "level_": ("ok", "warn", "urgent", "overdue", "estimate")}


def test_manifest_is_mv3_with_a_fixed_key():
    assert MANIFEST["manifest_version"] == 3
    assert MANIFEST["default_locale"] == "zh_CN"
    # The id follows from the key: the helper can pin chrome-extension://<id> whatever the folder.
    assert extension_id() == "onafckacbdnlfkogjgcdngfhobpgbpdp"
    assert MANIFEST["host_permissions"] == ["http://127.0.0.1/*"]
    assert set(MANIFEST["permissions"]) <= {"storage", "alarms", "notifications", "clipboardWrite"}
    # The overlay frame is the one page the seller pages may load, and only by its per-session
    # dynamic address, so no page can probe for the extension by its fixed id.
    [resources] = MANIFEST["web_accessible_resources"]
    assert resources["resources"] == ["overlay/overlay.html"] and resources["use_dynamic_url"] is True
    assert all(resources["matches"] == script["matches"] for script in MANIFEST["content_scripts"])


SELLER_HOSTS = {"mms.pinduoduo.com", "fxg.jinritemai.com", "refund2.taobao.com", "refund2.tmall.com", "qn.taobao.com", "myseller.taobao.com"}


def test_content_script_runs_only_on_https_seller_hosts():
    """No plain http, no wildcard host, no path narrowing that a renamed page would fall out of."""
    for script in MANIFEST["content_scripts"]:
        hosts = set()
        for pattern in script["matches"]:
            scheme, rest = pattern.split("://", 1)
            host, path = rest.split("/", 1)
            assert scheme == "https" and "*" not in host and path == "*", pattern
            hosts.add(host)
        assert hosts == SELLER_HOSTS
        assert "all_frames" not in script and "match_about_blank" not in script


def test_every_file_the_manifest_names_exists():
    named: list[str] = [MANIFEST["background"]["service_worker"], MANIFEST["action"]["default_popup"], MANIFEST["options_ui"]["page"]]
    named += list(MANIFEST["icons"].values()) + list(MANIFEST["action"]["default_icon"].values())
    for script in MANIFEST["content_scripts"]:
        named += script["js"]
    for resource in MANIFEST["web_accessible_resources"]:
        named += resource["resources"]
    for name in named:
        assert (EXTENSION_DIR / name).is_file(), name
    worker = (EXTENSION_DIR / MANIFEST["background"]["service_worker"]).read_text(encoding="utf-8")
    for imported in re.findall(r'"(/[^"]+\.js)"', worker):
        assert (EXTENSION_DIR / imported.lstrip("/")).is_file(), imported
    for page in PAGES:
        for ref in re.findall(r'(?:src|href)="([^"#:]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / ref).resolve().is_file(), f"{page.name} → {ref}"


def test_locales_have_the_same_messages_and_cover_the_code():
    zh, en = LOCALES["zh_CN"], LOCALES["en"]
    assert zh.keys() == en.keys()
    for key in zh:
        assert sorted(re.findall(r"\$\d", zh[key]["message"])) == sorted(re.findall(r"\$\d", en[key]["message"])), key
    used: set[str] = set()
    for path in SCRIPTS + PAGES + [EXTENSION_DIR / "manifest.json"]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([A-Za-z]+)"', text))
        used |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([A-Za-z]+)"', text))
        used |= set(re.findall(r"__MSG_([A-Za-z]+)__", text))
        for prefix in re.findall(r't\("([a-z]+_)" \+', text):
            used |= {prefix + suffix for suffix in DYNAMIC[prefix]}
    missing = sorted(k for k in used if k not in zh)
    assert not missing, f"messages used but not defined: {missing}"


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.relative_to(EXTENSION_DIR).as_posix() for p in SCRIPTS])
def test_no_html_sinks(path: Path):
    """Page- and helper-supplied text is set with textContent: never parsed as HTML or code."""
    text = path.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment"):
        assert sink not in text, f"{path.name} uses {sink}"


def _pattern_matches(pattern: str, host: str) -> bool:
    """Chrome match-pattern host part: '*.x.com' matches x.com and its sub-domains."""
    host_part = pattern.split("://", 1)[1].split("/", 1)[0]
    if host_part.startswith("*."):
        base = host_part[2:]
        return host == base or host.endswith("." + base)
    return host == host_part


def test_every_page_adapter_host_gets_the_content_script():
    """A rule edit can add an adapter, but only for hosts the manifest injects into."""
    patterns = [m for script in MANIFEST["content_scripts"] for m in script["matches"]]
    book = load_rulebook()
    adapters = [(p.id, a) for p in book.platforms.values() for a in p.pages]
    assert {pid for pid, _ in adapters} == set(book.platforms), "every platform has a page adapter"
    for pid, adapter in adapters:
        for host in adapter.hosts:
            probe = host.replace("*.", "sub.") if host.startswith("*.") else host
            assert any(_pattern_matches(p, probe) for p in patterns), f"{pid}: {host} is not matched by the manifest"
            for rule in (adapter.order_id, adapter.aftersale_id):
                if rule and rule.value_pattern:
                    re.compile(rule.value_pattern)
    assert all(not host.startswith("*.") for _, adapter in adapters for host in adapter.hosts), "adapters name exact hosts"
    for required in SELLER_HOSTS:
        assert any(_pattern_matches(p, required) for p in patterns), required
    for outside in ("www.taobao.com", "buyertrade.taobao.com", "www.tmall.com", "taobao.com"):
        assert not any(_pattern_matches(p, outside) for p in patterns), outside


def test_the_extension_matches_error_codes_not_wording():
    """An error's Chinese text is for the seller; the extension decides on its ``code``."""
    client = (EXTENSION_DIR / "background" / "client.js").read_text(encoding="utf-8")
    assert "origin_not_paired" in client
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"/[^/\n]*[\u4e00-\u9fff][^/\n]*/\.test\((?:error|res\.error|reply\.error|msg\.error)\)", text), path


def test_the_overlay_frame_loads_one_bundle_that_is_current():
    """The frame names one script (each file is one more load before its first script runs), and that
    file is exactly what scripts/bundle-overlay makes of the sources that are edited and linted."""
    import importlib.machinery
    import importlib.util

    script = EXTENSION_DIR.parent / "scripts" / "bundle-overlay"
    loader = importlib.machinery.SourceFileLoader("bundle_overlay", str(script))
    spec = importlib.util.spec_from_loader("bundle_overlay", loader)
    assert spec is not None
    bundle = importlib.util.module_from_spec(spec)
    loader.exec_module(bundle)
    html = (EXTENSION_DIR / "overlay" / "overlay.html").read_text(encoding="utf-8")
    assert re.findall(r'<script src="([^"]+)"', html) == ["frame.bundle.js"]
    assert (EXTENSION_DIR / "overlay" / "frame.bundle.js").read_text(encoding="utf-8") == bundle.build(), "run scripts/bundle-overlay"
    for name in bundle.SOURCES:
        assert (EXTENSION_DIR / name).is_file(), name
