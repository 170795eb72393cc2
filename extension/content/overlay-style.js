/* The overlay's stylesheet, kept apart from its logic. It lives inside the shadow root, so neither
 * the page's CSS nor ours leaks across; `all: initial` on the host stops inherited page styles. */
(function (ns) {
  "use strict";

  ns.overlayStyle = `
:host { all: initial; position: fixed; z-index: 2147483646; display: block; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.panel {
  width: 360px; max-height: min(70vh, 640px); display: flex; flex-direction: column;
  font: 13px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
  color: #1f2328; background: #fff; border: 1px solid #d0d7de; border-radius: 10px;
  box-shadow: 0 8px 28px rgba(31, 35, 40, .18); overflow: hidden;
}
.head {
  display: flex; align-items: center; gap: 8px; padding: 8px 10px; cursor: grab; user-select: none;
  background: #fff4ef; border-bottom: 1px solid #f3d3c6; touch-action: none;
}
.head:active { cursor: grabbing; }
.logo {
  flex: none; width: 22px; height: 22px; border-radius: 5px; background: #d64528; color: #fff;
  font-weight: 700; font-size: 14px; display: grid; place-items: center;
}
.title { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: 1; min-width: 0; }
.title small { font-weight: 400; color: #57606a; margin-left: 4px; }
.countdown {
  flex: none; font-variant-numeric: tabular-nums; font-weight: 600; padding: 1px 8px; border-radius: 999px;
  background: #dafbe1; color: #116329; white-space: nowrap;
}
.countdown[data-level="warn"] { background: #fff1c2; color: #8a4b00; }
.countdown[data-level="urgent"] { background: #ffd8d3; color: #a40e26; }
.countdown[data-level="overdue"] { background: #82071e; color: #fff; }
.countdown:empty { display: none; }
.icon-btn {
  flex: none; border: 0; background: transparent; cursor: pointer; font-size: 16px; line-height: 1;
  width: 24px; height: 24px; border-radius: 6px; color: #57606a;
}
.icon-btn:hover { background: rgba(0, 0, 0, .06); }
.body { overflow: auto; padding: 10px 12px 12px; }
:host([data-collapsed="true"]) .body { display: none; }
:host([data-collapsed="true"]) .panel { width: auto; max-width: 360px; }
.row { display: flex; gap: 6px; align-items: center; margin: 0 0 8px; flex-wrap: wrap; }
.muted { color: #57606a; }
.ids { display: flex; flex-wrap: wrap; gap: 0 12px; font-size: 12px; color: #57606a; margin-bottom: 8px; }
.ids span { white-space: nowrap; }
.ids b { font-weight: 500; color: #1f2328; font-variant-numeric: tabular-nums; }
select {
  font: inherit; flex: 1; min-width: 0; padding: 3px 6px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff;
}
.tag { font-size: 11px; padding: 0 6px; border-radius: 4px; background: #eaeef2; color: #57606a; white-space: nowrap; }
.tag.seller { background: #ddf4ff; color: #0550ae; }
.warnings { margin: 0 0 8px; padding: 6px 8px; border-radius: 6px; background: #fff8c5; border: 1px solid #eac54f; }
.warnings.danger { background: #ffebe9; border-color: #ff8182; }
.warnings p { margin: 2px 0; }
.mode { font-weight: 600; margin: 10px 0 6px; }
.option { border: 1px solid #d0d7de; border-radius: 8px; padding: 6px 8px; margin-bottom: 8px; }
.option.complete { border-color: #4ac26b; background: #f6fff8; }
.option-head { display: flex; align-items: flex-start; gap: 6px; margin-bottom: 4px; }
.option-head .note { flex: 1; color: #57606a; font-size: 12px; }
.or { text-align: center; color: #8c959f; font-size: 12px; margin: -2px 0 6px; }
.item { border-radius: 6px; padding: 4px 6px; margin: 2px -4px; border: 1px dashed transparent; }
.item.drop { border-color: #0969da; background: #ddf4ff; }
.item-head { display: flex; gap: 6px; align-items: baseline; }
.state { flex: none; width: 16px; text-align: center; font-weight: 700; }
.item[data-state="done"] .state { color: #1a7f37; }
.item[data-state="missing"] .state { color: #cf222e; }
.item[data-state="rejected"] .state { color: #9a6700; }
.label { flex: 1; font-weight: 500; }
.item[data-state="done"] .label { color: #1a7f37; }
.files { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0 2px 22px; }
.file {
  display: inline-flex; align-items: center; gap: 4px; max-width: 100%; padding: 2px 6px 2px 2px; border: 1px solid #d0d7de;
  border-radius: 6px; background: #f6f8fa; cursor: pointer; font: inherit; font-size: 12px; color: #0969da;
}
.file.text { cursor: text; color: #1f2328; padding: 2px 6px; user-select: all; }
.file img { width: 36px; height: 36px; object-fit: cover; border-radius: 4px; background: #eaeef2; }
.file span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 200px; }
.fields { margin: 2px 0 2px 22px; }
.fields summary { color: #57606a; }
.fields label { display: flex; gap: 6px; align-items: flex-start; font-size: 12px; cursor: pointer; }
.fields input { margin: 2px 0 0; }
details { margin: 2px 0 2px 22px; font-size: 12px; }
summary { cursor: pointer; color: #0969da; }
details ol { margin: 4px 0; padding-left: 18px; }
.item-warn { margin: 2px 0 2px 22px; font-size: 12px; color: #9a6700; }
.hint { margin: 2px 0 0 22px; font-size: 11px; color: #8c959f; }
.text-form { display: flex; gap: 4px; margin: 4px 0 2px 22px; }
.text-form input { flex: 1; min-width: 0; font: inherit; padding: 2px 6px; border: 1px solid #d0d7de; border-radius: 6px; }
button.btn {
  font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; border: 1px solid #d0d7de; background: #f6f8fa;
  color: #1f2328; cursor: pointer; white-space: nowrap;
}
button.btn:hover { background: #eef1f4; }
button.btn.primary { background: #d64528; border-color: #c13b20; color: #fff; }
button.btn.primary:hover { background: #c13b20; }
button.btn:disabled { opacity: .5; cursor: default; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 8px; }
.status { padding: 6px 12px; font-size: 12px; color: #57606a; border-top: 1px solid #eaeef2; background: #f6f8fa; }
.status:empty { display: none; }
:host([data-collapsed="true"]) .status { display: none; }
.status[data-tone="error"] { color: #cf222e; }
.status[data-tone="ok"] { color: #1a7f37; }
.problem h3 { margin: 0 0 4px; font-size: 14px; }
.problem p { margin: 4px 0; }
.problem code { background: #f6f8fa; padding: 0 4px; border-radius: 4px; font-family: ui-monospace, Consolas, monospace; }
.footnote { margin-top: 8px; font-size: 11px; color: #8c959f; }
.deadlines { font-size: 12px; margin: 0 0 8px; }
.deadlines div { display: flex; justify-content: space-between; gap: 8px; }
`;
})((globalThis.Juzheng = globalThis.Juzheng || {}));
