# ruff: noqa: E501 - the page script and styles are kept as written, one rule per line
"""The access matrix as one self-contained HTML page a person reads in a browser, offline.

Everything is inline (CSS, script, data); nothing is fetched, so the file can be mailed or
opened from disk. The data is compact because a real matrix is large: one status letter per
cell (``a`` allow, ``c`` conditional, ``d`` deny), a reason index per denied cell, and an
explanation per other cell, each distinct explanation stored once. The script draws the table
from it, filters by account and action group, and shows a cell's explanation (deciding
statements, residual condition, assumption path) when it is clicked.
"""

from __future__ import annotations

import html
import json
from typing import Any

from policyengine.access.answers import REASONS_HERE, explain_lines
from policyengine.access.formula import to_text
from policyengine.access.matrix import Cell, Matrix
from policyengine.access.precheck import PRECHECK_REASONS

_CODES = {"allow": "a", "conditional": "c", "deny": "d"}
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"  # parsed back with parseInt(x, 36)


def _explanation(cell: Cell) -> dict[str, Any]:
    example = cell.example
    data: dict[str, Any] = {
        "status": cell.status,
        "action": example.action,
        "allowed": list(cell.allowed),
        "conditional": [[a.action, to_text(a.result.residual)] for a in cell.conditional],
        "lines": explain_lines(example.result),
        "notes": list(example.notes),
    }
    if cell.route is not None:
        data["path"] = cell.route.text()
        data["hops"] = [
            [
                h.source.label,
                h.role.label,
                h.result.status,
                to_text(h.result.residual) if h.result.status == "conditional" else "",
            ]
            for h in cell.route.hops
        ]
    return data


def matrix_data(matrix: Matrix, title: str) -> dict[str, Any]:
    """The page's data: principals, keys, status rows, deny reasons and explanations."""
    reasons: list[str] = []
    reason_index: dict[str, int] = {}
    explanations: list[dict[str, Any]] = []
    explanation_index: dict[str, int] = {}
    rows: list[str] = []
    reason_rows: list[str] = []
    details: dict[str, int] = {}
    for p, subject in enumerate(matrix.subjects):
        statuses: list[str] = []
        why: list[str] = []
        for k, key in enumerate(matrix.keys):
            for g, group in enumerate(matrix.groups):
                cell = matrix.cells[(subject.id, key.arn, group)]
                statuses.append(_CODES[cell.status])
                if cell.status == "deny":
                    reason = cell.example.result.reason
                    text = PRECHECK_REASONS.get(reason) or REASONS_HERE.get(reason, reason)
                    if text not in reason_index:
                        reason_index[text] = len(reasons)
                        reasons.append(text)
                    why.append(_DIGITS[min(reason_index[text], len(_DIGITS) - 1)])
                    continue
                why.append("-")
                explanation = _explanation(cell)
                text = json.dumps(explanation, sort_keys=True)
                index = explanation_index.get(text)
                if index is None:
                    index = len(explanations)
                    explanation_index[text] = index
                    explanations.append(explanation)
                details[f"{p},{k},{g}"] = index
        rows.append("".join(statuses))
        reason_rows.append("".join(why))
    return {
        "title": title,
        "groups": list(matrix.groups),
        "principals": [{"label": s.label, "kind": s.kind, "account": s.account or "-"} for s in matrix.subjects],
        "keys": [
            {"label": k.label, "arn": k.arn, "account": k.account, "aliases": list(k.aliases), "state": k.state}
            for k in matrix.keys
        ],
        "rows": rows,
        "reasonRows": reason_rows,
        "reasons": reasons,
        "details": details,
        "explanations": explanations,
        "counts": matrix.counts(),
    }


def render_html(matrix: Matrix, *, title: str = "KMS access matrix", warnings: list[str] | None = None) -> str:
    """The whole page as a string."""
    data = matrix_data(matrix, title)
    data["warnings"] = warnings or []
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        _PAGE.replace("__TITLE__", html.escape(title))
        .replace("__STYLE__", _STYLE)
        .replace("__SCRIPT__", _SCRIPT)
        .replace("__DATA__", payload)
    )


_STYLE = """
body{font:13px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{padding:12px 16px;background:#1d2430;color:#fff}
header h1{font-size:17px;margin:0 0 4px}
#summary{opacity:.85}
#controls{display:flex;gap:12px;flex-wrap:wrap;align-items:center;padding:10px 16px;background:#fff;border-bottom:1px solid #dde1e7}
#controls label{display:flex;gap:6px;align-items:center}
#layout{display:flex;align-items:flex-start}
#wrap{overflow:auto;max-height:calc(100vh - 130px);flex:1}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid #e4e7ec;padding:0}
thead th{position:sticky;top:0;background:#fff;z-index:2;font-weight:600;writing-mode:vertical-rl;transform:rotate(180deg);padding:6px 2px;max-height:180px;white-space:nowrap}
tbody th{position:sticky;left:0;background:#fff;z-index:1;text-align:left;padding:2px 8px;white-space:nowrap;font-weight:500}
td.cell{cursor:pointer;min-width:18px;height:18px;text-align:center}
td.cell span{display:inline-block;width:7px;height:14px;margin:1px 0}
.a{background:#2e9e4f}.c{background:#e8a317}.d{background:#d9dde3}
td.cell.sel{outline:2px solid #1d2430;outline-offset:-2px}
#detail{width:420px;max-height:calc(100vh - 130px);overflow:auto;padding:12px 16px;background:#fff;border-left:1px solid #dde1e7;box-sizing:border-box}
#detail h2{font-size:15px;margin:0 0 6px}
#detail code,#detail pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
#detail pre{white-space:pre-wrap;background:#f3f4f6;padding:6px;border-radius:4px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600}
.badge.allow{background:#2e9e4f}.badge.conditional{background:#e8a317}.badge.deny{background:#8a93a0}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 10px}
.warn{background:#fff4d6;padding:6px 16px;border-bottom:1px solid #f0d58a}
"""

_SCRIPT = r"""
(function(){
const D = JSON.parse(document.getElementById('matrix-data').textContent);
const G = D.groups.length;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const WORD = {a:'allow', c:'conditional', d:'deny'};
function fill(select, values){ for (const v of values){ const o=document.createElement('option'); o.value=v; o.textContent=v; select.appendChild(o);} }
fill($('f-paccount'), [...new Set(D.principals.map(p=>p.account))].sort());
fill($('f-kaccount'), [...new Set(D.keys.map(k=>k.account))].sort());
fill($('f-group'), D.groups);
$('summary').textContent = D.principals.length + ' principals × ' + D.keys.length + ' keys × ' + G + ' groups: ' +
  D.counts.allow + ' allow, ' + D.counts.conditional + ' conditional, ' + D.counts.deny + ' deny';
if (D.warnings.length){ const w=$('warnings'); w.hidden=false; w.textContent='Snapshot incomplete: ' + D.warnings.join('; '); }
let limit = 400;
function render(){
  const pa=$('f-paccount').value, ka=$('f-kaccount').value, gsel=$('f-group').value, text=$('f-text').value.toLowerCase();
  const groups = gsel==='*' ? D.groups.map((g,i)=>i) : [D.groups.indexOf(gsel)];
  const keys = D.keys.map((k,i)=>i).filter(i => ka==='*' || D.keys[i].account===ka);
  const principals = D.principals.map((p,i)=>i).filter(i => (pa==='*' || D.principals[i].account===pa) && (!text || D.principals[i].label.toLowerCase().includes(text)));
  const head = ['<tr><th></th>'];
  for (const k of keys){ const key=D.keys[k]; head.push('<th title="'+esc(key.arn)+'">'+esc(key.aliases[0]||key.label)+'</th>'); }
  head.push('</tr>');
  $('thead').innerHTML = head.join('');
  const body = [];
  for (const p of principals.slice(0, limit)){
    const row = D.rows[p];
    body.push('<tr><th title="'+esc(D.principals[p].kind)+' in '+esc(D.principals[p].account)+'">'+esc(D.principals[p].label)+'</th>');
    for (const k of keys){
      const spans = groups.map(g => '<span class="'+row[k*G+g]+'"></span>').join('');
      const best = groups.map(g=>row[k*G+g]).sort().join('');
      body.push('<td class="cell" data-p="'+p+'" data-k="'+k+'" data-g="'+(groups.length===1?groups[0]:-1)+'" title="'+esc(best)+'">'+spans+'</td>');
    }
    body.push('</tr>');
  }
  $('tbody').innerHTML = body.join('');
  $('more').hidden = principals.length <= limit;
  $('more').textContent = 'show all ' + principals.length + ' principals';
}
function explainOne(p,k,g){
  const code = D.rows[p][k*G+g];
  const out = ['<h3>'+esc(D.groups[g])+' <span class="badge '+WORD[code]+'">'+WORD[code]+'</span></h3>'];
  if (code==='d'){
    out.push('<p>'+esc(D.reasons[parseInt(D.reasonRows[p][k*G+g], 36)] || 'denied')+'</p>');
    return out.join('');
  }
  const e = D.explanations[D.details[p+','+k+','+g]];
  if (e.path){
    out.push('<p><b>via roles:</b> <code class="path">'+esc(e.path)+'</code></p><ul>');
    for (const h of e.hops) out.push('<li>'+esc(h[0])+' assumes '+esc(h[1])+': '+esc(h[2])+(h[3]?' only if <code>'+esc(h[3])+'</code>':'')+'</li>');
    out.push('</ul>');
  }
  if (e.allowed.length) out.push('<p><b>allowed:</b> '+e.allowed.map(esc).join(', ')+'</p>');
  for (const c of e.conditional) out.push('<p><b>'+esc(c[0])+'</b> only if <code class="residual">'+esc(c[1])+'</code></p>');
  out.push('<p><b>explanation for '+esc(e.action)+':</b></p><pre>'+esc(e.lines.join('\n'))+'</pre>');
  for (const n of e.notes) out.push('<p>note: '+esc(n)+'</p>');
  return out.join('');
}
function explain(td){
  document.querySelectorAll('td.cell.sel').forEach(c=>c.classList.remove('sel'));
  td.classList.add('sel');
  const p=+td.dataset.p, k=+td.dataset.k, g=+td.dataset.g;
  const key=D.keys[k];
  const parts=['<h2>'+esc(D.principals[p].label)+' → '+esc(key.aliases[0]||key.label)+'</h2>',
    '<p><code>'+esc(key.arn)+'</code> ('+esc(key.state)+')</p>'];
  const groups = g<0 ? D.groups.map((x,i)=>i) : [g];
  for (const i of groups) parts.push(explainOne(p,k,i));
  $('detail').innerHTML = parts.join('');
}
$('tbody').addEventListener('click', (ev) => { const td = ev.target.closest('td.cell'); if (td) explain(td); });
for (const id of ['f-paccount','f-kaccount','f-group']) $(id).addEventListener('change', render);
$('f-text').addEventListener('input', render);
$('more').addEventListener('click', () => { limit = Infinity; render(); });
render();
document.body.dataset.ready = '1';
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>__TITLE__</title><style>__STYLE__</style></head>
<body>
<header><h1>__TITLE__</h1><div id="summary"></div></header>
<div id="warnings" class="warn" hidden></div>
<div id="controls">
<label>principal account <select id="f-paccount"><option value="*">all</option></select></label>
<label>key account <select id="f-kaccount"><option value="*">all</option></select></label>
<label>action group <select id="f-group"><option value="*">all</option></select></label>
<label>principal <input id="f-text" type="search" placeholder="filter by name"></label>
<span class="legend"><span class="a"></span>allow<span class="c"></span>allow only if…<span class="d"></span>deny</span>
<button id="more" hidden></button>
</div>
<div id="layout"><div id="wrap"><table id="matrix"><thead id="thead"></thead><tbody id="tbody"></tbody></table></div>
<aside id="detail"><p>Click a cell to see why: the deciding statements, the residual condition and the assumption path.
With all groups shown, each cell has four bars: administer, crypto, grant, read.</p></aside></div>
<script id="matrix-data" type="application/json">__DATA__</script>
<script>__SCRIPT__</script>
</body></html>
"""
