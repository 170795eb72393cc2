"""One deadline notifier, owned by the runtime: one level change gives one notification, whether or
not a tray runs, and the extension is told (GET /api/health ``notifies``) not to add Chrome's."""

from __future__ import annotations

from juzheng.events import LEVEL_CHANGED
from juzheng.tray import start_tray

ORDER = "201123-123456789012345"
NOT_RECEIVED = "买家反馈未收到商品，请上传快递签收底单"


async def test_one_level_change_gives_one_notification(helper_app):
    rt = helper_app.runtime
    shown = []
    rt.enable_notifications(send=lambda notice: shown.append(notice) or True)
    assert rt.enable_notifications() is rt.notifier  # one notifier, however often asked
    controller = start_tray(rt, show_icon=False)  # the tray adds its balloon, not a second notifier
    try:
        assert controller.notifier is None and rt.notifier.fallback == controller.balloon
        view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
        rt.bus.publish(LEVEL_CHANGED, {"case_id": view["id"], "level": "warn", "previous": "ok"}, view["id"])
        assert rt.notifier.drain()
        assert len(shown) == 1 and ORDER in shown[0].body
        health = await (await helper_app.get("/api/health", auth=False)).json()
        assert health["notifies"] is True  # so the extension does not notify as well
    finally:
        controller.stop()
    assert rt.notifier.fallback is None


async def test_the_extension_notifies_when_the_helper_cannot(helper_app):
    rt = helper_app.runtime
    health = await (await helper_app.get("/api/health", auth=False)).json()
    assert health["notifies"] is False  # no notifier (juzheng serve --no-notify)
    rt.enable_notifications(send=lambda notice: False)  # no notification service, no tray balloon
    view = await helper_app.detect(order_id=ORDER, request_text=NOT_RECEIVED)
    rt.bus.publish(LEVEL_CHANGED, {"case_id": view["id"], "level": "urgent", "previous": "ok"}, view["id"])
    assert rt.notifier.drain()
    health = await (await helper_app.get("/api/health", auth=False)).json()
    assert health["notifies"] is False
