// The topology as SVG: switches on an ellipse (sorted by name, so positions are stable), cables
// as lines between them (dashed when cut or blocked by the spanning tree, with their delay and loss), stacks as circles beside
// the switches they plug into, and a switch's ports in use as dots. Every node is a link to its
// view, reachable with the keyboard. Redrawn only when what it shows changes. The viewBox grows to
// take in every label (a stack's name below the lowest switch, or above the highest, is never cut).
import { get, name } from "./api.js";
import { s } from "./dom.js";

const width = 800;
const height = 440;

export function topologySignature(switches, cables, stacks, blocked = new Set()) {
  return JSON.stringify([[...blocked].sort(),
    switches.map((sw) => [sw.name, sw.state, sw.ports, sw.ports_in_use]),
    cables.map((cable) => [cable.name, cable.a, cable.b, cable.state, cable.cut, summary(cable)]),
    stacks.map((stack) => [stack.name, stack.kind, (stack.interfaces || []).map((i) => [i.switch, i.state])]),
  ]);
}

/// The cables one of whose ends is a port the spanning tree blocks (alternate or backup). An end
/// given a port says which; one given any port is found by the cable's plug among the switch's ports.
export async function blockedCables(switches, cables) {
  const blocked = new Set();
  for (const sw of switches) {
    const ports = new Set((sw.stp && sw.stp.blocked_ports) || []);
    if (ports.size === 0) continue;
    let plugged = null;
    for (const cable of cables) {
      for (const end of [cable.a, cable.b]) {
        if (!end || end.switch !== sw.name) continue;
        if (end.port === null || end.port === undefined) {
          plugged = plugged || await cablePorts(sw.name);
          if (ports.has(plugged.get(cable.name))) blocked.add(cable.name);
        } else if (ports.has(end.port)) {
          blocked.add(cable.name);
        }
      }
    }
  }
  return blocked;
}

/// cable name → the port of `switchName` its plug holds (a cable's plug says "vsquare-cable: NAME").
async function cablePorts(switchName) {
  const found = new Map();
  const list = await get(`/v1/switches/${name(switchName)}/ports`).catch(() => ({ ports: [] }));
  for (const port of list.ports) {
    for (const endpoint of port.endpoints || []) {
      const match = /^vsquare-cable: (.+)$/.exec(endpoint.description || "");
      if (match) found.set(match[1], port.port);
    }
  }
  return found;
}

function summary(cable) {
  const a = (cable.impairments || {}).a_to_b || {};
  const parts = [];
  if (a.delay_ms) parts.push(`${a.delay_ms} ms`);
  if (a.loss_pct) parts.push(`${a.loss_pct}% loss`);
  if (a.rate_kbit) parts.push(`${a.rate_kbit} kbit/s`);
  return parts.join(" · ");
}

function switchPositions(switches) {
  const positions = new Map();
  const count = switches.length;
  switches.forEach((sw, index) => {
    if (count === 1) { positions.set(sw.name, { x: width / 2, y: height / 2 }); return; }
    const angle = (2 * Math.PI * index) / count - Math.PI / 2;
    positions.set(sw.name, { x: width / 2 + 250 * Math.cos(angle), y: height / 2 + 140 * Math.sin(angle) });
  });
  return positions;
}

/// The area a label covers, roughly (a character is about 0.6 em wide).
function labelBox(x, y, text, size, anchor = "middle") {
  const wide = String(text).length * size * 0.6;
  const left = anchor === "middle" ? x - wide / 2 : anchor === "end" ? x - wide : x;
  return { left, right: left + wide, top: y - size, bottom: y + size * 0.3 };
}

/// `labelOf` turns a member's name into its label (a lab's drawing shows names local to the lab).
/// `blocked` names the cables the spanning tree blocks (drawn dashed).
export function drawTopology(svg, switches, cables, stacks, labelOf = (local) => local, blocked = new Set()) {
  const bounds = { left: 0, right: width, top: 0, bottom: height };
  const cover = (box) => {
    bounds.left = Math.min(bounds.left, box.left);
    bounds.right = Math.max(bounds.right, box.right);
    bounds.top = Math.min(bounds.top, box.top);
    bounds.bottom = Math.max(bounds.bottom, box.bottom);
  };
  const positions = switchPositions(switches);
  const layers = [s("g", { class: "cables" }), s("g", { class: "stacks" }), s("g", { class: "switches" })];

  for (const cable of cables) {
    const a = positions.get(cable.a && cable.a.switch);
    let b = positions.get(cable.b && cable.b.switch);
    if (!a) continue;
    // A remote far end: a short line out of the drawing's centre.
    const remote = !b;
    if (remote) b = { x: a.x + (a.x >= width / 2 ? 90 : -90), y: a.y - 60 };
    const state = cable.cut ? "cut" : cable.state !== "up" ? "down" : blocked.has(cable.name) ? "blocked" : "up";
    const label = [labelOf(cable.name), summary(cable), state === "blocked" ? "blocked" : ""].filter(Boolean).join(" · ");
    cover(labelBox((a.x + b.x) / 2, (a.y + b.y) / 2 - 6, label, 11));
    layers[0].append(s("a", { href: `#/cables/${encodeURIComponent(cable.name)}`, class: `cable ${state}`, "aria-label": `cable ${label}, ${state}` },
      s("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
      s("text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 6, "text-anchor": "middle" }, label),
      remote ? s("text", { x: b.x, y: b.y - 6, "text-anchor": "middle", class: "remote" }, "remote") : null));
  }

  const perSwitch = new Map();
  for (const stack of stacks) {
    for (const [index, iface] of (stack.interfaces || []).entries()) {
      const at = positions.get(iface.switch);
      if (!at) continue;
      const slot = perSwitch.get(iface.switch) || 0;
      perSwitch.set(iface.switch, slot + 1);
      // Stacks fan out away from the centre of the drawing.
      const outward = Math.atan2(at.y - height / 2, at.x - width / 2) || Math.PI / 2;
      const angle = outward + (slot - 1) * 0.55;
      const x = Math.min(width - 30, Math.max(30, at.x + 95 * Math.cos(angle)));
      const y = Math.min(height - 24, Math.max(24, at.y + 75 * Math.sin(angle)));
      const up = iface.state === "running";
      // Neighbours' labels take turns on three rows, so they do not run into each other.
      const labelY = y + (y > at.y ? 30 + 15 * (slot % 3) : -20 - 15 * (slot % 3));
      const label = index === 0 ? labelOf(stack.name) : `${labelOf(stack.name)}/${iface.name}`;
      cover(labelBox(x, labelY, label, 11));
      layers[1].append(s("a", { href: `#/stacks/${encodeURIComponent(stack.name)}`, class: `stack ${stack.kind} ${up ? "up" : "down"}`,
        "aria-label": `stack ${stack.name} (${stack.kind}) ${iface.name} on ${iface.switch}` },
        s("line", { x1: at.x, y1: at.y, x2: x, y2: y }),
        s("circle", { cx: x, cy: y, r: stack.kind === "slirp" ? 16 : 12 }),
        s("text", { x, y: labelY, "text-anchor": "middle" }, label)));
    }
  }

  for (const sw of switches) {
    const { x, y } = positions.get(sw.name);
    const inUse = Math.min(sw.ports_in_use || 0, 16);
    const dots = [];
    for (let port = 0; port < inUse; port++) {
      dots.push(s("circle", { class: "port", cx: x - 52 + 7 * port, cy: y + 15, r: 2.5 }));
    }
    layers[2].append(s("a", { href: `#/switches/${encodeURIComponent(sw.name)}`, class: `switch ${sw.state}`,
      "aria-label": `switch ${sw.name}, ${sw.state}, ${sw.ports_in_use || 0} of ${sw.ports} ports in use` },
      s("rect", { x: x - 60, y: y - 22, width: 120, height: 44, rx: 6 }),
      s("text", { x, y: y - 2, "text-anchor": "middle", class: "name" }, labelOf(sw.name)),
      s("text", { x: x + 56, y: y + 18, "text-anchor": "end", class: "ports" }, `${sw.ports_in_use || 0}/${sw.ports}`),
      dots));
  }
  if (switches.length === 0) {
    layers[2].append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No switches yet: create one below."));
  }
  for (const sw of switches) cover(labelBox(positions.get(sw.name).x, positions.get(sw.name).y - 2, labelOf(sw.name), 13));
  const margin = 8;
  svg.setAttribute("viewBox", [bounds.left - margin, bounds.top - margin, bounds.right - bounds.left + 2 * margin,
    bounds.bottom - bounds.top + 2 * margin].map((n) => Math.round(n)).join(" "));
  svg.replaceChildren(...layers);
}
