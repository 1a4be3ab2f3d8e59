// Labs: every lab with its state and generation, and a new lab from a topology document (pasted
// or loaded from a file), checked and planned before it is created.
import { get, name, send } from "../api.js";
import { h, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { documentEditor } from "../document-editor.js";

const example = `# A topology document (YAML, or JSON). See ops/examples/labs/.
description: two hosts on one switch
switches:
  - name: lan
    ports: 8
stacks:
  - name: h1
    interfaces: [{name: eth0, switch: lan, addresses: [10.0.0.1/24]}]
  - name: h2
    interfaces: [{name: eth0, switch: lan, addresses: [10.0.0.2/24]}]
`;

export function mount(container) {
  const labs = table("Labs", ["Lab", "State", "Generation", "Members", "Description"], { class: "labs" }, "No labs yet.");
  const labName = h("input", { name: "name", required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,62}", size: 14, autocomplete: "off", "aria-label": "New lab name" });
  const editor = documentEditor({ label: "Topology document", initial: example });
  const check = h("button", { type: "button" }, "Check and plan");
  const create = h("button", { type: "button" }, "Create lab");
  const query = () => `?name=${name(labName.value.trim())}`;
  check.addEventListener("click", () => editor.submit((text) => send("POST", `/v1/labs/plan${query()}`, text), "Creating it would do"));
  create.addEventListener("click", () => act(async () => {
    const lab = await editor.submit((text) => send("POST", `/v1/labs${query()}`, text), "Created");
    if (lab && lab.name) location.hash = `#/labs/${name(lab.name)}`;
  }));
  container.append(
    h("h1", {}, "Labs"),
    h("section", { class: "panel", "aria-labelledby": "labs-title" }, h("h2", { id: "labs-title" }, "Labs"), labs.element),
    h("section", { class: "panel", "aria-labelledby": "new-lab-title" }, h("h2", { id: "new-lab-title" }, "New lab"),
      h("div", { class: "inline-form" }, h("label", {}, "Name ", labName)), editor.element, h("div", { class: "actions" }, check, create)));
  return {
    dispose() {},
    async refresh() {
      const list = await get("/v1/labs");
      syncRows(labs.tbody, list.labs, (lab) => lab.name, (lab) => [
        { sig: lab.name, node: () => h("a", { href: `#/labs/${name(lab.name)}` }, lab.name) },
        { sig: lab.state, node: () => h("span", { class: `state ${lab.state}` }, lab.state) },
        String(lab.generation),
        `${lab.members.filter((m) => m.state === "running").length} / ${lab.members.length} running`,
        lab.description || "",
      ]);
    },
  };
}
