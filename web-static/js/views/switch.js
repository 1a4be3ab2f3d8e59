// One switch: its ports with live counters and rates, spanning tree role and state (enable, disable, kick,
// capture, set VLANs), its traffic over the last minutes (the whole switch or one port), the root bridge,
// the MAC table with a filter, and VLAN membership as a port × VLAN matrix (create and delete VLANs).
import { del, get, name, patch, post } from "../api.js";
import { RateMeter, format, h, replace, s, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { captureForm } from "../capture.js";
import { TrafficHistory, drawTraffic } from "../traffic-plot.js";

const rates = new RateMeter();

/// A port's counters as a traffic reading: received (from what is plugged in) and sent, drops by cause.
function reading(counters) {
  return { frames: { rx: counters.rx_frames, tx: counters.tx_frames }, bytes: { rx: counters.rx_bytes, tx: counters.tx_bytes },
    drops: { ...(counters.drops || {}) } };
}

/// The sum of several readings, cause by cause.
function sum(readings) {
  const total = { frames: { rx: 0, tx: 0 }, bytes: { rx: 0, tx: 0 }, drops: {} };
  for (const one of readings) {
    for (const kind of ["frames", "bytes"]) for (const key of ["rx", "tx"]) total[kind][key] += one[kind][key] || 0;
    for (const [cause, count] of Object.entries(one.drops)) total.drops[cause] = (total.drops[cause] || 0) + count;
  }
  return total;
}

function spanningTreeText(tree) {
  if (!tree || !tree.enabled) return "spanning tree off · ";
  if (!tree.root_id) return "spanning tree on · ";
  return `spanning tree: root bridge ${tree.root_id}${tree.is_root ? " (this switch)" : ""} · root port ${tree.root_port ?? "none"}`
    + ` · root path cost ${format.count(tree.root_path_cost)} · `;
}

function vlanList(text) {
  return String(text).split(/[\s,]+/).filter(Boolean).map(Number);
}

export function mount(container, switchName) {
  const base = `/v1/switches/${name(switchName)}`;
  const summary = h("p", { class: "summary" }, "Loading…");
  const ports = table(`Ports of ${switchName}`, ["Port", "Link", "Enabled", "VLANs (untagged · tagged)", "Spanning tree", "Client", "Rx frames", "Tx frames",
    "Rx rate", "Tx rate", "Drops", "Actions"], { class: "ports" });
  const macs = table(`MAC table of ${switchName}`, ["MAC", "VLAN", "Port", "Age (s)"], { class: "macs" }, "No MAC entries.");
  const filter = h("input", { type: "search", placeholder: "MAC, port or VLAN", "aria-label": "Filter the MAC table", class: "filter" });
  const macCount = h("span", { class: "muted" });
  const matrix = h("div", { class: "table-wrap" });
  const portChoice = h("input", { name: "port", type: "number", min: 0, required: true, class: "narrow" });
  const vlanForm = h("form", { class: "inline-form", "aria-label": "Set a port's VLANs" },
    h("label", {}, "Port ", portChoice),
    h("label", {}, "Untagged ", h("input", { name: "untagged", placeholder: "none", class: "narrow", inputmode: "numeric" })),
    h("label", {}, "Tagged ", h("input", { name: "tagged", placeholder: "e.g. 10, 20", size: 10 })),
    h("button", { type: "submit" }, "Set VLANs"));
  vlanForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(vlanForm);
    const untagged = String(data.get("untagged")).trim();
    act(() => patch(`${base}/ports/${Number(data.get("port"))}`, {
      untagged_vlan: untagged === "" || untagged === "none" ? null : Number(untagged), tagged_vlans: vlanList(data.get("tagged")),
    }));
  });
  const capturePort = h("input", { name: "port", type: "number", min: 0, value: 1, required: true, class: "narrow" });
  const capture = captureForm({ label: "Capture a port", target: { label: "Capture port", input: capturePort },
    url: (port, query) => `${base}/ports/${Number(port)}/capture?${query}`, filename: (port) => `${switchName}-port${port}.pcap` });
  const histories = new Map();
  const plotChoice = h("select", { name: "traffic-of", "aria-label": "Traffic of" }, h("option", { value: "all" }, "all ports"));
  const plot = s("svg", { class: "traffic", role: "img", "aria-label": `Traffic of ${switchName} over the last minutes` });
  const drawPlot = () => {
    const history = histories.get(plotChoice.value);
    if (!history) return;
    plot.setAttribute("aria-label", `Traffic of ${plotChoice.value === "all" ? switchName : `port ${plotChoice.value} of ${switchName}`} over the last minutes`);
    drawTraffic(plot, history, [["rx", "received"], ["tx", "sent"]]);
  };
  plotChoice.addEventListener("change", drawPlot);
  const newVLAN = h("form", { class: "inline-form", "aria-label": "Create a VLAN" },
    h("label", {}, "VLAN id ", h("input", { name: "vid", type: "number", min: 1, max: 4094, required: true, class: "narrow" })),
    h("button", { type: "submit" }, "Create VLAN"));
  newVLAN.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => { await post(`${base}/vlans`, { vid: Number(new FormData(newVLAN).get("vid")) }); newVLAN.reset(); });
  });

  container.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Overview"), " / switch"),
    h("h1", {}, `Switch ${switchName}`),
    summary,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => act(() => post(`${base}/restart`)) }, "Restart worker"),
      h("button", { type: "button", class: "danger", onclick: () => {
        if (confirm(`Delete switch ${switchName}?`)) act(async () => { await del(base); location.hash = "#/"; });
      } }, "Delete switch")),
    h("section", { class: "panel", "aria-labelledby": "ports-title" }, h("h2", { id: "ports-title" }, "Ports"), ports.element, vlanForm, capture.element),
    h("section", { class: "panel", "aria-labelledby": "traffic-title" },
      h("h2", { id: "traffic-title" }, "Traffic ", h("label", { class: "muted" }, "of ", plotChoice)), plot),
    h("div", { class: "columns" },
      h("section", { class: "panel", "aria-labelledby": "macs-title" },
        h("h2", { id: "macs-title" }, "MAC table ", macCount), filter, macs.element),
      h("section", { class: "panel", "aria-labelledby": "vlans-title" },
        h("h2", { id: "vlans-title" }, "VLANs"), matrix, newVLAN)));

  let macEntries = [];
  const showMACs = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = macEntries.filter((entry) => !needle || [entry.mac, `port ${entry.port}`, String(entry.port), `vlan ${entry.vlan}`]
      .some((text) => text.toLowerCase().includes(needle)));
    macCount.textContent = `(${shown.length} of ${macEntries.length})`;
    syncRows(macs.tbody, shown, (entry) => `${entry.mac}/${entry.vlan}`, (entry) => [entry.mac, entry.vlan, entry.port, entry.age_s]);
  };
  filter.addEventListener("input", showMACs);
  let matrixSignature = null;

  return {
    dispose() {},
    async refresh() {
      const [sw, portList, macList, vlanList] = await Promise.all([
        get(base), get(`${base}/ports?all=true`), get(`${base}/macs`), get(`${base}/vlans`)]);
      replace(summary, h("span", { class: `state ${sw.state}` }, sw.state), ` · ${sw.ports_in_use ?? 0} of ${sw.ports} ports in use · `,
        sw.hub ? "hub mode · " : "", spanningTreeText(sw.stp), "plug in with ", h("code", {}, sw.plug_url || ""));
      portChoice.max = sw.ports;
      capturePort.max = sw.ports;
      const readings = portList.ports.map((port) => [String(port.port), reading(port.counters || {})]);
      for (const [key, one] of [["all", sum(readings.map(([, r]) => r))], ...readings]) {
        if (!histories.has(key)) histories.set(key, new TrafficHistory());
        histories.get(key).add(one);
      }
      if (plotChoice.options.length !== portList.ports.length + 1) {
        const chosen = plotChoice.value;
        plotChoice.replaceChildren(h("option", { value: "all" }, "all ports"),
          ...portList.ports.map((port) => h("option", { value: String(port.port) }, `port ${port.port}`)));
        plotChoice.value = [...plotChoice.options].some((option) => option.value === chosen) ? chosen : "all";
      }
      drawPlot();
      syncRows(ports.tbody, portList.ports, (port) => port.port, (port) => {
        const counters = port.counters || {};
        const rate = rates.update(`${switchName}/${port.port}`, counters, ["rx_frames", "tx_frames", "rx_bytes", "tx_bytes"]);
        const drops = Object.values(counters.drops || {}).reduce((sum, value) => sum + value, 0);
        const client = (port.endpoints || []).map((endpoint) => endpoint.description).join(", ");
        const toggle = port.enabled ? "Disable" : "Enable";
        return [
          String(port.port),
          { sig: port.connected ? "up" : "down", node: () => h("span", { class: `state ${port.connected ? "up" : "down"}` }, port.connected ? "up" : "down") },
          port.enabled ? "yes" : "no",
          `${port.untagged_vlan ?? "none"} · ${(port.tagged_vlans || []).join(", ") || "–"}`,
          // A port with nothing plugged in is the tree's "disabled": nothing to say.
          port.connected && port.stp && port.stp.role
            ? { sig: `${port.stp.role} ${port.stp.state}`, node: () => h("span", { class: `stp ${port.stp.role} ${port.stp.state}` },
              `${port.stp.role} · ${port.stp.state}`) }
            : "–",
          client || "–",
          format.count(counters.rx_frames),
          format.count(counters.tx_frames),
          rate.rx_bytes === null ? "–" : format.bits(rate.rx_bytes * 8),
          rate.tx_bytes === null ? "–" : format.bits(rate.tx_bytes * 8),
          format.count(drops),
          { sig: `${toggle} ${port.connected}`, node: () => h("span", { class: "row-actions" },
            h("button", { type: "button", "data-action": toggle.toLowerCase(), "aria-label": `${toggle} port ${port.port}`,
              onclick: () => act(() => patch(`${base}/ports/${port.port}`, { enabled: !port.enabled })) }, toggle),
            port.connected ? h("button", { type: "button", "data-action": "kick", "aria-label": `Kick the clients of port ${port.port}`,
              onclick: () => act(() => post(`${base}/ports/${port.port}/kick`)) }, "Kick") : null,
            port.connected ? h("button", { type: "button", "data-action": "capture", "aria-label": `Capture port ${port.port}`,
              onclick: () => capture.start(port.port) }, "Capture") : null) },
        ];
      });
      macEntries = macList.macs;
      showMACs();
      const signature = JSON.stringify([sw.ports, vlanList.vlans]);
      if (signature !== matrixSignature) {
        matrixSignature = signature;
        replace(matrix, vlanMatrix(vlanList.vlans, sw.ports, base));
      }
    },
  };
}

/// Rows: ports; columns: VLANs; a cell says U (untagged member) or T (tagged member).
function vlanMatrix(vlans, portCount, base) {
  const membership = vlans.map((vlan) => ({ vid: vlan.vid, untagged: new Set(vlan.untagged), tagged: new Set(vlan.tagged) }));
  const rows = [];
  for (let port = 1; port <= portCount; port++) {
    rows.push(h("tr", {}, h("th", { scope: "row" }, String(port)), membership.map((vlan) => {
      const mark = vlan.untagged.has(port) ? "U" : vlan.tagged.has(port) ? "T" : "";
      return h("td", { class: `member ${mark}`, "aria-label": mark ? `port ${port} ${mark === "U" ? "untagged" : "tagged"} in VLAN ${vlan.vid}` : null }, mark || "·");
    })));
  }
  return h("table", { class: "matrix" },
    h("caption", { class: "visually-hidden" }, "VLAN membership: U untagged, T tagged"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Port"), membership.map((vlan) => h("th", { scope: "col" }, String(vlan.vid),
      vlan.vid === 1 ? null : h("button", { type: "button", class: "tiny", "aria-label": `Delete VLAN ${vlan.vid}`,
        onclick: () => act(() => del(`${base}/vlans/${vlan.vid}`)) }, "×"))))),
    h("tbody", {}, rows));
}

