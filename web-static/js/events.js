// The SSE stream (/v1/events), read with fetch so it carries the bearer token. It reconnects
// (with Last-Event-ID) after errors and after vsquared restarts; `onState` hears "live" (with
// whether there was a gap, after which the page fetches everything again) and "reconnecting".
import { authHeaders } from "./api.js";

export class EventStream {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastID = null;
    this.retryMilliseconds = 2000;
    this.stopped = false;
  }

  start() {
    this.run();
  }

  async run() {
    let hadGap = false;
    while (!this.stopped) {
      try {
        const headers = authHeaders({ Accept: "text/event-stream" });
        if (this.lastID) headers["Last-Event-ID"] = this.lastID;
        const response = await fetch("/v1/events", { headers, cache: "no-store" });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        this.onState("live", hadGap);
        await this.read(response.body.pipeThrough(new TextDecoderStream()).getReader());
      } catch (error) {
        // Unreachable or refused: try again below.
      }
      hadGap = true;
      if (this.stopped) return;
      this.onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, this.retryMilliseconds));
    }
  }

  async read(reader) {
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  dispatch(block) {
    let type = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") this.lastID = value;
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) this.retryMilliseconds = Number(value);
    }
    if (data.length === 0) return;
    let payload = {};
    try { payload = JSON.parse(data.join("\n")); } catch { payload = { text: data.join("\n") }; }
    this.onEvent(type, payload);
  }
}
