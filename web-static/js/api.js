// The public API, and nothing else: fetch with the bearer token (asked for once, kept in
// sessionStorage), JSON in and out, and every failure as an APIError carrying the
// problem+json title, detail and code.

const tokenKey = "vsquare.token";
let askForToken = null;

export class APIError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || "";
    this.code = problem.code || "unknown";
    /// The whole problem+json body (problems, failures, …).
    this.problem = problem;
  }
}

export const token = {
  get: () => sessionStorage.getItem(tokenKey),
  set: (value) => (value ? sessionStorage.setItem(tokenKey, value) : sessionStorage.removeItem(tokenKey)),
};

/// `prompt` resolves with a token typed by the user (or null when they cancel).
export function onTokenNeeded(prompt) {
  askForToken = prompt;
}

export function authHeaders(headers = {}) {
  const value = token.get();
  return value ? { ...headers, Authorization: `Bearer ${value}` } : headers;
}

export async function api(method, path, body, options = {}) {
  return request(method, path, body === undefined ? {} : { text: JSON.stringify(body), contentType: "application/json" }, options);
}

/// A topology document sent as typed, as YAML (JSON is YAML too), so problems come with their lines.
export async function send(method, path, text, options = {}) {
  return request(method, path, { text, contentType: "application/yaml" }, options);
}

/// `options.headers` are sent too; `options.withHeaders` answers {data, headers}.
async function request(method, path, { text, contentType }, options, retried = false) {
  const headers = authHeaders({ Accept: "application/json, application/problem+json", ...(options.headers || {}) });
  if (text !== undefined) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(path, { method, headers, body: text });
  } catch (error) {
    throw new APIError({ title: "vsquared is unreachable", detail: String(error.message || error), code: "unreachable" }, 0);
  }
  if (response.status === 401 && !retried && askForToken) {
    const typed = await askForToken();
    if (typed) {
      token.set(typed);
      return request(method, path, { text, contentType }, options, true);
    }
  }
  // A file (a pcap capture) comes back as it is; a problem about it is JSON like any other.
  if (options.binary && response.ok) return response.blob();
  let data = null;
  if (response.status !== 204) {
    const type = response.headers.get("Content-Type") || "";
    data = type.includes("json") ? await response.json().catch(() => ({})) : { detail: await response.text() };
    if (!response.ok) throw new APIError(data, response.status);
  }
  return options.withHeaders ? { data, headers: response.headers } : data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const patch = (path, body) => api("PATCH", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);
/// A file to save (a capture): its Blob.
export const download = (path) => api("GET", path, undefined, { binary: true, headers: { Accept: "application/vnd.tcpdump.pcap, application/problem+json" } });
export const name = encodeURIComponent;
