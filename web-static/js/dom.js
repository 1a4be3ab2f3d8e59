// Small DOM helpers: element builders, keyed table rows that update in place (so live updates
// neither move the layout nor steal focus), and number formats with fixed widths.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  return fill(element, attributes, children);
}

export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  return fill(element, attributes, children);
}

function fill(element, attributes, children) {
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "text") element.textContent = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/// Replaces a container's content.
export function replace(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
}

/// Keeps tbody's rows equal to `items`: rows are reused by key, and a cell is rebuilt only when
/// its signature changes. A cell is text, or {sig, node: () => Node}.
export function syncRows(tbody, items, keyOf, cellsOf) {
  const wrap = tbody.closest(".table-wrap");
  if (wrap && wrap.dataset.emptyText) {
    if (items.length === 0) wrap.dataset.empty = wrap.dataset.emptyText;
    else delete wrap.dataset.empty;
  }
  const existing = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
  let previous = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let row = existing.get(key);
    existing.delete(key);
    const cells = cellsOf(item);
    if (!row) {
      row = h("tr", { "data-key": key });
      for (let index = 0; index < cells.length; index++) row.append(h(index === 0 ? "th" : "td", index === 0 ? { scope: "row" } : {}));
    }
    cells.forEach((cell, index) => {
      const target = row.cells[index];
      const sig = typeof cell === "object" && cell !== null ? cell.sig : String(cell ?? "");
      if (target.dataset.sig === sig && target.hasChildNodes() === (sig !== "")) return;
      target.dataset.sig = sig;
      if (typeof cell === "object" && cell !== null) target.replaceChildren(cell.node());
      else target.textContent = sig;
    });
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (row !== expected) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
}

/// A table in a horizontally scrolling wrapper; `empty` is shown while it has no rows.
export function table(caption, headers, attributes = {}, empty = "None.") {
  const tbody = h("tbody");
  const element = h("table", attributes,
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
    tbody);
  return { element: h("div", { class: "table-wrap", "data-empty-text": empty }, element), tbody };
}

export const format = {
  count(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US");
  },
  bits(bitsPerSecond) {
    if (bitsPerSecond === null || bitsPerSecond === undefined || Number.isNaN(bitsPerSecond)) return "–";
    const units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s"];
    let value = bitsPerSecond;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
    return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
  },
  frames(perSecond) {
    return perSecond === null || perSecond === undefined ? "–" : `${perSecond.toFixed(perSecond < 10 ? 1 : 0)}/s`;
  },
};

/// Per-second rates from successive counter readings, by key.
export class RateMeter {
  constructor() { this.last = new Map(); }
  /// Returns {name: rate} for each numeric field of `counters`, or nulls on the first reading.
  update(key, counters, fields) {
    const now = performance.now();
    const before = this.last.get(key);
    this.last.set(key, { at: now, counters });
    const rates = {};
    for (const field of fields) {
      if (!before || now <= before.at || counters[field] < before.counters[field]) { rates[field] = null; continue; }
      rates[field] = (counters[field] - before.counters[field]) / ((now - before.at) / 1000);
    }
    return rates;
  }
}
