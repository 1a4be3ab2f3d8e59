// One switch: its ports with live counters and rates (enable, disable, kick, capture, set VLANs), the MAC
// table with a filter, and VLAN membership as a port × VLAN matrix (create and delete VLANs).
import { del, get, name, patch, post } from "../api.js";
import { RateMeter, format, h, replace, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { captureForm } from "../capture.js";

const rates = new RateMeter();

function vlanList(text) {
  return String(text).split(/[\s,]+/).filter(Boolean).map(Number);
}

export function mount(container, switchName) {
  const base = `/v1/switches/${name(switchName)}`;
  const summary = h("p", { class: "summary" }, "Loading…");
  const ports = table(`Ports of ${switchName}`, ["Port", "Link", "Enabled", "VLANs (untagged · tagged)", "Client", "Rx frames", "Tx frames",
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
        sw.hub ? "hub mode · " : "", "plug in with ", h("code", {}, sw.plug_url || ""));
      portChoice.max = sw.ports;
      capturePort.max = sw.ports;
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

