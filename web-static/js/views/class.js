// One class, for its teacher: the grade grid (a row a student, a column a check: passed or not,
// the points, the total), each student's lab state, checks run for the whole class, a reset per
// student or for everyone, and the class's audit log.
import { get, name, post } from "../api.js";
import { h, replace, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";

export function mount(container, className) {
  const base = `/v1/classes/${name(className)}`;
  const summary = h("p", { class: "summary class-summary" }, "Loading…");
  const outcome = h("div", { class: "class-outcome", "aria-live": "polite" });
  const gridHolder = h("div", { class: "grades-holder" });
  const audit = table("Audit log", ["Time", "Kind", "Who", "What", "Result"], { class: "audit" }, "Nothing recorded yet.");
  const runChecks = h("button", { type: "button" }, "Run checks");
  const resetAll = h("button", { type: "button" }, "Reset every lab");
  let grid = null;
  let columns = null;
  // Bumped by every action, and counted while one runs: a refresh that overlaps one (and would
  // read the grades from before it) does not paint over what the action answers.
  let epoch = 0;
  let running = 0;
  const acting = (work) => act(async () => {
    epoch += 1;
    running += 1;
    try { await work(); } finally { running -= 1; epoch += 1; }
  });

  runChecks.addEventListener("click", () => acting(async () => {
    replace(outcome, h("p", {}, "Running every check in every lab…"));
    const table = await post(`${base}/checks`);
    const full = table.students.filter((row) => row.points === table.max_points).length;
    replace(outcome, h("p", { class: "checks-done" }, `Checked ${table.students.length} labs in ${table.duration_ms} ms: ${full} with every point.`));
    show(table);
  }));
  const reset = (students, what) => acting(async () => {
    replace(outcome, h("p", {}, `Resetting ${what}…`));
    const query = students ? `?students=${students.map(name).join(",")}` : "";
    const reply = await post(`${base}/reset${query}`);
    replace(outcome, h("p", { class: "reset-done" }, `Reset ${reply.reset.labs.length} lab(s), ready again in ${reply.reset.duration_ms} ms.`));
  });
  resetAll.addEventListener("click", () => {
    if (confirm(`Reset every lab of ${className}? Whatever the students changed is lost.`)) reset(null, "every lab");
  });

  container.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/classes" }, "Classes"), " / ", className),
    h("h1", {}, `Class ${className}`), summary, outcome,
    h("div", { class: "actions" }, runChecks, resetAll),
    h("section", { class: "panel", "aria-labelledby": "grades-title" }, h("h2", { id: "grades-title" }, "Students and checks"), gridHolder),
    h("section", { class: "panel", "aria-labelledby": "audit-title" }, h("h2", { id: "audit-title" }, "Audit log"), audit.element));

  let states = new Map();
  function show(grades) {
    const checks = grades.checks.map((check) => check.id);
    if (columns !== checks.join(" ")) {
      columns = checks.join(" ");
      grid = table("Grades", ["Student", "Lab", "Lab state", ...checks, "Total", ""], { class: "grades" }, "No students.");
      const heads = grid.element.querySelectorAll("thead th");
      grades.checks.forEach((check, index) => { heads[3 + index].title = `${check.description} (${check.points} points)`; });
      replace(gridHolder, grid.element);
    }
    syncRows(grid.tbody, grades.students, (row) => row.student, (row) => [
      row.name === row.student ? row.student : `${row.name} (${row.student})`,
      { sig: row.lab, node: () => h("a", { href: `#/labs/${name(row.lab)}` }, row.lab) },
      { sig: states.get(row.student) || "", node: () => h("span", { class: `state ${states.get(row.student) || "missing"}` }, states.get(row.student) || "missing") },
      ...grades.checks.map((check) => {
        const result = row.results[check.id];
        const sig = result ? `${result.passed} ${result.points}` : "none";
        return { sig, node: () => result
          ? h("span", { class: `check ${result.passed ? "passed" : "failed"}`, "data-check": check.id },
              result.passed ? "✓ " : "✗ ", `${result.points}/${check.points}`)
          : h("span", { class: "check none", "data-check": check.id }, "–") };
      }),
      row.points === null ? "–" : `${row.points} / ${grades.max_points}`,
      { sig: "reset", node: () => {
        const button = h("button", { type: "button", class: "small", "aria-label": `Reset ${row.student}'s lab` }, "Reset");
        button.addEventListener("click", () => reset([row.student], `${row.student}'s lab`));
        return button;
      } },
    ]);
  }

  return {
    dispose() {},
    async refresh() {
      const began = epoch;
      const [info, grades, log] = await Promise.all([get(base), get(`${base}/checks`), get("/v1/audit?limit=50")]);
      if (began !== epoch || running > 0) return;
      states = new Map(info.students.map((student) => [student.id, student.lab_state]));
      summary.textContent = `${info.state} · generation ${info.generation} · ${info.labs.ready} of ${info.labs.total} labs ready`;
      summary.dataset.state = info.state;
      show(grades);
      const labs = new Set(info.students.map((student) => student.lab));
      const entries = log.entries.filter((entry) => entry.class === className || labs.has(entry.lab));
      syncRows(audit.tbody, entries, (entry) => String(entry.id), (entry) => [
        entry.at.replace("T", " ").replace(/\.\d+Z$/, ""),
        entry.kind,
        entry.principal ? entry.principal.name : "–",
        entry.kind === "request" ? `${entry.method} ${entry.path}`
          : entry.kind === "gap" ? entry.message : `${entry.kind} ${entry.switch} port ${entry.port} (pid ${entry.pid ?? "?"})`,
        entry.kind === "request" ? String(entry.status) : entry.reason || "",
      ]);
    },
  };
}
