// The drawing pad's view (anywidget ESM; no build step). cnnteach/drawing_pad.py is its model.
//
// Traits shared with Python:
//   drawing       (JS -> Python) the canvas as a PNG data URL after each stroke, "" after Clear
//   probabilities (Python -> JS) ten numbers, or [] when there is nothing to read
//   seen          (Python -> JS) the 28 x 28 image the network reads, 784 grey levels 0-255
//   message       (Python -> JS) one sentence when the drawing cannot be read
//   updates       (Python -> JS) how many drawings Python has read so far
const SIZE = 280; // canvas pixels (ten per MNIST pixel)
const PEN = 20; // stroke width in canvas pixels (cnnteach.drawing_pad.PEN_WIDTH)
const LIVE_MS = 250; // while a stroke goes on, send the drawing at most this often

function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  const root = element("div", "cnnteach-pad", el);
  root.style.cssText = "display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap;font:13px sans-serif";

  const left = element("div", "", root);
  const canvas = element("canvas", "cnnteach-pad-canvas", left);
  canvas.width = SIZE;
  canvas.height = SIZE;
  canvas.style.cssText = `width:${SIZE}px;height:${SIZE}px;border:1px solid #888;touch-action:none;cursor:crosshair;background:#fff`;
  const pen = canvas.getContext("2d");
  const buttons = element("div", "", left);
  const clear = element("button", "cnnteach-pad-clear", buttons);
  clear.textContent = "Clear";
  clear.type = "button";
  clear.style.cssText = "margin-top:6px;padding:2px 12px";

  const right = element("div", "", root);
  const top = element("div", "cnnteach-pad-top", right);
  top.style.cssText = "font-size:16px;font-weight:bold;margin-bottom:6px";
  const bars = element("div", "cnnteach-pad-bars", right);
  const rows = [];
  for (let digit = 0; digit < 10; digit++) {
    const row = element("div", "cnnteach-pad-row", bars);
    row.style.cssText = "display:flex;align-items:center;gap:6px;height:18px";
    const label = element("span", "", row);
    label.textContent = String(digit);
    label.style.cssText = "width:10px;text-align:right";
    const track = element("div", "", row);
    track.style.cssText = "width:200px;height:12px;background:#eee";
    const bar = element("div", "cnnteach-pad-bar", track);
    bar.dataset.digit = String(digit);
    bar.style.cssText = "height:12px;width:0;background:#8aa9c9";
    const value = element("span", "cnnteach-pad-value", row);
    value.style.cssText = "width:40px";
    rows.push({ bar, value });
  }
  const seenLabel = element("div", "", right);
  seenLabel.textContent = "what the network sees (28 × 28):";
  seenLabel.style.marginTop = "8px";
  const seen = element("canvas", "cnnteach-pad-seen", right);
  seen.width = 28;
  seen.height = 28;
  seen.style.cssText = "width:112px;height:112px;image-rendering:pixelated;background:#000;border:1px solid #888";

  function blank() {
    pen.fillStyle = "#fff";
    pen.fillRect(0, 0, SIZE, SIZE);
  }
  blank();

  let drawing = false;
  let last = null;
  let lastSent = 0;
  let timer = null;

  function send() {
    timer = null;
    lastSent = Date.now();
    model.set("drawing", canvas.toDataURL("image/png"));
    model.save_changes();
  }
  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (SIZE / box.width), (event.clientY - box.top) * (SIZE / box.height)];
  }
  function line(from, to) {
    pen.strokeStyle = "#000";
    pen.fillStyle = "#000";
    pen.lineWidth = PEN;
    pen.lineCap = "round";
    pen.lineJoin = "round";
    pen.beginPath();
    pen.moveTo(from[0], from[1]);
    pen.lineTo(to[0], to[1]);
    pen.stroke();
  }
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = point(event);
    line(last, last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const now = point(event);
    line(last, now);
    last = now;
    if (!timer) timer = setTimeout(send, Math.max(0, LIVE_MS - (Date.now() - lastSent)));
  });
  function finish(event) {
    if (!drawing) return;
    drawing = false;
    if (timer) clearTimeout(timer);
    send(); // the stroke is complete: always send its final state
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  clear.addEventListener("click", () => {
    if (timer) clearTimeout(timer);
    timer = null;
    blank();
    model.set("drawing", "");
    model.save_changes();
  });

  function show() {
    const p = model.get("probabilities") || [];
    const message = model.get("message") || "";
    const best = p.length ? p.indexOf(Math.max(...p)) : -1;
    root.dataset.updates = String(model.get("updates"));
    top.dataset.digit = best >= 0 ? String(best) : "";
    top.textContent = best >= 0 ? `The network reads a ${best} (p = ${p[best].toFixed(2)})` : message || "Draw a digit";
    rows.forEach(({ bar, value }, digit) => {
      const v = p.length ? p[digit] : 0;
      bar.style.width = `${Math.round(200 * v)}px`;
      bar.style.background = digit === best ? "#1f4e79" : "#8aa9c9";
      bar.dataset.p = v.toFixed(4);
      value.textContent = p.length ? v.toFixed(2) : "";
    });
    const grey = model.get("seen") || [];
    const small = seen.getContext("2d");
    const pixels = small.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const g = grey.length === 784 ? grey[i] : 0;
      pixels.data.set([g, g, g, 255], 4 * i);
    }
    small.putImageData(pixels, 0, 0);
  }
  model.on("change:updates", show);
  model.on("change:message", show);
  show();
}

export default { render };
