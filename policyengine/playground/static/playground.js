// policyengine playground: the page. Plain JavaScript, no framework, no network beyond this server.
// The workspace (policy texts + request) lives in `state.ws`; every edit asks /api/answer (debounced)
// and the answer is drawn in place: problems and lint marks in each editor, deciding statements
// highlighted at their exact spans, the decision, the why-tree, verified suggestions.
"use strict";

const KMS_ACTIONS = [
  "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateMac", "kms:VerifyMac",
  "kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants",
  "kms:RetireGrant", "kms:RevokeGrant", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:EnableKey",
  "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:EnableKeyRotation",
  "kms:RotateKeyOnDemand", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias",
];
const SINGLE_EDITORS = [
  ["permissions_boundary", "Permissions boundary"],
  ["session_policy", "Session policy"],
];
const SEVERITY_MARK = { error: "✖", security: "▲", warning: "▲", suggestion: "●", info: "●" };

const state = {
  ws: null, baseline: null, rows: [], lesson: null, seq: 0, timer: null, answers: 0, last: null, done: new Set(),
};

function $(id) { return document.getElementById(id); }
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}
function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function clone(value) { return JSON.parse(JSON.stringify(value)); }

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

// --- the workspace's editors -------------------------------------------------------------------

function normalise(ws) {
  const p = ws.policies = ws.policies || {};
  for (const name of ["key_policy", "permissions_boundary", "session_policy", "grants"]) p[name] = p[name] || "";
  for (const name of ["identity_policies", "scps", "rcps"]) p[name] = p[name] || [];
  const r = ws.request = ws.request || {};
  for (const name of ["principal", "action", "resource", "context", "encryption_context"]) r[name] = r[name] || "";
  r.unknown = r.unknown || [];
  ws.version = 1;
  return ws;
}

function editorText(id) {
  const [name, index] = id.split(".");
  if (name === "request") return state.ws.request[index] || "";
  const value = state.ws.policies[name];
  return index === undefined ? value : (value[Number(index)] || {}).policy || "";
}
function setEditorText(id, text) {
  const [name, index] = id.split(".");
  if (name === "request") state.ws.request[index] = text;
  else if (index === undefined) state.ws.policies[name] = text;
  else state.ws.policies[name][Number(index)].policy = text;
}

function editorBox(id, title, { open = true, head = null, tall = false, help = null } = {}) {
  const text = editorText(id);
  const textarea = el("textarea", { spellcheck: "false", autocomplete: "off", "aria-label": title, "data-editor": id });
  textarea.value = text;
  const backdrop = el("pre", { "aria-hidden": "true" });
  const gutter = el("div", { class: "gutter", "aria-hidden": "true" });
  const code = el("div", { class: tall ? "code tall" : "code" }, backdrop, textarea);
  textarea.addEventListener("input", () => { setEditorText(id, textarea.value); drawEditor(id); schedule(); });
  textarea.addEventListener("scroll", () => {
    backdrop.scrollTop = textarea.scrollTop; backdrop.scrollLeft = textarea.scrollLeft; gutter.scrollTop = textarea.scrollTop;
  });
  const box = el("details", { class: "editor-box", "data-editor": id, open: open || text.trim() !== "" },
    el("summary", {}, title, el("span", { class: "count" })),
    help ? el("p", { class: "editor-head", text: help }) : null,
    head,
    el("div", { class: "editor" }, gutter, code),
    el("div", { class: "issues", role: "alert" }),
    el("ul", { class: "findings" }));
  return box;
}

function listHead(kind, index) {
  const item = state.ws.policies[kind][index];
  const remove = el("button", { type: "button", text: "Remove", onclick: () => {
    state.ws.policies[kind].splice(index, 1); renderEditors(); schedule();
  } });
  if (kind === "identity_policies") {
    const input = el("input", { type: "text", spellcheck: "false", "aria-label": "Attached to (principal ARN)", value: item.principal || "" });
    input.addEventListener("input", () => { item.principal = input.value; schedule(); });
    return el("div", { class: "editor-head" }, el("label", { text: "Attached to" }), input, remove);
  }
  const level = el("select", { "aria-label": "Organization level" });
  ["root", "OU", "OU (second)", "account"].forEach((name, i) => level.append(el("option", { value: String(i), text: `level ${i}: ${name}` })));
  level.value = String(item.level || 0);
  level.addEventListener("change", () => { item.level = Number(level.value); schedule(); });
  return el("div", { class: "editor-head" }, level, remove);
}

function renderEditors() {
  const root = $("editors");
  root.replaceChildren();
  const p = state.ws.policies;
  root.append(editorBox("key_policy", "Key policy", { tall: true }));
  p.identity_policies.forEach((_, i) => root.append(editorBox(`identity_policies.${i}`, `Identity policy ${i + 1}`, { head: listHead("identity_policies", i) })));
  for (const [id, title] of SINGLE_EDITORS) root.append(editorBox(id, title, { open: false }));
  p.scps.forEach((_, i) => root.append(editorBox(`scps.${i}`, `SCP ${i + 1}`, { head: listHead("scps", i) })));
  p.rcps.forEach((_, i) => root.append(editorBox(`rcps.${i}`, `RCP ${i + 1}`, { head: listHead("rcps", i) })));
  root.append(editorBox("grants", "Grants", { open: false, help: "A JSON list of grants (aws kms list-grants output works too)." }));
  root.append(editorBox("request.context", "Request context", { open: false, help: 'JSON object, e.g. {"aws:SecureTransport": "true", "kms:ViaService": "s3.us-east-1.amazonaws.com"}' }));
  root.append(editorBox("request.encryption_context", "Encryption context", { open: false, help: 'JSON object, e.g. {"app": "payments"}' }));
  for (const box of root.querySelectorAll("details.editor-box")) drawEditor(box.dataset.editor);
  const r = state.ws.request;
  $("r-principal").value = r.principal; $("r-action").value = r.action; $("r-resource").value = r.resource;
  $("r-unknown").value = (r.unknown || []).join(", ");
}

function offsetOf(text, line, column) {
  let offset = 0;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + Math.max(0, column - 1));
}

function marksFor(id, text) {
  const marks = [];
  const answer = state.last;
  if (answer && answer.decision) {
    for (const ref of answer.decision.deciding) {
      if (ref.editor === id && ref.offset !== undefined) {
        marks.push({ start: ref.offset, end: ref.end_offset, cls: ref.effect === "Deny" ? "deciding-deny" : "deciding-allow" });
      }
    }
  }
  if (answer) {
    for (const issue of answer.issues) {
      if (issue.editor !== id || issue.line === undefined) continue;
      const start = offsetOf(text, issue.line, issue.column || 1);
      let end = issue.end_line ? offsetOf(text, issue.end_line, issue.end_column || 1) : start + 1;
      if (end <= start) end = Math.min(text.length, start + 1);
      marks.push({ start, end, cls: "issue" });
    }
  }
  return marks.sort((a, b) => a.start - b.start);
}

function drawEditor(id) {
  const box = document.querySelector(`details.editor-box[data-editor="${id}"]`);
  if (!box) return;
  const text = editorText(id);
  let html = "", at = 0;
  for (const mark of marksFor(id, text)) {
    const start = Math.max(mark.start, at), end = Math.min(mark.end, text.length);
    if (end <= start) continue;
    html += escapeHtml(text.slice(at, start)) + `<mark class="${mark.cls}">` + escapeHtml(text.slice(start, end)) + "</mark>";
    at = end;
  }
  box.querySelector("pre").innerHTML = html + escapeHtml(text.slice(at)) + "\n ";
  const lines = text.split("\n").length;
  const byLine = new Map();
  const answer = state.last;
  for (const f of answer ? answer.findings.filter((f) => f.editor === id) : []) {
    const line = f.line || 1;
    if (!byLine.has(line)) byLine.set(line, []);
    byLine.get(line).push({ sev: f.severity, text: `${f.rule} ${f.severity}: ${f.message}` });
  }
  for (const i of answer ? answer.issues.filter((i) => i.editor === id) : []) {
    const line = i.line || 1;
    if (!byLine.has(line)) byLine.set(line, []);
    byLine.get(line).push({ sev: "error", text: i.message });
  }
  const gutter = box.querySelector(".gutter");
  gutter.replaceChildren();
  for (let n = 1; n <= lines; n++) {
    const found = byLine.get(n);
    const worst = found ? (found.find((x) => x.sev === "error") || found.find((x) => x.sev === "security" || x.sev === "warning") || found[0]) : null;
    const mark = el("span", { class: worst ? `mark ${worst.sev}` : "mark", title: found ? found.map((x) => x.text).join("\n") : null, text: worst ? SEVERITY_MARK[worst.sev] || "●" : " " });
    gutter.append(mark, `${n}\n`);
  }
  const textarea = box.querySelector("textarea");
  gutter.scrollTop = textarea.scrollTop;
}

function readRequestFields() {
  const r = state.ws.request;
  r.principal = $("r-principal").value.trim();
  r.action = $("r-action").value.trim();
  r.resource = $("r-resource").value.trim();
  r.unknown = $("r-unknown").value.split(",").map((s) => s.trim()).filter(Boolean);
}

// --- asking and drawing the answer ---------------------------------------------------------------

function schedule(delay = 200) {
  clearTimeout(state.timer);
  state.timer = setTimeout(ask, delay);
}

async function ask() {
  readRequestFields();
  const seq = ++state.seq;
  const ws = clone(state.ws);
  try {
    const answer = await api("/api/answer", { workspace: ws });
    if (seq !== state.seq) return;
    state.last = answer;
    draw(answer);
  } catch (error) {
    if (seq !== state.seq) return;
    state.last = null;
    showDecision("error", "No answer", error.message);
  }
  if (state.baseline) whatIf();
  state.answers += 1;
  document.body.dataset.answers = String(state.answers);
  document.body.dataset.ready = "1";
}

function showDecision(cls, headline, text, extra) {
  const icon = { allow: "✔", deny: "✖", conditional: "◐", error: "…" }[cls] || "";
  const box = $("decision");
  box.className = `decision ${cls}`;
  box.replaceChildren(el("span", { class: "headline" }, el("span", { class: "icon", "aria-hidden": "true", text: icon }), headline),
    el("span", { class: "reason", text }), ...(extra ? [extra] : []));
}

function where(ref) {
  return ref.line ? `${ref.kind_text} — ${ref.label} (line ${ref.line})` : `${ref.kind_text} — ${ref.label}`;
}

function jumpTo(ref) {
  const box = document.querySelector(`details.editor-box[data-editor="${ref.editor}"]`);
  if (!box) return;
  box.open = true;
  const textarea = box.querySelector("textarea");
  textarea.focus();
  if (ref.offset !== undefined) textarea.setSelectionRange(ref.offset, ref.end_offset);
}

function draw(answer) {
  const editorIssues = answer.issues.filter((i) => !i.editor.startsWith("request.") || i.editor === "request.context" || i.editor === "request.encryption_context");
  const requestIssues = answer.issues.filter((i) => !editorIssues.includes(i));
  for (const box of document.querySelectorAll("details.editor-box")) {
    const id = box.dataset.editor;
    const issues = editorIssues.filter((i) => i.editor === id);
    const findings = answer.findings.filter((f) => f.editor === id);
    box.querySelector(".issues").replaceChildren(...issues.map((i) => el("p", {},
      `${i.line ? `${i.line}:${i.column} ` : ""}${i.message}`, i.hint ? el("span", { class: "hint", text: `hint: ${i.hint}` }) : null)));
    box.querySelector(".findings").replaceChildren(...findings.map((f) => el("li", {},
      el("span", { class: "sev", text: `${f.severity} ` }), `${f.rule} line ${f.line || 1}: ${f.message}`)));
    const count = [issues.length ? `${issues.length} problem${issues.length > 1 ? "s" : ""}` : "", findings.length ? `${findings.length} finding${findings.length > 1 ? "s" : ""}` : ""].filter(Boolean).join(", ");
    box.querySelector("summary .count").textContent = count ? `(${count})` : "";
    if (issues.length) box.open = true;
    drawEditor(id);
  }
  $("request-issues").replaceChildren(...requestIssues.map((i) => el("p", { text: `${i.editor.replace("request.", "")}: ${i.message}` })));

  const d = answer.decision;
  if (!d) {
    showDecision("error", "No answer yet", "Fix the problems marked in the workspace; each is shown where it is.");
  } else if (answer.residual && answer.residual.status === "conditional") {
    showDecision("conditional", "ALLOW ONLY IF …", "The answer depends on the context keys left unknown.");
  } else {
    showDecision(d.allowed ? "allow" : "deny", d.headline, d.reason_text, d.path_text ? el("span", { class: "path", text: `How: ${d.path_text}` }) : null);
  }
  const residual = $("residual");
  residual.replaceChildren();
  if (answer.residual) {
    const r = answer.residual;
    const words = r.status === "conditional" ? `allowed only if ${r.text}` : r.status === "allow" ? "allowed whatever the unknown keys hold" : "denied whatever the unknown keys hold";
    residual.append(el("div", { class: "residual", text: `With ${r.unknown.join(", ")} unknown: ${words}` }));
  }
  const deciding = $("deciding");
  deciding.replaceChildren();
  if (d && d.deciding.length) {
    deciding.append(el("h3", { text: "Deciding statements" }),
      el("ul", { class: "deciding-list" }, ...d.deciding.map((ref) => el("li", {},
        el("span", { text: `${ref.effect} ` }), el("button", { type: "button", onclick: () => jumpTo(ref), text: where(ref) })))));
  }
  drawSuggestions(answer.suggestions || []);
  drawTrace(answer.trace || []);
}

function drawSuggestions(suggestions) {
  const root = $("suggestions");
  root.replaceChildren();
  if (!suggestions.length) return;
  root.append(el("h3", { text: "What would allow it (checked by the evaluator)" }),
    el("ul", { class: "suggestion-list" }, ...suggestions.map((s) => el("li", {},
      el("span", { text: s.title }),
      ...s.changes.map((c) => el("div", {},
        c.statement ? el("pre", { text: JSON.stringify(c.statement, null, 2) }) : null,
        el("button", { type: "button", text: `Apply: ${c.text}`, onclick: () => apply(c) })))))));
}

function apply(change) {
  if (change.kind === "set_context") {
    const id = change.editor;
    let data = {};
    try { data = JSON.parse(editorText(id) || "{}"); } catch (e) { data = {}; }
    data[change.key] = change.value;
    setEditorText(id, JSON.stringify(data, null, 2));
  } else {
    let id = change.editor;
    if (id === "identity_policies.new") {
      state.ws.policies.identity_policies.push({ principal: state.ws.request.principal, policy: "" });
      id = `identity_policies.${state.ws.policies.identity_policies.length - 1}`;
    }
    let data;
    try { data = JSON.parse(editorText(id) || '{"Version": "2012-10-17", "Statement": []}'); } catch (e) { return; }
    let statements = Array.isArray(data.Statement) ? data.Statement : data.Statement ? [data.Statement] : [];
    if (change.kind === "add_statement") statements.push(change.statement);
    else statements = statements.filter((_, i) => i !== change.index);
    data.Statement = statements;
    setEditorText(id, JSON.stringify(data, null, 2));
  }
  renderEditors();
  schedule(0);
}

function elementLine(e) {
  const via = e.pattern ? ` via ${e.pattern}` : "";
  return el("li", { class: e.matched ? "ok" : "no", text: `${e.element}${via}${e.reason ? `: ${e.reason}` : ""}` });
}

function conditionLine(c) {
  const got = c.request_values === null ? "(absent)" : c.request_values.join(", ");
  return el("li", { class: c.matched ? "ok" : "no" },
    el("code", { text: `${c.operator} ${c.key}` }), ` request ${got} vs policy ${c.policy_values.join(" | ")} [${c.outcome}]${c.detail ? ` — ${c.detail}` : ""}`);
}

function drawTrace(groups) {
  const root = $("trace");
  root.replaceChildren();
  if (!groups.length) { root.append(el("p", { text: "No statement applies to this request." })); return; }
  const tree = el("ul", { class: "tree" });
  for (const g of groups) {
    const statements = el("ul", {});
    for (const s of g.statements) {
      const parts = el("ul", {}, ...s.elements.map(elementLine), ...s.conditions.map(conditionLine));
      statements.append(el("li", { class: s.matched ? "ok" : "no" },
        el("button", { type: "button", onclick: () => jumpTo(s), text: `${s.effect} ${s.label}${s.line ? ` (line ${s.line})` : ""}` }),
        s.matched ? " applies" : " does not apply", parts));
    }
    tree.append(el("li", {}, el("strong", { text: `${g.kind_text} ` }), el("code", { text: g.editor }), statements));
  }
  root.append(tree);
}

// --- what if ---------------------------------------------------------------------------------------

function rowLabel(row) {
  return [row.action, row.principal, row.encryption_context ? `ec ${row.encryption_context}` : "", row.context ? `ctx ${row.context}` : ""].filter(Boolean).join(" · ");
}

async function whatIf() {
  const body = $("whatif-table").querySelector("tbody");
  if (!state.rows.length) { body.replaceChildren(); $("proof").textContent = ""; return; }
  try {
    const result = await api("/api/whatif", { before: state.baseline, after: clone(state.ws), rows: state.rows });
    body.replaceChildren(...result.rows.map((row, i) => el("tr", {},
      el("td", {}, el("code", { text: rowLabel(row.request) })),
      el("td", { text: row.before.headline }), el("td", { text: row.after.headline }),
      el("td", { class: row.flipped ? "flipped" : "", text: row.flipped ? "⇄ flipped" : "same" }),
      el("td", {}, el("button", { type: "button", "aria-label": "Remove this request", text: "✕", onclick: () => { state.rows.splice(i, 1); whatIf(); } })))));
    const proof = result.proof;
    $("proof").textContent = proof ? `Key-policy proof (no-new-access): ${proof.status} — ${proof.message}${proof.counterexample ? ` e.g. ${proof.counterexample.action} by ${proof.counterexample.principal}` : ""}` : "";
  } catch (error) {
    $("proof").textContent = `What-if failed: ${error.message}`;
  }
}

// --- sharing, scenarios, examples, lessons ---------------------------------------------------------

function toBase64Url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
async function pack(ws) {
  const stream = new Blob([JSON.stringify(ws)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return "#w=" + toBase64Url(new Uint8Array(await new Response(stream).arrayBuffer()));
}
async function unpack(fragment) {
  const stream = new Blob([fromBase64Url(fragment.slice(3))]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return JSON.parse(await new Response(stream).text());
}

async function share() {
  readRequestFields();
  const fragment = await pack(state.ws);
  history.replaceState(null, "", fragment);
  const link = $("share-link");
  link.hidden = false;
  link.value = location.href;
  link.select();
  let copied = false;
  try { await navigator.clipboard.writeText(location.href); copied = true; } catch (e) { copied = false; }
  $("share-status").textContent = copied ? "Link copied: it holds the whole workspace." : "Link ready below: it holds the whole workspace.";
}

async function exportScenario() {
  readRequestFields();
  try {
    const scenario = await api("/api/scenario", { workspace: clone(state.ws) });
    const blob = new Blob([JSON.stringify(scenario, null, 2) + "\n"], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: "scenario.json" });
    document.body.append(link); link.click(); link.remove();
    $("share-status").textContent = "Saved scenario.json: run it with `policyengine simulate scenario.json`.";
  } catch (error) {
    $("share-status").textContent = `Cannot save as a scenario: ${error.message}`;
  }
}

async function importScenario(file) {
  try {
    const scenario = JSON.parse(await file.text());
    load(await api("/api/from-scenario", { scenario }));
    $("share-status").textContent = `Opened ${file.name}.`;
  } catch (error) {
    $("share-status").textContent = `Cannot open ${file.name}: ${error.message}`;
  }
}

function load(ws) {
  state.ws = normalise(ws);
  state.last = null;
  renderEditors();
  schedule(0);
}

async function openLesson(id) {
  const lesson = await api(`/api/lessons/${encodeURIComponent(id)}`);
  state.lesson = lesson;
  $("lesson").hidden = false;
  $("lesson-title").textContent = `${lesson.order}. ${lesson.title}`;
  $("lesson-idea").textContent = lesson.idea;
  $("lesson-exercise").textContent = lesson.exercise;
  $("lesson-result").replaceChildren();
  load(lesson.workspace);
  $("lesson-title").scrollIntoView({ block: "nearest" });
}

async function checkLesson() {
  if (!state.lesson) return;
  readRequestFields();
  const out = $("lesson-result");
  try {
    const result = await api(`/api/lessons/${encodeURIComponent(state.lesson.id)}/check`, { workspace: clone(state.ws) });
    if (result.passed) {
      state.done.add(state.lesson.id);
      out.replaceChildren(el("p", { class: "passed", text: "✔ Done: every check passes." }));
      drawLessonList();
    } else {
      out.replaceChildren(el("p", { class: "failed", text: "✖ Not yet. Still wrong:" }), el("ul", {}, ...result.problems.map((p) => el("li", { text: p }))));
    }
  } catch (error) {
    out.replaceChildren(el("p", { class: "failed", text: error.message }));
  }
}

let lessonSummaries = [];
function drawLessonList() {
  $("lesson-list").replaceChildren(...lessonSummaries.map((l) => el("li", { class: state.done.has(l.id) ? "done" : "" },
    el("button", { type: "button", "data-lesson": l.id, text: l.title, onclick: () => openLesson(l.id) }),
    state.done.has(l.id) ? el("span", { class: "done-mark", text: " — done ✓" }) : null)));
}

async function start() {
  $("kms-actions").replaceChildren(...KMS_ACTIONS.map((a) => el("option", { value: a })));
  for (const id of ["r-principal", "r-action", "r-resource", "r-unknown"]) $(id).addEventListener("input", () => schedule());
  $("add-identity").addEventListener("click", () => { state.ws.policies.identity_policies.push({ principal: state.ws.request.principal.replace(/^arn:aws:sts::(\d+):assumed-role\/([^/]+)\/.*$/, "arn:aws:iam::$1:role/$2"), policy: "" }); renderEditors(); });
  $("add-scp").addEventListener("click", () => { state.ws.policies.scps.push({ level: 0, policy: "" }); renderEditors(); });
  $("add-rcp").addEventListener("click", () => { state.ws.policies.rcps.push({ level: 0, policy: "" }); renderEditors(); });
  $("share").addEventListener("click", share);
  $("export").addEventListener("click", exportScenario);
  $("import").addEventListener("change", (event) => { if (event.target.files[0]) importScenario(event.target.files[0]); });
  $("baseline").addEventListener("click", () => {
    readRequestFields();
    state.baseline = clone(state.ws);
    $("baseline-status").textContent = `Baseline set at ${new Date().toLocaleTimeString()}: edit policies and watch the table.`;
    if (!state.rows.length) state.rows.push(currentRow());
    whatIf();
  });
  $("add-row").addEventListener("click", () => { readRequestFields(); state.rows.push(currentRow()); whatIf(); });
  $("lesson-check").addEventListener("click", checkLesson);
  document.addEventListener("keydown", (event) => { if (event.ctrlKey && event.key === "Enter") { event.preventDefault(); schedule(0); } });
  const examples = await api("/api/examples");
  $("example").replaceChildren(...examples.examples.map((name) => el("option", { value: name, text: name })));
  $("example").addEventListener("change", async () => load(await api(`/api/examples/${$("example").value}`)));
  lessonSummaries = (await api("/api/lessons")).lessons;
  drawLessonList();
  let ws = null;
  if (location.hash.startsWith("#w=")) {
    try { ws = await unpack(location.hash); } catch (error) { $("share-status").textContent = `The share link is damaged: ${error.message}`; }
  }
  load(ws || await api("/api/start"));
}

function currentRow() {
  const r = state.ws.request;
  return { principal: r.principal, action: r.action, resource: r.resource, context: r.context, encryption_context: r.encryption_context };
}

document.addEventListener("DOMContentLoaded", start);
