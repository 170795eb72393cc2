"""Links in order folders are recorded as links: listed in the case view as not read, never evidence.

Before, a symlink in ``<平台>/<订单>/<类型>/`` was silently skipped by the index: the seller saw
nothing, and thought the photo it points to was part of the case. Now it is a link record: the case
view lists it with a zh-CN reason; it is never hashed, moved or attached and never ticks a checklist
item; its target is left as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.evidence import PDD_ORDER, sha, wait_for
from juzheng.evidence.links import LINK_REASON, is_link_stat, links_for, names_another_place

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks"),
    pytest.mark.timeout(120),
]
SLIP = f"{PDD_ORDER} 发货底单.jpg"


def _outside_photo(tmp_path: Path) -> Path:
    target = tmp_path / "别处" / "底单原图.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"\xff\xd8 the photo lives elsewhere")
    return target


def test_links_found_at_start_are_recorded_and_never_evidence(ev, tmp_path):
    ev.case("pinduoduo", PDD_ORDER)
    folder = ev.root / "拼多多" / PDD_ORDER / "发货底单"
    folder.mkdir(parents=True)
    target = _outside_photo(tmp_path)
    before = sha(target)
    os.symlink(target, folder / "底单.jpg")
    os.symlink(target.parent, folder / "一个文件夹")
    (folder / "底单 - 快捷方式.lnk").write_bytes(b"L\x00\x00\x00 a Windows shortcut")
    (folder / "真的底单.jpg").write_bytes(b"\xff\xd8 the real one")
    svc = ev.service(watch=False)
    svc.sort_once()  # indexes the tree as a start or a rescan does
    links = links_for(ev.store, "pinduoduo", PDD_ORDER)
    assert {link.name for link in links} == {"底单.jpg", "一个文件夹", "底单 - 快捷方式.lnk"}
    assert {link.kind for link in links} == {"shipping_slip"}
    assert all(link.reason == LINK_REASON for link in links)
    records = ev.store.evidence_for_order("pinduoduo", PDD_ORDER)
    assert [r.path.rsplit("/", 1)[-1] for r in records] == ["真的底单.jpg"]
    assert sha(target) == before and target.exists()

    os.remove(folder / "底单.jpg")
    svc.sort_once()
    assert {link.name for link in links_for(ev.store, "pinduoduo", PDD_ORDER)} == {"一个文件夹", "底单 - 快捷方式.lnk"}


def test_a_link_in_an_order_folder_shows_in_the_case_view_and_ticks_nothing(running_helper, tmp_path):
    helper = running_helper
    r = helper.request("POST", "/api/cases/detect", json_body={"platform": "pinduoduo", "order_id": PDD_ORDER, "request_text": "买家反馈未收到商品"})
    assert r.status in (200, 201), r.body[:300]
    case_id = r.json()["id"]
    folder = helper.root / "拼多多" / PDD_ORDER / "发货底单"
    folder.mkdir(parents=True, exist_ok=True)
    target = _outside_photo(tmp_path)
    before = sha(target)
    link = folder / SLIP
    os.symlink(target, link)  # the real watcher sees it arrive

    def view() -> dict:
        got = helper.request("GET", f"/api/cases/{case_id}", timeout=10)
        assert got.status == 200, got.body[:300]
        return got.json()

    wait_for(lambda: view()["links"], timeout=20)
    body = view()
    (listed,) = body["links"]
    assert listed["name"] == SLIP and listed["kind"] == "shipping_slip"
    assert listed["reason"] == "这是一个快捷方式/链接，举证助手不会读取或上传它，请放入文件本身"
    assert body["evidence"] == [] and body["unsorted"] == []
    slip_items = [i for o in body["checklist"]["options"] for i in o["items"] if i["kind"] == "shipping_slip"]
    assert slip_items and all(i["state"] == "missing" and not i["evidence"] for i in slip_items)
    assert all(SLIP not in str(p) for p in body["packets"])
    assert os.path.islink(link) and sha(target) == before  # neither moved nor read through

    # Replaced by the file itself: the link record goes, the file is evidence.
    os.remove(link)
    link.write_bytes(b"\xff\xd8 the slip itself")
    wait_for(lambda: not view()["links"] and view()["evidence"], timeout=20)
    assert [e["path"].rsplit("/", 1)[-1] for e in view()["evidence"]] == [SLIP]


def test_windows_junctions_are_links_and_onedrive_placeholders_are_not():
    """The Windows branch's rule, on the reparse tags Windows reports (IO_REPARSE_TAG_*)."""
    reparse = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT
    assert names_another_place(reparse, 0xA0000003)  # MOUNT_POINT: a junction
    assert names_another_place(reparse, 0xA000000C)  # SYMLINK
    assert not names_another_place(reparse, 0x9000001A)  # CLOUD_6: a OneDrive file on demand
    assert not names_another_place(reparse, 0x80000013)  # DEDUP
    assert not names_another_place(reparse, 0x80000017)  # WOF (compressed system file)
    assert not names_another_place(0x20, 0)  # an ordinary file


def test_a_link_stat_is_a_link_and_a_shortcut_is_known_by_its_name(tmp_path):
    target = _outside_photo(tmp_path)
    os.symlink(target, tmp_path / "l.jpg")
    assert is_link_stat(os.lstat(tmp_path / "l.jpg"), "l.jpg")
    assert not is_link_stat(os.lstat(target), target.name)
    assert is_link_stat(os.lstat(target), "底单.LNK")


@pytest.mark.browser
def test_the_overlay_lists_a_link_as_not_read(paired_browser, e2e_helper, tmp_path):
    from playwright.sync_api import expect

    from fixtures.browser import overlay_of

    url = "https://mms.pinduoduo.com/aftersales-ssr/detail"
    order, aftersale = "240701-000000000000951", "96000000951"
    paired_browser.serve(url, "pinduoduo_detail.html", ORDER_ID=order, AFTERSALE_ID=aftersale)
    page = paired_browser.new_page()
    page.goto(f"{url}?id={aftersale}&orderSn={order}")
    expect(page.locator("juzheng-overlay")).to_have_attribute("data-state", "case")
    folder = e2e_helper.root / "拼多多" / order / "发货底单"
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(_outside_photo(tmp_path), folder / f"{order} 发货底单.jpg")
    link = overlay_of(page).locator('[data-role="links"] [data-role="link"]')
    expect(link).to_contain_text(f"{order} 发货底单.jpg", timeout=20_000)
    expect(link).to_contain_text(LINK_REASON)
    page.close()
