// Traffic over the last minutes as SVG, drawn from the counter readings a view already takes on each
// refresh: frames/s and bit/s in each direction as lines, and drops per second stacked by cause.
// One TrafficHistory per thing watched; rates come from neighbouring readings (a counter that went
// back, as after a reset, gives no point). No library: three small charts in one SVG.
import { format, s } from "./dom.js";

const panel = { width: 300, height: 160, top: 22, bottom: 36, left: 58, right: 8 };

export class TrafficHistory {
  constructor(seconds = 300) { this.seconds = seconds; this.readings = []; }

  /// `reading`: totals now, {frames: {DIRECTION: n}, bytes: {DIRECTION: n}, drops: {CAUSE: n}}.
  add(reading, at = performance.now() / 1000) {
    this.readings.push({ at, ...reading });
    while (this.readings.length > 2 && at - this.readings[1].at > this.seconds) this.readings.shift();
  }

  /// [{at, frames: {DIRECTION: per s}, bits: {DIRECTION: per s}, drops: {CAUSE: per s}}].
  rates() {
    const points = [];
    for (let index = 1; index < this.readings.length; index++) {
      const before = this.readings[index - 1];
      const after = this.readings[index];
      const span = after.at - before.at;
      if (span <= 0) continue;
      const per = (now, then) => (now === undefined || then === undefined || now < then ? null : (now - then) / span);
      const each = (now = {}, then = {}, scale = 1) => Object.fromEntries(Object.keys(now).map((key) => {
        const rate = per(now[key], then[key]);
        return [key, rate === null ? null : rate * scale];
      }));
      points.push({ at: after.at, frames: each(after.frames, before.frames), bits: each(after.bytes, before.bytes, 8),
        drops: each(after.drops, before.drops) });
    }
    return points;
  }
}

/// A round number at or above `value`, so the axis reads 1, 2, 5, 10, 20, …
function ceiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((step) => step >= value);
}

/// One chart: `series` is [{name, className, values: [{at, value}]}]; stacked ones are areas piled up.
function chart(x0, title, series, { now, seconds, stacked, label }) {
  const innerWidth = panel.width - panel.left - panel.right;
  const innerHeight = panel.height - panel.top - panel.bottom;
  const xOf = (at) => x0 + panel.left + innerWidth * (1 - Math.min(seconds, Math.max(0, now - at)) / seconds);
  let top = 0;
  const piled = [];
  if (stacked) {
    const times = [...new Set(series.flatMap((one) => one.values.map((point) => point.at)))].sort((a, b) => a - b);
    const base = new Map(times.map((at) => [at, 0]));
    for (const one of series) {
      const lower = times.map((at) => base.get(at));
      const byTime = new Map(one.values.map((point) => [point.at, point.value || 0]));
      const upper = times.map((at, index) => lower[index] + (byTime.get(at) || 0));
      times.forEach((at, index) => base.set(at, upper[index]));
      piled.push({ ...one, times, lower, upper });
    }
    top = Math.max(0, ...base.values());
  } else {
    top = Math.max(0, ...series.flatMap((one) => one.values.map((point) => point.value || 0)));
  }
  const scale = ceiling(top);
  const yOf = (value) => panel.top + innerHeight * (1 - value / scale);
  const marks = [];
  if (stacked) {
    for (const one of piled) {
      if (!one.upper.some((value, index) => value > one.lower[index])) continue;
      const edge = one.times.map((at, index) => `${xOf(at).toFixed(1)},${yOf(one.upper[index]).toFixed(1)}`);
      const floor = one.times.map((at, index) => `${xOf(at).toFixed(1)},${yOf(one.lower[index]).toFixed(1)}`).reverse();
      marks.push(s("polygon", { class: `area ${one.className}`, points: [...edge, ...floor].join(" "), "data-series": one.name },
        s("title", {}, one.name)));
    }
  } else {
    for (const one of series) {
      const points = one.values.filter((point) => point.value !== null);
      if (points.length < 2) continue;
      marks.push(s("polyline", { class: `line ${one.className}`, "data-series": one.name,
        points: points.map((point) => `${xOf(point.at).toFixed(1)},${yOf(point.value).toFixed(1)}`).join(" ") }));
    }
  }
  const left = x0 + panel.left;
  const bottom = panel.top + innerHeight;
  // Three names to a row, two rows at most (the rest are still drawn, and named in the area's title).
  const legend = series.slice(0, 6).map((one, index) => {
    const x = left + (index % 3) * 80;
    const y = bottom + 6 + Math.floor(index / 3) * 13;
    return s("g", { class: `legend ${one.className}` },
      s("rect", { x, y, width: 9, height: 9 }), s("text", { x: x + 12, y: y + 8 }, one.name));
  });
  return s("g", { class: "chart", "data-chart": title, "data-max": String(scale) },
    s("text", { x: left, y: 14, class: "title" }, title),
    s("text", { x: left - 4, y: panel.top + 4, "text-anchor": "end", class: "axis" }, label(scale)),
    s("text", { x: left - 4, y: bottom, "text-anchor": "end", class: "axis" }, "0"),
    s("line", { x1: left, y1: bottom, x2: left + innerWidth, y2: bottom, class: "base" }),
    s("line", { x1: left, y1: panel.top, x2: left + innerWidth, y2: panel.top, class: "grid" }),
    s("text", { x: left + innerWidth, y: 14, "text-anchor": "end", class: "axis" }, seconds < 120 ? `last ${Math.round(seconds)} s` : `last ${Math.round(seconds / 60)} min`),
    marks, legend);
}

/// Draws `history` into `svg`: `directions` is [[key, label]] (e.g. [["rx", "in"], ["tx", "out"]]).
export function drawTraffic(svg, history, directions, now = performance.now() / 1000) {
  const points = history.rates();
  const line = (kind) => directions.map(([key, label], index) => ({
    name: label, className: `d${index}`, values: points.map((point) => ({ at: point.at, value: point[kind][key] ?? null })),
  }));
  // Only the causes that dropped something in the window.
  const causes = [...new Set(points.flatMap((point) => Object.keys(point.drops).filter((cause) => point.drops[cause] > 0)))].sort();
  const drops = causes.map((cause, index) => ({
    name: cause, className: `c${index % 6}`, values: points.map((point) => ({ at: point.at, value: point.drops[cause] ?? 0 })),
  }));
  // The time axis grows with the history, from half a minute up to the whole window, so a page just
  // opened does not squeeze its few readings against the right edge.
  const first = history.readings.length ? history.readings[0].at : now;
  const options = { now, seconds: Math.min(history.seconds, Math.max(30, now - first)) };
  svg.setAttribute("viewBox", `0 0 ${3 * panel.width} ${panel.height}`);
  svg.replaceChildren(
    chart(0, "Frames/s", line("frames"), { ...options, label: (value) => format.frames(value) }),
    chart(panel.width, "Bit/s", line("bits"), { ...options, label: (value) => format.bits(value) }),
    chart(2 * panel.width, "Drops/s by cause", drops, { ...options, stacked: true, label: (value) => format.frames(value) }),
    causes.length === 0 ? s("text", { x: 2 * panel.width + panel.left + (panel.width - panel.left - panel.right) / 2, y: panel.height / 2 - 8,
      "text-anchor": "middle", class: "empty" }, "no drops") : null);
}
