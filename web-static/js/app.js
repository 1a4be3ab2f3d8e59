// The dashboard's shell: hash routes (#/, #/labs, #/labs/NAME, #/experiments, #/experiments/NAME, #/classes,
// #/classes/NAME, #/switches/NAME, #/cables/NAME, #/stacks/NAME), a student's token taken to its own lab, the
// problem banner, the token dialog, the event stream, and a refresh every two seconds for live
// counters. A view is {refresh(), dispose()} built by its module's mount().
import { get, name, onTokenNeeded, token } from "./api.js";
import { replace } from "./dom.js";
import { EventStream } from "./events.js";
import { clearProblems, setRefresher, showProblem } from "./feedback.js";
import * as overview from "./views/overview.js";
import * as switchView from "./views/switch.js";
import * as cableView from "./views/cable.js";
import * as stackView from "./views/stack.js";
import * as labsView from "./views/labs.js";
import * as labView from "./views/lab.js";
import * as experimentsView from "./views/experiments.js";
import * as experimentView from "./views/experiment.js";
import * as classesView from "./views/classes.js";
import * as classView from "./views/class.js";

const main = document.getElementById("view");
const streamStatus = document.getElementById("stream-status");
const tokenDialog = document.getElementById("token-dialog");
let view = null;
let refreshing = false;
let refreshAgain = false;
let refreshTimer = null;

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const routes = { switches: switchView, cables: cableView, stacks: stackView, labs: labView, experiments: experimentView, classes: classView };
  const nav = ["labs", "experiments", "classes"].includes(parts[0]) ? parts[0] : "overview";
  if (parts[0] && routes[parts[0]] && parts[1]) return { module: routes[parts[0]], name: parts[1], nav };
  if (parts[0] === "labs") return { module: labsView, name: null, nav };
  if (parts[0] === "experiments") return { module: experimentsView, name: null, nav };
  if (parts[0] === "classes") return { module: classesView, name: null, nav };
  return { module: overview, name: null, nav: "overview" };
}

function render() {
  if (view) view.dispose();
  const { module, name, nav } = route();
  for (const link of document.querySelectorAll("header nav a")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  replace(main);
  view = module.mount(main, name);
  main.focus({ preventScroll: true });
  scheduleRefresh(0);
}

function scheduleRefresh(delay = 250) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    if (view) await view.refresh();
  } catch (error) {
    showProblem(error);
  } finally {
    refreshing = false;
    if (refreshAgain) { refreshAgain = false; scheduleRefresh(100); }
  }
}

function setStreamState(state) {
  streamStatus.dataset.state = state;
  streamStatus.textContent = state === "live" ? "live" : "reconnecting…";
}

onTokenNeeded(() => new Promise((resolve) => {
  const input = tokenDialog.querySelector("input");
  input.value = token.get() || "";
  tokenDialog.returnValue = "";
  tokenDialog.showModal();
  tokenDialog.addEventListener("close", () => resolve(tokenDialog.returnValue === "save" ? input.value.trim() : null), { once: true });
}));

document.getElementById("token-button").addEventListener("click", () => {
  const input = tokenDialog.querySelector("input");
  input.value = token.get() || "";
  tokenDialog.showModal();
  tokenDialog.addEventListener("close", () => {
    if (tokenDialog.returnValue === "save") { token.set(input.value.trim()); clearProblems(); scheduleRefresh(0); }
  }, { once: true });
});

setRefresher(scheduleRefresh);
window.addEventListener("hashchange", render);
window.addEventListener("unhandledrejection", (event) => showProblem(event.reason));

const stream = new EventStream(
  (type) => { document.body.dataset.lastEvent = type; scheduleRefresh(); },
  (state, afterGap) => {
    setStreamState(state);
    // Back after a gap (vsquared restarted, or the network dropped): catch up on everything.
    if (state === "live" && afterGap) { clearProblems(); scheduleRefresh(0); }
  });
stream.start();
setInterval(() => { if (!document.hidden) scheduleRefresh(0); }, 2000);

/// A student's token sees one lab: the page opens on it, and shows no pages a student cannot use.
async function fitToPrincipal() {
  const me = await get("/v1/whoami").catch(() => null);
  document.body.dataset.role = me ? me.role : "";
  if (!me || me.role !== "student") return;
  for (const link of document.querySelectorAll("header nav a[data-nav=experiments], header nav a[data-nav=classes]")) link.hidden = true;
  const labs = (me.scope && me.scope.labs) || [];
  if (labs.length === 1 && (location.hash === "" || location.hash === "#/" || location.hash === "#/labs")) location.hash = `#/labs/${name(labs[0])}`;
}
fitToPrincipal().then(render, render);
