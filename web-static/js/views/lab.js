// One lab: its state, generation and last apply, its own topology drawing, its members grouped by
// kind (each a link to its noun's view), its document to edit, plan (a dry run) and apply (with
// the generation it was read at, so two editors cannot overwrite each other), reset and delete,
// and its checks with the last run's results (run again from here).
import { del, get, name, post, send } from "../api.js";
import { h, replace, s, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { documentEditor } from "../document-editor.js";
import { blockedCables, drawTopology, topologySignature } from "../topology.js";

export function mount(container, labName) {
  const base = `/v1/labs/${name(labName)}`;
  const summary = h("p", { class: "summary lab-summary" }, "Loading…");
  const outcome = h("div", { class: "lab-outcome", "aria-live": "polite" });
  const svg = s("svg", { class: "topology", role: "img", "aria-label": `Topology of lab ${labName}` });
  const groups = {
    switch: table("Switches", ["Switch", "Global name", "State", "Plug"], { class: "members switches" }, "No switches."),
    cable: table("Cables", ["Cable", "Global name", "State"], { class: "members cables" }, "No cables."),
    stack: table("Stacks", ["Stack", "Global name", "State"], { class: "members stacks" }, "No stacks."),
  };
  const editor = documentEditor({ label: `Topology document of ${labName}` });
  let generation = null;
  const plan = h("button", { type: "button" }, "Plan changes");
  const apply = h("button", { type: "button" }, "Apply");
  const reset = h("button", { type: "button" }, "Reset lab");
  const checks = table("Checks", ["Check", "Description", "Result", "Points", "Evidence"], { class: "lab-checks" }, "This lab's document declares no checks.");
  const checksSummary = h("p", { class: "summary checks-summary" }, "");
  const runChecks = h("button", { type: "button" }, "Run checks");
  runChecks.addEventListener("click", () => act(async () => {
    replace(checksSummary, "Running the checks…");
    await post(`${base}/checks`);
  }));
  const remove = h("button", { type: "button", class: "danger" }, "Delete lab");
  plan.addEventListener("click", () => editor.submit((text) => send("PUT", `${base}?dry_run=true`, text), "Applying it would do"));
  apply.addEventListener("click", () => act(async () => {
    const lab = await editor.submit((text) => send("PUT", base, text, { headers: { "If-Match": `"${generation}"` } }), "Applied");
    if (lab) { delete editor.text.dataset.dirty; replace(outcome, h("p", {}, `Applied: generation ${lab.generation}.`)); }
  }));
  reset.addEventListener("click", () => act(async () => {
    replace(outcome, h("p", {}, "Resetting…"));
    const lab = await post(`${base}/reset`);
    replace(outcome, h("p", { class: "reset-done" }, `Reset: ${lab.reset.members.length} members, ready again in ${lab.reset.duration_ms} ms.`));
  }));
  remove.addEventListener("click", () => {
    if (!confirm(`Delete lab ${labName} and every member of it?`)) return;
    act(async () => { await del(base); location.hash = "#/labs"; });
  });
  // A student changes its lab by commands and resets, not by its document: no buttons that would be refused.
  if (document.body.dataset.role === "student") for (const button of [plan, apply, remove]) button.hidden = true;
  container.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/labs" }, "Labs"), " / ", labName),
    h("h1", {}, `Lab ${labName}`), summary, outcome,
    h("div", { class: "actions" }, reset, remove),
    h("div", { class: "overview" },
      h("section", { class: "panel topology-panel", "aria-labelledby": "lab-topology-title" }, h("h2", { id: "lab-topology-title" }, "Topology"), svg),
      ...Object.entries(groups).map(([kind, group]) => h("section", { class: "panel", "aria-labelledby": `lab-${kind}-title` },
        h("h2", { id: `lab-${kind}-title` }, group.element.querySelector("caption").textContent), group.element))),
    h("section", { class: "panel", "aria-labelledby": "lab-checks-title" }, h("h2", { id: "lab-checks-title" }, "Checks"),
      checksSummary, checks.element, h("div", { class: "actions" }, runChecks)),
    h("section", { class: "panel", "aria-labelledby": "lab-document-title" }, h("h2", { id: "lab-document-title" }, "Document"),
      editor.element, h("div", { class: "actions" }, plan, apply)));

  let drawn = null;
  return {
    dispose() {},
    async refresh() {
      const query = `?lab=${name(labName)}`;
      const [lab, switches, cables, stacks, graded] = await Promise.all([get(base), get(`/v1/switches${query}`), get(`/v1/cables${query}`),
        get(`/v1/stacks${query}`), get(`${base}/checks?limit=1`)]);
      const run = graded.runs[0];
      checksSummary.textContent = run ? `Last run ${run.at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}: ${run.points} of ${run.max_points} points.`
        : graded.checks.length ? "Not run yet." : "";
      syncRows(checks.tbody, graded.checks, (check) => check.id, (check) => {
        const result = run && run.results.find((r) => r.check === check.id);
        return [
          check.id, check.description,
          { sig: result ? String(result.passed) : "none", node: () => h("span", { class: `check ${result ? (result.passed ? "passed" : "failed") : "none"}` },
            result ? (result.passed ? "✓ passed" : "✗ failed") : "–") },
          result ? `${result.points} / ${check.points}` : `– / ${check.points}`,
          { sig: result ? `${run.at} ${check.id}` : "none", node: () => h("pre", { class: "evidence" }, result ? result.output.slice(0, 400) : "") },
        ];
      });
      generation = lab.generation;
      const last = lab.last_apply;
      // A lab spread over hosts: each host's state as the coordinator last heard it.
      const hosts = (lab.hosts || []).map((host) => `${host.name} ${host.state}`).join(", ");
      summary.textContent = `${lab.state} · generation ${lab.generation}` + (lab.description ? ` · ${lab.description}` : "")
        + (last ? ` · last apply: ${last.outcome.replaceAll("_", " ")}` : "") + (hosts ? ` · hosts: ${hosts}` : "");
      summary.dataset.state = lab.state;
      if (lab.failures.length) {
        replace(outcome, h("ul", { class: "failures" }, lab.failures.map((f) => h("li", {}, h("strong", {}, `${f.kind} ${f.member}`), `: ${f.message}`))));
      }
      if (!editor.text.dataset.dirty) editor.text.value = JSON.stringify(lab.topology, null, 2);
      const blocked = await blockedCables(switches.switches, cables.cables);
      const signature = topologySignature(switches.switches, cables.cables, stacks.stacks, blocked);
      if (signature !== drawn) {
        const prefix = `${labName}-`;
        drawTopology(svg, switches.switches, cables.cables, stacks.stacks, (n) => (n.startsWith(prefix) ? n.slice(prefix.length) : n), blocked);
        drawn = signature;
      }
      for (const [kind, group] of Object.entries(groups)) {
        const members = lab.members.filter((member) => member.kind === kind);
        const noun = { switch: "switches", cable: "cables", stack: "stacks" }[kind];
        // On another host a member is that host's (its noun is served there); a cable between hosts has a half on each.
        const here = (member) => !member.host || member.host === lab.hosts[0].name;
        syncRows(group.tbody, members, (member) => `${member.host || ""}/${member.name}`, (member) => [
          member.host ? `${member.name} @ ${member.host}` + (member.tunnel ? ` (${member.tunnel.encapsulation})` : "") : member.name,
          { sig: `${member.global_name} ${here(member)}`, node: () => (here(member)
            ? h("a", { href: `#/${noun}/${name(member.global_name)}` }, member.global_name) : h("span", {}, member.global_name)) },
          { sig: member.state, node: () => h("span", { class: `state ${member.state}` }, member.state) },
          ...(kind === "switch" ? [{ sig: member.plug_url || "", node: () => h("code", {}, member.plug_url || "–") }] : []),
        ]);
      }
    },
  };
}
