// One stack: its interfaces and addresses, routes and neighbours as read from the stack itself,
// a slirp uplink's host forwards and connections, and a command runner (exec) with its output.
import { del, get, name, post } from "../api.js";
import { h, replace, syncRows, table } from "../dom.js";
import { act } from "../feedback.js";

export function mount(container, stackName) {
  const base = `/v1/stacks/${name(stackName)}`;
  const summary = h("p", { class: "summary" }, "Loading…");
  const interfaces = table(`Interfaces of ${stackName}`, ["Interface", "Switch", "Port", "State", "MAC", "Addresses"]);
  const routes = table(`Routes of ${stackName}`, ["Destination", "Via", "Device", "Protocol"], {}, "No routes.");
  const neighbours = table(`Neighbours of ${stackName}`, ["Address", "MAC", "Device", "State"], {}, "No neighbours.");
  const extra = h("div");
  const output = h("pre", { class: "output", "aria-live": "polite", tabindex: 0 }, "No command run yet.");
  const command = h("input", { name: "command", required: true, placeholder: "ip addr; ping -c 1 10.0.0.2", class: "wide", autocomplete: "off",
    "aria-label": "Command (run with sh -c inside the stack)" });
  const runForm = h("form", { class: "inline-form", "aria-label": "Run a command in the stack" },
    command,
    h("label", {}, "Timeout (s) ", h("input", { name: "timeout", type: "number", min: 0.1, max: 3600, step: "any", value: 10, class: "narrow" })),
    h("button", { type: "submit" }, "Run"));
  runForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(runForm);
    output.textContent = "Running…";
    act(async () => {
      const result = await post(`${base}/exec`, { argv: ["sh", "-c", String(data.get("command"))], timeout_s: Number(data.get("timeout")) });
      output.textContent = `$ ${data.get("command")}\n${result.stdout}${result.stderr ? `\n[stderr]\n${result.stderr}` : ""}\n`
        + `[exit ${result.exit_code}${result.timed_out ? ", timed out" : ""}${result.truncated ? ", output truncated" : ""}`
        + ` · ${Math.round(result.duration_ms)} ms]`;
    }).then((result) => { if (result === undefined && output.textContent === "Running…") output.textContent = "The command could not run (see the message above)."; });
  });

  container.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Overview"), " / stack"),
    h("h1", {}, `Stack ${stackName}`),
    summary,
    h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: () => {
      if (confirm(`Delete stack ${stackName}?`)) act(async () => { await del(base); location.hash = "#/"; });
    } }, "Delete stack")),
    h("section", { class: "panel", "aria-labelledby": "interfaces-title" }, h("h2", { id: "interfaces-title" }, "Interfaces"), interfaces.element),
    extra,
    h("div", { class: "columns" },
      h("section", { class: "panel", "aria-labelledby": "routes-title" }, h("h2", { id: "routes-title" }, "Routes"), routes.element),
      h("section", { class: "panel", "aria-labelledby": "neighbours-title" }, h("h2", { id: "neighbours-title" }, "Neighbours"), neighbours.element)),
    h("section", { class: "panel", "aria-labelledby": "run-title" }, h("h2", { id: "run-title" }, "Run a command"), runForm, output));

  return {
    dispose() {},
    async refresh() {
      const stack = await get(base);
      replace(summary, `${stack.kind} · mode ${stack.mode || "–"}${stack.namespace ? ` · namespace ${stack.namespace}` : ""}`
        + ` · forwarding ${stack.forwarding ? "on" : "off"}`);
      runForm.hidden = stack.kind !== "netns";
      syncRows(interfaces.tbody, stack.interfaces || [], (i) => i.name, (i) => [
        i.name, i.switch, i.port ?? "any",
        { sig: i.state || "", node: () => h("span", { class: `state ${i.state}` }, i.state || "–") },
        i.live_mac || i.mac || "–",
        (i.live_addresses || i.addresses || []).join(", ") || (i.dhcp ? "waiting for DHCP" : "–"),
      ]);
      syncRows(routes.tbody, stack.live_routes || [], (r) => `${r.dst}/${r.gateway}/${r.dev}`, (r) => [r.dst, r.gateway || "–", r.dev || "–", r.protocol || "–"]);
      syncRows(neighbours.tbody, stack.neighbours || [], (n) => `${n.dst}/${n.dev}`, (n) => [n.dst, n.lladdr || "–", n.dev || "–", (n.state || []).join(" ")]);
      if (stack.kind === "slirp") {
        const forwards = stack.host_forwards || [];
        replace(extra, h("section", { class: "panel", "aria-labelledby": "slirp-title" }, h("h2", { id: "slirp-title" }, "NAT uplink"),
          h("p", {}, `DNS at ${stack.slirp?.nameserver || "–"} · DHCP ${stack.slirp?.dhcp ? "on" : "off"}`),
          h("p", {}, forwards.length ? `Host forwards: ${forwards.map((f) => `${f.protocol} ${f.host_address}:${f.host_port} → ${f.guest_address}:${f.guest_port}`).join(", ")}` : "No host forwards."),
          h("pre", { class: "output" }, (stack.slirp?.connections || []).join("\n") || "No connections.")));
      }
    },
  };
}
