/// The page of `HTMLReport`: inline CSS and script, the data in place of
/// `/*DATA*/null`. The script's explanation text follows `Verdict.explanation`
/// line for line; the CLI tests compare the two in a browser.
enum HTMLReportPage {
    static let template = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netpol report</title>
<style>
  html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; color: #222; }
  body { display: flex; flex-direction: column; }
  header { padding: 6px 10px; border-bottom: 1px solid #ccc; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 15px; margin: 0; }
  .legend span { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin: 0 3px 0 8px; border: 1px solid #999; }
  main { flex: 1; display: flex; min-height: 0; }
  #grid { position: relative; flex: 1; min-width: 0; }
  #grid canvas { position: absolute; left: 0; top: 0; }
  #scroller { position: absolute; inset: 0; overflow: auto; }
  #explanation { width: 46ch; border-left: 1px solid #ccc; padding: 8px; overflow: auto; white-space: pre-wrap; font: 12px ui-monospace, monospace; margin: 0; }
  input[type=search] { width: 22em; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <label>Port <select id="port"></select></label>
  <input id="filter" type="search" placeholder="filter: namespace, name or label (app=web)">
  <span id="count"></span>
  <span class="legend" id="legend"></span>
</header>
<main>
  <div id="grid"><canvas id="canvas"></canvas><div id="scroller"><div id="spacer"></div></div></div>
  <pre id="explanation">Click a cell to see why it is allowed or denied.</pre>
</main>
<script>
"use strict";
const DATA = /*DATA*/null;
const CELL = 14, LEFT = 240, TOP = 150;
// A matrix with audited policies has a second side: them enforced.
const AUDIT = DATA.mode === "matrix" && DATA.sides.length === 2;
const COLOURS = DATA.mode === "diff"
  ? { opened: "#1e9e3a", closed: "#d32f2f", allowed: "#d9d9d9", denied: "#f4f4f4" }
  : { allowed: "#43a047", denied: "#e53935", wouldDeny: "#fbc02d", wouldAllow: "#8e24aa" };
const LEGEND = DATA.mode === "diff"
  ? [["opened", "opened"], ["closed", "closed"], ["allowed", "allowed on both sides"], ["denied", "denied on both sides"]]
  : [["allowed", "allowed"], ["denied", "denied"]].concat(AUDIT
    ? [["wouldDeny", "allowed, denied if audited policies were enforced"], ["wouldAllow", "denied, allowed if audited policies were enforced"]] : []);

const bytesCache = new Map();
function bytes(text) {
  let value = bytesCache.get(text);
  if (!value) {
    const raw = atob(text);
    value = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) value[i] = raw.charCodeAt(i);
    bytesCache.set(text, value);
  }
  return value;
}
function bit(text, index) { return (bytes(text)[index >> 3] >> (index & 7)) & 1; }

/// The engine's verdict of a cell on one side: a pod to itself is always allowed.
function allowed(side, portIndex, from, to) {
  const s = side.positions[from], d = side.positions[to];
  if (s === d) return true;
  const port = side.tables.ports[portIndex];
  return bit(port.cells, port.sourceClasses[s] * port.destinationClassCount + port.destinationClasses[d]) === 1;
}

// The explanation of a cell, laid out as Verdict.explanation lays it out.
const FAMILY = { "4": "IPv4", "6": "IPv6" };
function explain(side, portIndex, from, to) {
  const T = side.tables, P = T.ports[portIndex];
  const s = side.positions[from], d = side.positions[to];
  const source = T.pods[s], destination = T.pods[d];
  const named = !/^[0-9]+$/.test(P.port);
  const resolved = P.resolved[T.profiles[d]];
  const family = [...T.families[d]].find(f => T.families[s].includes(f)) ?? null;
  let head = `${source} -> ${destination}, ${P.protocol} port ${P.port}`;
  if (named && resolved !== null) head += ` (${resolved})`;
  if (family !== null) head += ` over ${FAMILY[family]}`;
  if (s === d) return `${head}: ALLOWED\n  traffic from a pod to itself is always allowed`;
  const profile = T.profiles[d];
  // The first rule of a tier's policies for the subject that matches; null
  // when the tier has no policy with rules for it in this direction.
  const tierOf = (tier, direction, subject, peer) => {
    const ingress = direction === "ingress";
    const numbers = T.tierSubjects[tier + (ingress ? "Ingress" : "Egress")][subject];
    if (numbers.length === 0) return null;
    for (const number of numbers) {
      const policy = T.clusterPolicies[number];
      const rules = ingress ? policy.ingress : policy.egress;
      for (let index = 0; index < rules.length; index++) {
        if (family === null || resolved === null) continue;
        const entry = rules[index].peers.findIndex(sets => bit(T.sets[sets[family === "4" ? 0 : 1]], peer) === 1);
        if (entry < 0) continue;
        const code = (ingress ? P.clusterIngressProtocols : P.clusterEgressProtocols)[number][index][profile];
        if (code === -2) continue;
        const tied = numbers.filter(n => n !== number && T.clusterPolicies[n].priority === policy.priority).map(n => T.clusterPolicies[n].name);
        return { numbers, match: { policy, direction, index, name: rules[index].name, action: rules[index].action, peer: entry, protocol: code === -1 ? "any" : code, tied } };
      }
    }
    return { numbers, match: null };
  };
  const decides = tier => tier !== null && tier.match !== null && tier.match.action !== "Pass";
  const judge = (direction, subject, peer) => {
    const ingress = direction === "ingress";
    const admin = tierOf("admin", direction, subject, peer);
    if (decides(admin)) return { direction, admin, baseline: null, decidedBy: admin.match, isolating: [], rules: [], outcome: admin.match.action === "Accept" ? "allowed" : "denied" };
    const isolating = ingress ? T.isolatingIngress[subject] : T.isolatingEgress[subject];
    const rules = [];
    for (const number of isolating) {
      const policy = T.policies[number];
      (ingress ? policy.ingress : policy.egress).forEach((rule, index) => {
        let peerMatch = null;
        if (rule.peers.length === 0) peerMatch = "any";
        else if (family !== null) {
          const entry = rule.peers.findIndex(sets => bit(T.sets[sets[family === "4" ? 0 : 1]], peer) === 1);
          if (entry >= 0) peerMatch = entry;
        }
        let portMatch = null;
        if (resolved !== null) {
          const code = (ingress ? P.ingressPorts : P.egressPorts)[number][index][profile];
          portMatch = code === -1 ? "any" : code === -2 ? null : code;
        }
        rules.push({ policy: number, index, peer: peerMatch, port: portMatch });
      });
    }
    if (isolating.length > 0) {
      const allows = rules.some(r => r.peer !== null && r.port !== null);
      return { direction, admin, baseline: null, decidedBy: "networkPolicy", isolating, rules, outcome: allows ? "allowed" : "denied" };
    }
    const baseline = tierOf("baseline", direction, subject, peer);
    if (decides(baseline)) return { direction, admin, baseline, decidedBy: baseline.match, isolating, rules, outcome: baseline.match.action === "Accept" ? "allowed" : "denied" };
    return { direction, admin, baseline, decidedBy: "default", isolating, rules, outcome: "notIsolated" };
  };
  const egress = judge("egress", s, d), ingress = judge("ingress", d, s);
  const sideAllows = side => side.outcome !== "denied";
  const verdict = resolved !== null && family !== null && sideAllows(egress) && sideAllows(ingress);
  const lines = [`${head}: ${verdict ? "ALLOWED" : "DENIED"}`];
  if (resolved === null && named) lines.push(`  ${destination} has no ${P.protocol} container port named ${P.port}: nothing can reach it on that port`);
  if (family === null) lines.push(`  ${source} and ${destination} share no address family (a pod without an IP, or a terminating pod, has none)`);
  const describe = (match, field, all) => match === "any" ? all : `${field}[${match}]`;
  const tierLines = (tier, name, other) => {
    if (tier === null) return [];
    const result = [`  ${name} tier: ` + tier.numbers.map(n => `${T.clusterPolicies[n].name} (priority ${T.clusterPolicies[n].priority})`).join(", ")];
    const m = tier.match;
    if (m === null) return result.concat([`    no rule matches ${other}: the next layer decides`]);
    const ingress = m.direction === "ingress";
    const ruleName = m.name === "" ? "" : ` "${m.name}"`;
    const protocols = m.protocol === "any" ? "all traffic" : `protocols[${m.protocol}]`;
    let effect = m.action;
    if (m.action === "Accept" && !ingress) effect = "Accept (the destination's ingress still decides)";
    if (m.action === "Pass") effect = name === "Admin" ? "Pass (on to NetworkPolicy)" : "Pass (on to the default: allowed)";
    result.push(`    ${m.policy.name} spec.${ingress ? "ingress" : "egress"}[${m.index}]${ruleName} matches (${ingress ? "from" : "to"}[${m.peer}], ${protocols}): ${effect}`);
    if (m.tied.length > 0) result.push(`    ${[m.policy.name].concat(m.tied).sort().join(", ")} share priority ${m.policy.priority}: upstream leaves their order undefined; netpol checks them by name`);
    return result;
  };
  const sideLines = (side, endpoint, other) => {
    const ingress = side.direction === "ingress";
    const title = ingress ? `Ingress to ${endpoint}` : `Egress from ${endpoint}`;
    const field = ingress ? "ingress" : "egress", peers = ingress ? "from" : "to";
    const namespace = endpoint.split("/")[0];
    const admin = tierLines(side.admin, "Admin", other), baseline = tierLines(side.baseline, "Baseline", other);
    if (side.decidedBy !== "networkPolicy" && side.decidedBy !== "default") {
      const tier = side.decidedBy.policy.tier;
      const context = tier === "Admin" ? "NetworkPolicy and the Baseline tier are skipped" : `no NetworkPolicy in ${namespace} selects it for ${field}`;
      return [`${title}: ${side.outcome === "allowed" ? "allowed" : "DENIED"} by the ${tier} tier`].concat(admin, baseline, [`  ${context}`]);
    }
    if (side.decidedBy === "default") {
      return [`${title}: not isolated (no NetworkPolicy in ${namespace} selects it for ${field})`].concat(admin, baseline);
    }
    const isolatedBy = "  isolated by: " + side.isolating.map(n => T.policies[n].name).join(", ");
    if (side.outcome === "allowed") {
      return [`${title}: allowed`, isolatedBy].concat(admin, side.rules.filter(r => r.peer !== null && r.port !== null).map(r =>
        `  allowed by ${T.policies[r.policy].name} spec.${field}[${r.index}] (${describe(r.peer, peers, ingress ? "all sources" : "all destinations")}, ${describe(r.port, "ports", "all ports")})`));
    }
    const result = [`${title}: DENIED`, isolatedBy].concat(admin);
    for (const number of side.isolating) {
      const name = T.policies[number].name;
      const rules = side.rules.filter(r => r.policy === number);
      if (rules.length === 0) result.push(`  ${name} has no ${field} rules: it only denies`);
      for (const r of rules) {
        const peerMiss = `no ${peers} entry matches ${other}`, portMiss = `no ports entry matches ${P.protocol}/${P.port}`;
        let reason;
        if (r.peer === null && r.port === null) reason = `${peerMiss}, and ${portMiss}`;
        else if (r.peer === null) reason = `${peerMiss} (the port would match: ${describe(r.port, "ports", "all ports")})`;
        else reason = `${portMiss} (the peer would match: ${describe(r.peer, peers, "all peers")})`;
        result.push(`  ${name} spec.${field}[${r.index}]: ${reason}`);
      }
    }
    return result;
  };
  return lines.concat(sideLines(egress, source, destination), sideLines(ingress, destination, source)).join("\n");
}

// The grid: the pods that pass the filter, grouped by namespace (the data is sorted).
let shown = DATA.pods.map((_, i) => i);
let portIndex = 0;
const canvas = document.getElementById("canvas"), scroller = document.getElementById("scroller");
const spacer = document.getElementById("spacer"), grid = document.getElementById("grid");
const context = canvas.getContext("2d");

function colour(from, to) {
  if (AUDIT) {
    const now = allowed(DATA.sides[0], portIndex, from, to), then = allowed(DATA.sides[1], portIndex, from, to);
    if (now !== then) return now ? COLOURS.wouldDeny : COLOURS.wouldAllow;
  }
  if (DATA.mode !== "diff") return allowed(DATA.sides[0], portIndex, from, to) ? COLOURS.allowed : COLOURS.denied;
  const before = allowed(DATA.sides[0], portIndex, from, to), after = allowed(DATA.sides[1], portIndex, from, to);
  if (before !== after) return after ? COLOURS.opened : COLOURS.closed;
  return after ? COLOURS.allowed : COLOURS.denied;
}

function namespaceOf(i) { return DATA.pods[i].split("/")[0]; }

function draw() {
  const width = grid.clientWidth, height = grid.clientHeight, ratio = window.devicePixelRatio || 1;
  if (canvas.width !== width * ratio || canvas.height !== height * ratio) {
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
  }
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  const x0 = scroller.scrollLeft, y0 = scroller.scrollTop;
  const firstColumn = Math.floor(x0 / CELL), firstRow = Math.floor(y0 / CELL);
  const columns = Math.min(shown.length, firstColumn + Math.ceil((width - LEFT) / CELL) + 1);
  const rows = Math.min(shown.length, firstRow + Math.ceil((height - TOP) / CELL) + 1);
  for (let row = firstRow; row < rows; row++) {
    for (let column = firstColumn; column < columns; column++) {
      context.fillStyle = colour(shown[row], shown[column]);
      context.fillRect(LEFT + column * CELL - x0, TOP + row * CELL - y0, CELL - 1, CELL - 1);
    }
  }
  // Namespace boundaries, then the labels over a white margin.
  context.fillStyle = "#333";
  for (let k = Math.max(Math.min(firstRow, firstColumn), 1); k < Math.max(rows, columns); k++) {
    if (k < shown.length && namespaceOf(shown[k]) !== namespaceOf(shown[k - 1])) {
      if (k >= firstRow && k < rows) context.fillRect(0, TOP + k * CELL - y0 - 1, LEFT + shown.length * CELL - x0, 1);
      if (k >= firstColumn && k < columns) context.fillRect(LEFT + k * CELL - x0 - 1, 0, 1, TOP + shown.length * CELL - y0);
    }
  }
  context.fillStyle = "#fff";
  context.fillRect(0, 0, LEFT, height);
  context.fillRect(0, 0, width, TOP);
  context.fillStyle = "#222";
  context.font = "11px system-ui, sans-serif";
  context.textBaseline = "middle";
  for (let row = firstRow; row < rows; row++) {
    const y = TOP + row * CELL - y0 + CELL / 2;
    if (y > TOP) context.fillText(DATA.pods[shown[row]], 4, y, LEFT - 8);
  }
  for (let column = firstColumn; column < columns; column++) {
    const x = LEFT + column * CELL - x0 + CELL / 2;
    if (x < LEFT) continue;
    context.save();
    context.translate(x, TOP - 4);
    context.rotate(-Math.PI / 2);
    context.fillText(DATA.pods[shown[column]], 0, 0, TOP - 8);
    context.restore();
  }
  context.fillText("from \u2193  to \u2192", 4, TOP - 10);
}

function layout() {
  spacer.style.width = (LEFT + shown.length * CELL) + "px";
  spacer.style.height = (TOP + shown.length * CELL) + "px";
  document.getElementById("count").textContent = `${shown.length} of ${DATA.pods.length} pods`;
  draw();
}

/// Every word must occur in the pod's namespace/name or in one of its labels.
function applyFilter(text) {
  const words = text.toLowerCase().split(/\s+/).filter(w => w.length > 0);
  shown = [];
  DATA.pods.forEach((name, i) => {
    const haystack = name.toLowerCase() + "\n" + DATA.labels[i].toLowerCase();
    if (words.every(w => haystack.includes(w))) shown.push(i);
  });
  layout();
}

/// The grid pods at a point of the page, or null outside the cells.
function cellAt(clientX, clientY) {
  const box = grid.getBoundingClientRect();
  const x = clientX - box.left, y = clientY - box.top;
  if (x < LEFT || y < TOP) return null;
  const column = Math.floor((x - LEFT + scroller.scrollLeft) / CELL), row = Math.floor((y - TOP + scroller.scrollTop) / CELL);
  if (row >= shown.length || column >= shown.length) return null;
  return { from: shown[row], to: shown[column] };
}

/// A cell of a matrix with audited policies: its explanation, then, when the
/// audited policies would change it, an `audit:` block with their verdict.
function showAudit(from, to) {
  const [enforced, audit] = DATA.sides;
  let text = explain(enforced, portIndex, from, to);
  const then = allowed(audit, portIndex, from, to);
  if (then !== allowed(enforced, portIndex, from, to)) {
    const lines = explain(audit, portIndex, from, to).split("\n").slice(1);
    text += `\naudit: ${then ? "ALLOWED" : "DENIED"} if the audited policies were enforced\n` + lines.map(line => "  " + line).join("\n");
  }
  document.getElementById("explanation").textContent = text;
}

function show(from, to) {
  if (AUDIT) return showAudit(from, to);
  const text = DATA.sides.map(side => (side.name ? side.name + ":\n" : "") + explain(side, portIndex, from, to)).join("\n\n");
  document.getElementById("explanation").textContent = text;
}

scroller.addEventListener("scroll", () => requestAnimationFrame(draw));
window.addEventListener("resize", draw);
scroller.addEventListener("click", event => {
  const cell = cellAt(event.clientX, event.clientY);
  if (cell) show(cell.from, cell.to);
});
document.getElementById("filter").addEventListener("input", event => applyFilter(event.target.value));
const select = document.getElementById("port");
DATA.sides[0].tables.ports.forEach((port, i) => select.add(new Option(port.label, String(i))));
select.addEventListener("change", () => { portIndex = Number(select.value); draw(); });
document.getElementById("title").textContent = DATA.title;
document.getElementById("legend").innerHTML = LEGEND.map(([key, text]) => `<span style="background:${COLOURS[key]}"></span>${text}`).join("");

/// For scripts and tests: where the cell of two pods (namespace/name) is drawn, in page coordinates.
window.netpolReport = {
  cellCentre(from, to) {
    const row = shown.indexOf(DATA.pods.indexOf(from)), column = shown.indexOf(DATA.pods.indexOf(to));
    if (row < 0 || column < 0) return null;
    const box = grid.getBoundingClientRect();
    return { x: box.left + LEFT + column * CELL - scroller.scrollLeft + CELL / 2, y: box.top + TOP + row * CELL - scroller.scrollTop + CELL / 2 };
  },
};
layout();
</script>
</body>
</html>
"""#
}
