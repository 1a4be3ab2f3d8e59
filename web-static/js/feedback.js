// How the page tells the user what happened: API problems (title, detail, code) in the banner,
// and actions that refresh the view when they end, whether they worked or not.
import { APIError } from "./api.js";
import { h } from "./dom.js";

const problems = document.getElementById("problems");
let refresher = () => {};

export function setRefresher(schedule) {
  refresher = schedule;
}

export function scheduleRefresh(delay = 250) {
  refresher(delay);
}

/// Shows an API error (problem+json title and detail) or any other failure; never leaves a blank page.
export function showProblem(error) {
  const title = error instanceof APIError ? error.title : "Something went wrong";
  const detail = error instanceof APIError ? error.detail : String(error && error.message ? error.message : error);
  const code = error instanceof APIError ? error.code : "client_error";
  // The same problem twice is shown once.
  for (const existing of problems.children) {
    if (existing.dataset.key === `${code}:${detail}`) return;
  }
  const item = h("div", { class: "problem", "data-key": `${code}:${detail}`, "data-code": code },
    h("strong", { class: "problem-title" }, title),
    h("span", { class: "problem-detail" }, detail),
    h("code", {}, code),
    h("button", { type: "button", class: "dismiss", "aria-label": `Dismiss: ${title}`, onclick: () => item.remove() }, "×"));
  problems.append(item);
  while (problems.children.length > 3) problems.firstChild.remove();
}

export function clearProblems() {
  problems.replaceChildren();
}

/// Runs an action from a button or form; its failure is shown, and the view refreshes either way.
export async function act(work) {
  try {
    const result = await work();
    scheduleRefresh(0);
    return result;
  } catch (error) {
    showProblem(error);
    scheduleRefresh(0);
    return undefined;
  }
}

