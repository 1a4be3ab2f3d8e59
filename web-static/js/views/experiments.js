// Experiments: every experiment with its tasks and last run, and a new experiment from a document
// (pasted or loaded from a file), its problems shown under their lines before anything is kept.
import { get, name, send } from "../api.js";
import { h, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { documentEditor } from "../document-editor.js";

const example = `# An experiment: a topology (a lab document) plus tasks. See ops/examples/experiments/.
description: two hosts ping each other
topology:
  switches:
    - name: lan
  stacks:
    - name: h1
      interfaces: [{name: eth0, switch: lan, addresses: [10.0.0.1/24]}]
    - name: h2
      interfaces: [{name: eth0, switch: lan, addresses: [10.0.0.2/24]}]
tasks:
  - id: up
    action: wait_until
    host: h1
    ping: 10.0.0.2
    timeout_s: 10
  - id: ping
    after: [up]
    hosts: [h1, h2]
    argv: [ping, -c, "3", -i, "0.2", 10.0.0.2]
    measure:
      - {name: rtt_avg_ms, regex: "= [0-9.]+/([0-9.]+)/"}
`;

export function mount(container) {
  const experiments = table("Experiments", ["Experiment", "Tasks", "Runs", "Last run", "Description"], { class: "experiments" }, "No experiments yet.");
  const experimentName = h("input", { name: "name", required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,62}", size: 14, autocomplete: "off",
    "aria-label": "New experiment name" });
  const editor = documentEditor({ label: "Experiment document", initial: example });
  const create = h("button", { type: "button" }, "Create experiment");
  create.addEventListener("click", () => act(async () => {
    const created = await editor.submit((text) => send("POST", `/v1/experiments?name=${name(experimentName.value.trim())}`, text), "Created");
    if (created && created.name) location.hash = `#/experiments/${name(created.name)}`;
  }));
  container.append(
    h("h1", {}, "Experiments"),
    h("section", { class: "panel", "aria-labelledby": "experiments-title" }, h("h2", { id: "experiments-title" }, "Experiments"), experiments.element),
    h("section", { class: "panel", "aria-labelledby": "new-experiment-title" }, h("h2", { id: "new-experiment-title" }, "New experiment"),
      h("div", { class: "inline-form" }, h("label", {}, "Name ", experimentName)), editor.element, h("div", { class: "actions" }, create)));
  return {
    dispose() {},
    async refresh() {
      const list = await get("/v1/experiments");
      syncRows(experiments.tbody, list.experiments, (experiment) => experiment.name, (experiment) => [
        { sig: experiment.name, node: () => h("a", { href: `#/experiments/${name(experiment.name)}` }, experiment.name) },
        String(experiment.tasks.length),
        String(experiment.runs.count),
        { sig: JSON.stringify(experiment.runs.last), node: () => (experiment.runs.last
          ? h("span", { class: `state ${experiment.runs.last.state}` }, `#${experiment.runs.last.id} ${experiment.runs.last.state.replaceAll("_", " ")}`)
          : h("span", { class: "muted" }, "never run")) },
        experiment.description || "",
      ]);
    },
  };
}
