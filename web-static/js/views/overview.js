// Overview: the topology, and the switches (state, ports in use, traffic), cables (state,
// impairments) and stacks, with switch creation and deletion.
import { del, get, name, post } from "../api.js";
import { RateMeter, format, h, s, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { blockedCables, drawTopology, topologySignature } from "../topology.js";

const rates = new RateMeter();

export function mount(container) {
  const svg = s("svg", { class: "topology", role: "img", "aria-label": "Topology: switches, cables and stacks" });
  const switches = table("Switches", ["Switch", "State", "Ports in use", "Receive", "Transmit", ""], {}, "No switches yet.");
  const cables = table("Cables", ["Cable", "Ends", "State", "Impairments (a→b)"], {}, "No cables yet.");
  const stacks = table("Stacks", ["Stack", "Kind", "Interfaces", "Addresses"], {}, "No stacks yet.");
  const createForm = h("form", { class: "inline-form", "aria-label": "Create a switch" },
    h("label", {}, "Name ", h("input", { name: "name", required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,62}", size: 14, autocomplete: "off" })),
    h("label", {}, "Ports ", h("input", { name: "ports", type: "number", min: 1, max: 4096, value: 32, class: "narrow" })),
    h("button", { type: "submit" }, "Create switch"));
  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(createForm);
    act(async () => {
      await post("/v1/switches", { name: data.get("name"), ports: Number(data.get("ports")) });
      createForm.reset();
    });
  });
  container.append(
    h("h1", { class: "visually-hidden" }, "Overview"),
    h("div", { class: "overview" },
      h("section", { class: "panel topology-panel", "aria-labelledby": "topology-title" }, h("h2", { id: "topology-title" }, "Topology"), svg),
      h("section", { class: "panel", "aria-labelledby": "switches-title" }, h("h2", { id: "switches-title" }, "Switches"), createForm, switches.element),
      h("section", { class: "panel", "aria-labelledby": "cables-title" }, h("h2", { id: "cables-title" }, "Cables"), cables.element),
      h("section", { class: "panel", "aria-labelledby": "stacks-title" }, h("h2", { id: "stacks-title" }, "Stacks"), stacks.element)));

  let drawn = null;
  return {
    dispose() {},
    async refresh() {
      const [switchList, cableList, stackList] = await Promise.all([get("/v1/switches"), get("/v1/cables"), get("/v1/stacks")]);
      const metrics = await Promise.all(switchList.switches.map((sw) =>
        sw.state === "running" ? get(`/v1/switches/${name(sw.name)}/metrics`).catch(() => null) : null));
      const blocked = await blockedCables(switchList.switches, cableList.cables);
      const signature = topologySignature(switchList.switches, cableList.cables, stackList.stacks, blocked);
      if (signature !== drawn) {
        drawTopology(svg, switchList.switches, cableList.cables, stackList.stacks, undefined, blocked);
        drawn = signature;
      }
      syncRows(switches.tbody, switchList.switches, (sw) => sw.name, (sw) => {
        const totals = metrics[switchList.switches.indexOf(sw)]?.totals;
        const rate = totals ? rates.update(sw.name, totals, ["rx_bytes", "tx_bytes"]) : {};
        return [
          { sig: sw.name, node: () => h("a", { href: `#/switches/${name(sw.name)}` }, sw.name) },
          { sig: sw.state, node: () => h("span", { class: `state ${sw.state}` }, sw.state) },
          `${sw.ports_in_use ?? 0} / ${sw.ports}`,
          format.bits(rate.rx_bytes === null || rate.rx_bytes === undefined ? null : rate.rx_bytes * 8),
          format.bits(rate.tx_bytes === null || rate.tx_bytes === undefined ? null : rate.tx_bytes * 8),
          { sig: `delete ${sw.name}`, node: () => h("button", { type: "button", class: "danger", "aria-label": `Delete switch ${sw.name}`,
            onclick: () => { if (confirm(`Delete switch ${sw.name}? Its clients are unplugged.`)) act(() => del(`/v1/switches/${name(sw.name)}`)); } }, "Delete") },
        ];
      });
      syncRows(cables.tbody, cableList.cables, (cable) => cable.name, (cable) => [
        { sig: cable.name, node: () => h("a", { href: `#/cables/${name(cable.name)}` }, cable.name) },
        `${endText(cable.a)} ↔ ${endText(cable.b)}`,
        { sig: cable.cut ? "cut" : cable.state, node: () => h("span", { class: `state ${cable.cut ? "cut" : cable.state}` }, cable.cut ? "cut" : cable.state) },
        impairmentText(cable.impairments && cable.impairments.a_to_b),
      ]);
      syncRows(stacks.tbody, stackList.stacks, (stack) => stack.name, (stack) => [
        { sig: stack.name, node: () => h("a", { href: `#/stacks/${name(stack.name)}` }, stack.name) },
        `${stack.kind}${stack.mode ? ` (${stack.mode})` : ""}`,
        (stack.interfaces || []).map((i) => `${i.name} → ${i.switch}${i.port ? `:${i.port}` : ""}`).join(", "),
        (stack.interfaces || []).flatMap((i) => i.live_addresses || []).filter((a) => !a.startsWith("fe80")).join(", ") || "–",
      ]);
    },
  };
}

export function endText(end) {
  if (!end) return "?";
  if (end.switch) return end.port ? `${end.switch}:${end.port}` : end.switch;
  const remote = end.remote || {};
  return remote.listen ? `listening on ${remote.listen}` : remote.connect ? `remote ${remote.connect}` : "remote";
}

export function impairmentText(impairments) {
  if (!impairments) return "–";
  const parts = [];
  if (impairments.delay_ms) parts.push(`delay ${impairments.delay_ms} ms`);
  if (impairments.jitter_ms) parts.push(`jitter ${impairments.jitter_ms} ms`);
  if (impairments.loss_pct) parts.push(`loss ${impairments.loss_pct}%`);
  if (impairments.dup_pct) parts.push(`dup ${impairments.dup_pct}%`);
  if (impairments.rate_kbit) parts.push(`${impairments.rate_kbit} kbit/s`);
  if (impairments.mtu) parts.push(`mtu ${impairments.mtu}`);
  return parts.join(", ") || "none";
}
