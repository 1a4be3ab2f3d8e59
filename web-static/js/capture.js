// A capture form: N seconds of a port's or a cable's traffic as a pcap file, fetched with the
// page's token and handed to the browser as a download (open it in Wireshark), with how many
// frames it holds. The view supplies what is captured (a port number, a direction) and the URL.
import { download } from "./api.js";
import { h } from "./dom.js";
import { act } from "./feedback.js";

/// Frames in a classic pcap file: a 24-byte header, then records of 16 bytes plus what they kept.
export function pcapFrames(bytes) {
  const view = new DataView(bytes);
  let frames = 0;
  for (let offset = 24; offset + 16 <= bytes.byteLength; frames++) offset += 16 + view.getUint32(offset + 8, true);
  return frames;
}

/// Hands `blob` to the browser as a download named `filename`.
export function save(blob, filename) {
  const link = h("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

/// `target` is the form's first field (its `name` is the query or path part it fills);
/// `url(target value, query)` (URLSearchParams, the view may add to it) and `filename(target value)` say where and what to save.
export function captureForm({ label, target, url, filename }) {
  const seconds = h("input", { name: "duration_s", type: "number", min: 1, max: 3600, value: 10, required: true, class: "narrow",
    "aria-label": "Seconds to capture" });
  const filter = h("input", { name: "filter", placeholder: "BPF filter, e.g. icmp", size: 16, "aria-label": "Capture filter" });
  const button = h("button", { type: "submit" }, "Capture");
  const status = h("span", { class: "capture-status muted", role: "status" });
  const form = h("form", { class: "inline-form capture", "aria-label": label },
    h("label", {}, target.label, " ", target.input), h("label", {}, "for ", seconds, " s"), filter, button, status);

  async function capture() {
    const which = target.input.value;
    const query = new URLSearchParams({ duration_s: seconds.value });
    if (filter.value.trim()) query.set("filter", filter.value.trim());
    button.disabled = true;
    status.replaceChildren(`Capturing ${seconds.value} s…`);
    try {
      const blob = await act(() => download(url(which, query)));
      if (!blob) {
        status.replaceChildren();
        return;
      }
      const file = filename(which);
      const frames = pcapFrames(await blob.arrayBuffer());
      // A link that stays, to save it again; the download starts at once.
      const link = h("a", { href: URL.createObjectURL(blob), download: file, "data-frames": frames }, `Save ${file}`);
      status.replaceChildren(`${frames} frame${frames === 1 ? "" : "s"} · `, link);
      save(blob, file);
    } finally {
      button.disabled = false;
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    capture();
  });
  return {
    element: form,
    /// Captures `value` (a row's Capture button) with the form's seconds and filter.
    start(value) {
      target.input.value = value;
      capture();
    },
  };
}
