// An experiment's task graph as SVG: tasks in columns by depth (a task sits one column right of
// the deepest task it is after), an arrow from each task to what is after it, each task coloured by
// its status in the run shown. Redrawn only when the tasks change; statuses change in place.
import { replace, s } from "./dom.js";

const columnWidth = 170;
const rowHeight = 54;
const boxWidth = 138;
const boxHeight = 34;

/// Lays the tasks out: {id: {x, y}} and the drawing's size.
export function layoutTasks(tasks) {
  const byID = new Map(tasks.map((task) => [task.id, task]));
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const before = (byID.get(id)?.after || []).filter((other) => byID.has(other));
    const value = before.length ? 1 + Math.max(...before.map((other) => depthOf(other, seen))) : 0;
    depth.set(id, value);
    return value;
  };
  const rows = [];
  const positions = {};
  for (const task of tasks) {
    const column = depthOf(task.id);
    rows[column] = (rows[column] || 0) + 1;
    positions[task.id] = { x: 12 + column * columnWidth, y: 12 + (rows[column] - 1) * rowHeight };
  }
  const width = 24 + Math.max(1, rows.length) * columnWidth - (columnWidth - boxWidth);
  const height = 24 + Math.max(1, ...rows.filter(Boolean)) * rowHeight - (rowHeight - boxHeight);
  return { positions, width, height };
}

export function drawTaskGraph(svg, tasks, onSelect) {
  const { positions, width, height } = layoutTasks(tasks);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.aspectRatio = `${width} / ${height}`;
  // Drawn at its own size (at most the panel's width), so a small graph is not blown up.
  svg.style.width = `${width}px`;
  const edges = [];
  for (const task of tasks) {
    for (const before of task.after) {
      const from = positions[before];
      const to = positions[task.id];
      if (!from || !to) continue;
      const x1 = from.x + boxWidth, y1 = from.y + boxHeight / 2, x2 = to.x, y2 = to.y + boxHeight / 2;
      const bend = (x2 - x1) / 2;
      edges.push(s("path", { class: "edge", d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2 - 6},${y2}`, "marker-end": "url(#arrow)" }));
    }
  }
  const nodes = tasks.map((task) => {
    const { x, y } = positions[task.id];
    const node = s("g", { class: "task pending", "data-task": task.id, tabindex: "0", role: "button", "aria-label": `Task ${task.id}` },
      s("rect", { x, y, width: boxWidth, height: boxHeight, rx: 6 }),
      s("text", { x: x + 8, y: y + 14, class: "id" }, task.id.length > 18 ? `${task.id.slice(0, 17)}…` : task.id),
      s("text", { x: x + 8, y: y + 28, class: "kind" }, task.kind === "command" ? task.hosts.join(", ") : task.kind.replaceAll("_", " ")),
      s("title", {}, `${task.id}: ${task.kind}${task.hosts.length ? ` on ${task.hosts.join(", ")}` : ""}`));
    node.addEventListener("click", () => onSelect(task.id));
    node.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSelect(task.id); } });
    return node;
  });
  replace(svg,
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 2, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" },
      s("path", { d: "M0,0 L8,4 L0,8 z" }))),
    edges, nodes);
}

/// Colours each task by its status ({id: status}).
export function showTaskStatuses(svg, statuses) {
  for (const node of svg.querySelectorAll("g.task")) {
    const status = statuses[node.dataset.task] || "pending";
    node.setAttribute("class", `task ${status}`);
    node.dataset.status = status;
  }
}
