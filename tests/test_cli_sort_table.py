"""The table `juzheng sort` prints: columns line up by display width (a CJK character takes two
columns in a console), and the last column is never padded."""

from __future__ import annotations

import unicodedata

from juzheng.cli.sort_cmd import _table


def _display(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_columns_line_up_by_display_width():
    rows = [
        ["收件箱/淘宝 4018 红章证明 1.jpg", "移入", "淘宝/4018/快递红章证明/淘宝 4018 红章证明 1.jpg", "[完成] "],
        ["收件箱/IMG_0001.jpg", "待处理", "—", "[留在收件箱] 文件名里没有订单号"],
        ["收件箱/a.jpg", "跳过", "—", "[跳过] 文件已不在"],
        ["收件箱/ｆｕｌｌ　ｗｉｄｔｈ.jpg", "移入", "x", ""],
    ]
    lines = _table(["文件", "动作", "去向", "说明"], rows).split("\n")
    assert len(lines) == 2 + len(rows)
    for row, line in zip(rows, lines[2:], strict=True):
        # Where each cell starts, in display columns, is the same on every line.
        starts, at = [], 0
        for cell in row:
            cell = cell.rstrip()  # the line itself is right-stripped
            at = line.index(cell, at) if cell else len(line)
            starts.append(_display(line[:at]))
            at += len(cell)
        assert starts[:3] == [0, _display(lines[2][: lines[2].index("移入")]), _display(lines[2][: lines[2].index("淘宝/")])]
        assert line == line.rstrip()  # the last column is not padded
    assert set(lines[1].replace(" ", "")) == {"-"}
