// One experiment: its task graph with each task's state in the run shown, start a run (repeated
// N times), the run history, the shown run's timeline (each task from start to end, by verdict),
// a task's output and verdicts, the report to download, cancel; and the document to edit.
import { del, download, get, name, post, send } from "../api.js";
import { h, replace, s, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";
import { save as saveFile } from "../capture.js";
import { documentEditor } from "../document-editor.js";
import { drawTaskGraph, showTaskStatuses } from "../task-graph.js";

const finalStates = new Set(["passed", "failed", "cancelled", "timed_out", "aborted", "error"]);

export function mount(container, experimentName) {
  const base = `/v1/experiments/${name(experimentName)}`;
  const summary = h("p", { class: "summary experiment-summary" }, "Loading…");
  const repeat = h("input", { type: "number", name: "repeat", min: 1, max: 100, value: 1, size: 4, "aria-label": "Repetitions" });
  const start = h("button", { type: "button" }, "Start run");
  const remove = h("button", { type: "button", class: "danger" }, "Delete experiment");
  const graph = s("svg", { class: "task-graph", role: "img", "aria-label": `Task graph of ${experimentName}` });
  const runs = table("Runs", ["Run", "State", "Started", "Duration", "Tasks"], { class: "runs" }, "No runs yet.");
  const runTitle = h("h2", { id: "run-title" }, "Run");
  const runSummary = h("p", { class: "summary run-summary" }, "Start a run to see it here.");
  const cancel = h("button", { type: "button", hidden: true }, "Cancel run");
  const report = h("button", { type: "button", hidden: true }, "Download report");
  const timeline = h("div", { class: "timeline", role: "list", "aria-label": "Timeline of the run's tasks" });
  const output = h("div", { class: "task-output", "aria-live": "polite" });
  const editor = documentEditor({ label: `Document of ${experimentName}` });
  const save = h("button", { type: "button" }, "Save document");
  let generation = null;
  let drawn = null;
  let shown = null;      // the run shown (its number); the newest when null
  let selectedTask = null;
  let current = null;    // the shown run's record

  start.addEventListener("click", () => act(async () => {
    const run = await post(`${base}/runs`, { repeat: Number(repeat.value) || 1 });
    shown = run.id;
  }));
  remove.addEventListener("click", () => {
    if (!confirm(`Delete experiment ${experimentName}, its runs and their outputs?`)) return;
    act(async () => { await del(base); location.hash = "#/experiments"; });
  });
  cancel.addEventListener("click", () => act(async () => { if (current) await post(`${base}/runs/${current.id}/cancel`); }));
  report.addEventListener("click", () => act(async () => {
    if (!current) return;
    const body = await get(`${base}/runs/${current.id}/report`);
    saveFile(new Blob([JSON.stringify(body, null, 2)], { type: "application/json" }), `${experimentName}-run-${current.id}-report.json`);
  }));
  save.addEventListener("click", () => act(async () => {
    const saved = await editor.submit((text) => send("PUT", base, text, { headers: { "If-Match": `"${generation}"` } }), "Saved");
    if (saved) { delete editor.text.dataset.dirty; drawn = null; }
  }));
  const select = (id) => { selectedTask = id; showOutput(); };

  /// The pcap files a capture_start task left, in every repetition so far.
  const capturesOf = (task) => (current.repetitions || []).flatMap((repetition) => repetition.captures || [])
    .filter((capture) => capture.task === task.id);

  function showOutput() {
    const task = current && current.tasks.find((item) => item.id === selectedTask);
    if (!task) { replace(output, h("p", { class: "muted" }, "Choose a task in the graph or the timeline to see its output.")); return; }
    replace(output,
      h("h3", {}, `Task ${task.id} `, h("span", { class: `state ${task.status}` }, task.status.replaceAll("_", " "))),
      task.message ? h("p", { class: "task-message" }, task.message) : null,
      capturesOf(task).map((capture) => h("p", { class: "capture-file" }, h("button", { type: "button",
        onclick: () => act(async () => saveFile(await download(`${base}/runs/${current.id}/captures/${name(capture.file)}`), capture.file)) },
        `Download ${capture.file}`), ` ${capture.frames ?? 0} frames, ${capture.dropped ?? 0} dropped`)),
      Object.keys(task.measures).length ? h("p", { class: "measures" }, Object.entries(task.measures).map(([key, value]) =>
        h("span", { class: "measure" }, h("code", {}, key), ` ${value === null ? "–" : Number(value).toLocaleString("en-US")} `))) : null,
      task.attempts.map((attempt) => h("div", { class: "attempt" },
        h("p", {}, h("strong", {}, `${attempt.host} · attempt ${attempt.attempt}`),
          ` · exit ${attempt.exit_code ?? "–"}${attempt.timed_out ? " · timed out" : ""}${attempt.truncated ? " · output truncated" : ""}`),
        attempt.error ? h("p", { class: "task-message" }, attempt.error) : null,
        (attempt.verdicts || []).length ? h("ul", { class: "verdicts" }, attempt.verdicts.map((verdict) =>
          h("li", { class: verdict.passed ? "passed" : "failed" }, `${verdict.passed ? "✓" : "✗"} ${verdict.check}: expected ${verdict.expected}, got ${verdict.actual}`))) : null,
        attempt.stdout ? h("pre", { class: "stdout" }, attempt.stdout) : null,
        attempt.stderr ? h("pre", { class: "stderr" }, attempt.stderr) : null)));
  }

  function showTimeline(run) {
    const started = run.tasks.map((task) => Date.parse(task.started_at)).filter(Number.isFinite);
    // From the first task's start: the build before it is the repetition's own timing.
    const origin = started.length ? Math.min(...started) : Date.now();
    const ends = run.tasks.map((task) => Date.parse(task.ended_at)).filter(Number.isFinite);
    const end = finalStates.has(run.state) ? Math.max(...ends, origin + 1) : Math.max(Date.now(), ...ends, origin + 1);
    const span = Math.max(1, end - origin);
    replace(timeline, run.tasks.map((task) => {
      const from = Date.parse(task.started_at);
      const to = Number.isFinite(Date.parse(task.ended_at)) ? Date.parse(task.ended_at) : (task.status === "running" ? end : from);
      const bar = Number.isFinite(from)
        ? h("span", { class: `bar ${task.status}`, style: `left:${((from - origin) / span) * 100}%;width:${Math.max(0.6, ((to - from) / span) * 100)}%` })
        : null;
      const row = h("div", { class: "timeline-row", role: "listitem", "data-task": task.id, "data-status": task.status, tabindex: "0" },
        h("span", { class: "label" }, task.id),
        h("span", { class: "track" }, bar),
        h("span", { class: `verdict state ${task.status}` }, task.status.replaceAll("_", " "),
          task.duration_ms !== null ? h("span", { class: "muted" }, ` ${task.duration_ms} ms`) : null));
      row.addEventListener("click", () => select(task.id));
      row.addEventListener("keydown", (event) => { if (event.key === "Enter") select(task.id); });
      return row;
    }));
  }

  container.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/experiments" }, "Experiments"), " / ", experimentName),
    h("h1", {}, `Experiment ${experimentName}`), summary,
    h("div", { class: "actions" }, h("label", {}, "Repetitions ", repeat), start, remove),
    h("section", { class: "panel", "aria-labelledby": "graph-title" }, h("h2", { id: "graph-title" }, "Tasks"), graph),
    h("section", { class: "panel", "aria-labelledby": "run-title" }, runTitle, runSummary, h("div", { class: "actions" }, cancel, report),
      timeline, output),
    h("section", { class: "panel", "aria-labelledby": "runs-title" }, h("h2", { id: "runs-title" }, "Runs"), runs.element),
    h("section", { class: "panel", "aria-labelledby": "experiment-document-title" }, h("h2", { id: "experiment-document-title" }, "Document"),
      editor.element, h("div", { class: "actions" }, save)));
  showOutput();

  return {
    dispose() {},
    async refresh() {
      const [experiment, history] = await Promise.all([get(base), get(`${base}/runs`)]);
      generation = experiment.generation;
      summary.textContent = `generation ${experiment.generation} · ${experiment.tasks.length} tasks`
        + (experiment.description ? ` · ${experiment.description}` : "");
      if (!editor.text.dataset.dirty) editor.text.value = JSON.stringify(experiment.document, null, 2);
      const signature = JSON.stringify(experiment.tasks);
      if (signature !== drawn) { drawTaskGraph(graph, experiment.tasks, select); drawn = signature; }
      const list = [...history.runs].reverse();
      syncRows(runs.tbody, list, (run) => run.id, (run) => [
        { sig: `${run.id} ${shown}`, node: () => h("button", { type: "button", class: "link", "aria-pressed": String((shown ?? list[0]?.id) === run.id),
          onclick: () => { shown = run.id; selectedTask = null; } }, `#${run.id}`) },
        { sig: run.state, node: () => h("span", { class: `state ${run.state}` }, run.state.replaceAll("_", " ")) },
        run.started_at ? new Date(run.started_at).toLocaleTimeString() : "–",
        run.finished_at && run.started_at ? `${((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000).toFixed(1)} s` : "–",
        Object.entries(run.tasks).map(([status, count]) => `${count} ${status.replaceAll("_", " ")}`).join(", "),
      ]);
      const id = shown ?? list[0]?.id;
      current = id ? await get(`${base}/runs/${id}`) : null;
      cancel.hidden = !current || finalStates.has(current.state);
      report.hidden = !current;
      if (!current) { showTaskStatuses(graph, {}); return; }
      runTitle.textContent = `Run #${current.id}`;
      const repetitions = current.repeat > 1 ? ` · repetition ${current.repetitions.length} of ${current.repeat}` : "";
      const starved = current.repetitions.some((repetition) => repetition.fidelity && repetition.fidelity.starved);
      runSummary.textContent = `${current.state.replaceAll("_", " ")}${repetitions} · seed ${current.seed}`
        + (current.message ? ` · ${current.message}` : "") + (starved ? " · the host was starved: see the report" : "");
      runSummary.dataset.state = current.state;
      showTaskStatuses(graph, Object.fromEntries(current.tasks.map((task) => [task.id, task.status])));
      showTimeline(current);
      showOutput();
    },
  };
}
