"""scripts/package-extension: store and shop zips whose manifest and files are what the stores and the helper need."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from juzheng.pairing.identity import OWN_EXTENSION_ID, extension_id_from_key

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "package-extension"
EXTENSION = REPO / "extension"


def package(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *extra], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    done = package(out)
    assert done.returncode == 0, done.stderr
    version = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))["version"]
    return out, version, done.stdout


def source_files() -> set[str]:
    return {
        p.relative_to(EXTENSION).as_posix()
        for p in EXTENSION.rglob("*")
        if p.is_file() and p.name != "README.md" and not any(part.startswith(".") for part in p.relative_to(EXTENSION).parts)
    }


def test_store_zip_has_every_file_and_a_manifest_without_key(built):
    out, version, _ = built
    with zipfile.ZipFile(out / f"juzheng-extension-{version}-store.zip") as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        assert z.testzip() is None
    assert names == source_files()
    assert "README.md" not in names and not any(n.startswith(".") or "/." in n for n in names)
    assert "key" not in manifest  # the Chrome Web Store refuses a manifest with a key
    source = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == {k: v for k, v in source.items() if k != "key"}
    assert manifest["manifest_version"] == 3 and manifest["default_locale"] == "zh_CN"


def test_shop_zip_keeps_the_key_so_the_id_is_the_one_the_helper_accepts(built):
    out, version, stdout = built
    with zipfile.ZipFile(out / f"juzheng-extension-{version}.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
        names = set(z.namelist())
    assert extension_id_from_key(manifest["key"]) == OWN_EXTENSION_ID
    assert OWN_EXTENSION_ID in stdout
    # Every file the manifest names is inside the zip.
    named = list(manifest["icons"].values()) + [manifest["background"]["service_worker"], manifest["options_ui"]["page"], manifest["action"]["default_popup"]]
    named += [js for script in manifest["content_scripts"] for js in script["js"]]
    assert set(named) <= names
    # And everything the service worker imports.
    sw = (EXTENSION / manifest["background"]["service_worker"]).read_text(encoding="utf-8")
    imported = {line.strip().strip('",').lstrip("/") for line in sw.splitlines() if line.strip().startswith('"/')}
    assert imported and imported <= names


def test_locales_and_store_texts_in_chinese_and_english(built):
    out, version, _ = built
    with zipfile.ZipFile(out / f"juzheng-extension-{version}-store.zip") as z:
        zh = json.loads(z.read("_locales/zh_CN/messages.json"))
        en = json.loads(z.read("_locales/en/messages.json"))
    assert set(zh) == set(en)
    for messages in (zh, en):
        assert len(messages["extName"]["message"]) <= 75
        assert len(messages["extShortName"]["message"]) <= 12
        assert len(messages["extDescription"]["message"]) <= 132
    store = out / "store"
    assert "举证" in (store / "listing.zh_CN.txt").read_text(encoding="utf-8")
    assert "evidence" in (store / "listing.en.txt").read_text(encoding="utf-8")
    for lang in ("zh_CN", "en"):
        with Image.open(store / f"promo-440x280.{lang}.png") as tile:
            assert tile.size == (440, 280)
    with Image.open(store / "icon128.png") as icon:
        assert icon.size == (128, 128)


def test_the_zips_are_reproducible(built, tmp_path):
    out, version, _ = built
    again = package(tmp_path)
    assert again.returncode == 0, again.stderr
    for name in (f"juzheng-extension-{version}.zip", f"juzheng-extension-{version}-store.zip"):
        assert hashlib.sha256((out / name).read_bytes()).digest() == hashlib.sha256((tmp_path / name).read_bytes()).digest()


def test_a_broken_extension_is_refused_with_what_to_fix(tmp_path):
    broken = tmp_path / "extension"
    shutil.copytree(EXTENSION, broken)
    (broken / "icons" / "icon48.png").unlink()
    zh = broken / "_locales" / "zh_CN" / "messages.json"
    messages = json.loads(zh.read_text(encoding="utf-8"))
    messages["extDescription"]["message"] = "长" * 140
    zh.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    done = package(tmp_path / "out", "--source", str(broken))
    assert done.returncode == 1
    assert "icons/icon48.png" in done.stderr and "extDescription is 140 characters" in done.stderr
    assert not (tmp_path / "out").exists()
