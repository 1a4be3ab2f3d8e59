// One cable: its ends and state, cut and restore, the impairments of each direction as a form
// that PATCHes only the fields changed, live counters with drops by cause, its traffic over the last
// minutes (each direction, drops stacked by cause), and a capture of what it delivers.
import { del, get, name, patch, post } from "../api.js";
import { RateMeter, format, h, replace, s, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { captureForm } from "../capture.js";
import { endText } from "./overview.js";
import { TrafficHistory, drawTraffic } from "../traffic-plot.js";

const rates = new RateMeter();
const fields = [
  ["delay_ms", "Delay (ms)"], ["jitter_ms", "Jitter (ms)"], ["loss_pct", "Loss (%)"], ["loss_burst", "Loss burst"],
  ["dup_pct", "Duplicates (%)"], ["reorder_pct", "Reorder (%)"], ["rate_kbit", "Bandwidth (kbit/s)"],
  ["queue_frames", "Queue (frames)"], ["mtu", "MTU"], ["ber", "Bit error rate"],
];
const directions = [["a_to_b", "a → b"], ["b_to_a", "b → a"]];

export function mount(container, cableName) {
  const base = `/v1/cables/${name(cableName)}`;
  const summary = h("p", { class: "summary" }, "Loading…");
  const cutButton = h("button", { type: "button" }, "Cut");
  const inputs = {};
  const form = h("form", { class: "impairments", "aria-label": "Impairments" },
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Impairment"), directions.map(([, label]) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, fields.map(([field, label]) => h("tr", {}, h("th", { scope: "row" }, label), directions.map(([direction, directionLabel]) => {
        const input = h("input", { type: "number", step: "any", min: 0, name: `${direction}.${field}`, "aria-label": `${label}, ${directionLabel}`, class: "narrow" });
        inputs[`${direction}.${field}`] = input;
        input.addEventListener("input", () => { input.dataset.dirty = "1"; });
        return h("td", {}, input);
      }))))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply changes"), h("button", { type: "reset" }, "Undo edits")));
  let current = null;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // Only what changed: a direction with no change is left out, a cleared field turns it off (null).
    const body = {};
    for (const [direction] of directions) {
      for (const [field] of fields) {
        const input = inputs[`${direction}.${field}`];
        const before = current ? current[direction][field] : undefined;
        const after = input.value.trim() === "" ? null : Number(input.value);
        if (after === before || (after === null && !before)) continue;
        (body[direction] = body[direction] || {})[field] = after;
      }
    }
    if (Object.keys(body).length === 0) return;
    act(async () => {
      await patch(base, { impairments: body });
      for (const input of Object.values(inputs)) delete input.dataset.dirty;
    });
  });
  form.addEventListener("reset", () => setTimeout(() => {
    for (const input of Object.values(inputs)) delete input.dataset.dirty;
    fillForm();
  }));
  const captureDirection = h("select", { name: "direction" },
    [["both", "both ways"], ...directions].map(([value, label]) => h("option", { value }, label)));
  const capture = captureForm({ label: "Capture the cable", target: { label: "Capture", input: captureDirection },
    url: (direction, query) => { query.set("direction", direction); return `${base}/capture?${query}`; },
    filename: (direction) => `${cableName}-${direction}.pcap` });
  const counters = table(`Counters of ${cableName}`, ["Counter", "a → b", "b → a"], { class: "counters" });
  const history = new TrafficHistory();
  const plot = s("svg", { class: "traffic", role: "img", "aria-label": `Traffic of cable ${cableName} over the last minutes` });

  function fillForm() {
    if (!current) return;
    for (const [direction] of directions) {
      for (const [field] of fields) {
        const input = inputs[`${direction}.${field}`];
        if (input.dataset.dirty || document.activeElement === input) continue;
        const value = current[direction][field];
        input.value = value === null || value === undefined ? "" : String(value);
      }
    }
  }

  container.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Overview"), " / cable"),
    h("h1", {}, `Cable ${cableName}`),
    summary,
    h("div", { class: "actions" }, cutButton,
      h("button", { type: "button", class: "danger", onclick: () => {
        if (confirm(`Delete cable ${cableName}?`)) act(async () => { await del(base); location.hash = "#/"; });
      } }, "Delete cable")),
    h("div", { class: "columns" },
      h("section", { class: "panel", "aria-labelledby": "impairments-title" }, h("h2", { id: "impairments-title" }, "Impairments"), form),
      h("section", { class: "panel", "aria-labelledby": "counters-title" }, h("h2", { id: "counters-title" }, "Counters"), counters.element,
        capture.element)),
    h("section", { class: "panel", "aria-labelledby": "traffic-title" }, h("h2", { id: "traffic-title" }, "Traffic delivered"), plot));
  cutButton.addEventListener("click", () => act(() => post(`${base}/${cutButton.dataset.action}`)));

  return {
    dispose() {},
    async refresh() {
      const [cable, metrics] = await Promise.all([get(base), get(`${base}/metrics`).catch(() => null)]);
      current = cable.impairments;
      const state = cable.cut ? "cut" : cable.state;
      replace(summary, h("span", { class: `state ${state}` }, state), ` · ${endText(cable.a)} ↔ ${endText(cable.b)} · seed ${cable.seed}`);
      cutButton.dataset.action = cable.cut ? "restore" : "cut";
      cutButton.textContent = cable.cut ? "Restore" : "Cut";
      fillForm();
      if (!metrics) return;
      // Delivered frames each way; drops by cause and direction.
      const drops = {};
      for (const [direction, label] of directions) {
        for (const [cause, count] of Object.entries(metrics[direction].drops || {})) drops[`${cause} ${label}`] = count;
      }
      history.add({ frames: Object.fromEntries(directions.map(([direction]) => [direction, metrics[direction].frames_out])),
        bytes: Object.fromEntries(directions.map(([direction]) => [direction, metrics[direction].bytes_out])), drops });
      drawTraffic(plot, history, directions);
      const rows = [
        ["frames_in", "Frames in"], ["frames_out", "Frames out"], ["bytes_in", "Bytes in"], ["bytes_out", "Bytes out"],
        ["rate", "Rate out"], ["duplicated", "Duplicated"], ["corrupted", "Corrupted"], ["reordered", "Reordered"],
        ...Object.keys(metrics.a_to_b.drops || {}).map((cause) => [`drops.${cause}`, `Dropped: ${cause}`]),
      ];
      const perDirection = directions.map(([direction]) => ({
        counters: metrics[direction], rate: rates.update(`${cableName}/${direction}`, metrics[direction], ["bytes_out"]),
      }));
      syncRows(counters.tbody, rows, ([key]) => key, ([key, label]) => [label, ...perDirection.map(({ counters: c, rate }) => {
        if (key === "rate") return rate.bytes_out === null ? "–" : format.bits(rate.bytes_out * 8);
        return format.count(key.startsWith("drops.") ? c.drops[key.slice(6)] : c[key]);
      })]);
    },
  };
}
