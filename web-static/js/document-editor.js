// A topology document editor: a text area (YAML, or JSON, which is YAML too) that can be pasted
// into or loaded from a file, the analyzer's problems shown under the lines they point at, and
// a plan (steps with the fields that change, old → new) shown before anything is applied.
import { APIError } from "./api.js";
import { h, replace } from "./dom.js";
import { showProblem } from "./feedback.js";

export function documentEditor({ label, initial = "" }) {
  const text = h("textarea", { class: "document", rows: 18, spellcheck: "false", "aria-label": label });
  text.value = initial;
  const file = h("input", { type: "file", accept: ".yaml,.yml,.json,application/yaml,application/json", "aria-label": `Load ${label} from a file` });
  file.addEventListener("change", async () => {
    if (file.files && file.files[0]) { text.value = await file.files[0].text(); text.dataset.dirty = "1"; }
  });
  text.addEventListener("input", () => { text.dataset.dirty = "1"; });
  const problems = h("div", { class: "document-problems", "aria-live": "polite" });
  const plan = h("div", { class: "plan", "aria-live": "polite" });

  /// Shows each problem under its line (the analyzer's pointer, line and column), or the plan.
  function showProblems(list) {
    replace(plan);
    const lines = text.value.split("\n");
    const byLine = new Map();
    for (const problem of list) {
      const line = problem.line || 0;
      byLine.set(line, [...(byLine.get(line) || []), problem]);
    }
    const describe = (problem) => h("li", { class: "problem-line", "data-code": problem.code, "data-pointer": problem.pointer },
      h("code", {}, problem.code), " ", problem.message, " ", h("span", { class: "muted" }, problem.pointer || ""));
    const unplaced = byLine.get(0) || [];
    replace(problems,
      h("p", { class: "summary" }, `${list.length} problem${list.length === 1 ? "" : "s"}: nothing was changed.`),
      unplaced.length ? h("ul", {}, unplaced.map(describe)) : null,
      h("ol", { class: "source" }, lines.map((line, index) => {
        const here = byLine.get(index + 1);
        if (!here && !(byLine.get(index) || byLine.get(index + 2))) return null;
        return h("li", { value: index + 1, class: here ? "has-problem" : "" }, h("code", {}, line || " "),
          here ? h("ul", {}, here.map((problem) => describe({ ...problem, message: `column ${problem.column}: ${problem.message}` }))) : null);
      })));
  }

  function showPlan(answer, verb) {
    replace(problems);
    const steps = answer.steps || [];
    const warnings = answer.warnings || [];
    replace(plan,
      h("p", { class: "summary" }, steps.length ? `${verb}: ${steps.length} step${steps.length === 1 ? "" : "s"}.` : `${verb}: nothing to do.`),
      h("ol", { class: "steps" }, steps.map((step) => h("li", { "data-action": step.action },
        h("strong", {}, step.action), ` ${step.kind} ${step.name}`, h("span", { class: "muted" }, ` (${step.global_name})`),
        step.reason ? h("span", { class: "muted" }, ` — ${step.reason}`) : null,
        step.changes.length ? h("ul", {}, step.changes.map((change) =>
          h("li", {}, h("code", {}, change.field), `: ${JSON.stringify(change.old)} → ${JSON.stringify(change.new)}`))) : null))),
      warnings.length ? h("ul", { class: "warnings" }, warnings.map((warning) => h("li", {}, h("code", {}, warning.code), " ", warning.message))) : null);
  }

  /// Runs a request that sends the document; a refused document shows its problems here.
  async function submit(work, verb) {
    try {
      const answer = await work(text.value);
      if (answer && answer.steps) showPlan(answer, verb);
      return answer;
    } catch (error) {
      if (error instanceof APIError && error.problem && Array.isArray(error.problem.problems)) showProblems(error.problem.problems);
      else showProblem(error);
      return undefined;
    }
  }

  const element = h("div", { class: "document-editor" }, h("label", { class: "file" }, "Load a file ", file), text, problems, plan);
  return { element, text, submit, clear: () => { replace(problems); replace(plan); } };
}
