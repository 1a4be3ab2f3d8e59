// Classes: every class (a teacher's token sees its own) with its state and how many of its
// students' labs are ready.
import { get, name } from "../api.js";
import { h, syncRows, table } from "../dom.js";

export function mount(container) {
  const classes = table("Classes", ["Class", "State", "Labs ready", "Generation", "Created"], { class: "classes" }, "No classes yet.");
  container.append(
    h("h1", {}, "Classes"),
    h("section", { class: "panel", "aria-labelledby": "classes-title" }, h("h2", { id: "classes-title" }, "Classes"), classes.element,
      h("p", { class: "hint" }, "A class is made with POST /v1/classes: a template (a lab document with its checks) and its students.")));
  return {
    dispose() {},
    async refresh() {
      const list = await get("/v1/classes");
      syncRows(classes.tbody, list.classes, (c) => c.name, (c) => [
        { sig: c.name, node: () => h("a", { href: `#/classes/${name(c.name)}` }, c.name) },
        { sig: c.state, node: () => h("span", { class: `state ${c.state}` }, c.state) },
        `${c.labs.ready} / ${c.labs.total}`,
        String(c.generation),
        c.created_at.replace("T", " ").replace(/\.\d+Z$/, " UTC"),
      ]);
    },
  };
}
