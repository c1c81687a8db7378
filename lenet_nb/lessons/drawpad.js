// Chapter 7's drawing pad, the part that runs in the browser (an anywidget module): the pen,
// Clear, the upload button and the ink. The ink is painted in the pointer handlers, so it follows
// the pointer at display rate whatever the kernel is doing; when a stroke ends, the canvas goes
// to Python as a PNG data URL in one message, and Python's image reader reads it
// (lenet_nb/lessons/drawpad.py). Each value has one owner: the browser owns `strokes` while
// drawing, Python owns `background` (an upload as its reader saw it) and `read_serial`.

function add(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  const size = model.get("size");
  const root = add("div", "lenet-inkpad", el);
  root.style.width = `${size + 2}px`; // the box's border included: the status wraps below it
  const bar = add("div", "lenet-inkpad-bar", root);
  const penLabel = add("label", "lenet-inkpad-pen lenet-draw-pen", bar);
  penLabel.append("pen ");
  const pen = add("input", "lenet-inkpad-pen-input", penLabel);
  Object.assign(pen, { type: "range", min: 4, max: 40, value: model.get("pen") });
  const penValue = add("span", "lenet-inkpad-pen-value", penLabel);
  penValue.textContent = pen.value;
  const clear = add("button", "lenet-inkpad-clear lenet-draw-clear", bar);
  clear.textContent = "Clear";
  const pick = add("label", "lenet-inkpad-upload", bar);
  pick.append("Upload…");
  const file = add("input", "lenet-draw-upload", pick);
  Object.assign(file, { type: "file", accept: "image/*" });
  const box = add("div", "lenet-inkpad-box", root);
  box.style.width = box.style.height = `${size}px`;
  // two layers: the uploaded picture under the ink (drawn from Python's PNG), and the ink
  const under = add("canvas", "lenet-inkpad-under", box);
  const ink = add("canvas", "lenet-inkpad-ink lenet-draw-canvas", box);
  for (const c of [under, ink]) c.width = c.height = size;
  const ctx = ink.getContext("2d", { willReadFrequently: true });
  const underCtx = under.getContext("2d");
  const status = add("div", "lenet-inkpad-status lenet-draw-status", root);

  const penStyle = (width) => {
    ctx.strokeStyle = ctx.fillStyle = "black";
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = width;
  };
  const dot = ([x, y], width) => {
    ctx.beginPath();
    ctx.arc(x, y, width / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  const paint = ([width, points]) => {
    penStyle(width);
    dot(points[0], width);
    if (points.length > 1) {
      ctx.beginPath();
      ctx.moveTo(...points[0]);
      for (const p of points.slice(1)) ctx.lineTo(...p);
      ctx.stroke();
    }
  };
  let stroke = null; // the stroke being drawn: [width, [[x, y], ...]]
  const repaint = () => {
    ctx.clearRect(0, 0, size, size);
    for (const s of model.get("strokes")) paint(s);
    if (stroke) paint(stroke);
  };
  const repaintUnder = async () => {
    underCtx.clearRect(0, 0, size, size);
    const png = model.get("background");
    if (!png || !png.byteLength) return; // nothing uploaded: nothing drawn, no broken image
    const picture = await createImageBitmap(new Blob([png], { type: "image/png" }));
    underCtx.drawImage(picture, 0, 0);
  };

  // "reading…" from a message until Python acknowledges it (read_serial), so a learner sees
  // that a reading is queued while the kernel is busy
  let serial = model.get("read_serial");
  const showStatus = () => {
    const done = model.get("read_serial") >= serial;
    status.textContent = done ? model.get("status") : "reading…";
    root.dataset.pending = done ? "0" : "1";
  };
  const send = (content, buffers) => {
    serial += 1;
    model.send({ ...content, serial }, undefined, buffers);
    showStatus();
  };

  const at = (e) => {
    const r = ink.getBoundingClientRect();
    const scale = (v, from) => Math.round(((v * size) / from) * 10) / 10;
    return [scale(e.clientX - r.left, r.width), scale(e.clientY - r.top, r.height)];
  };
  ink.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    ink.setPointerCapture(e.pointerId); // the stroke goes on (and ends) outside the box too
    stroke = [Number(pen.value), [at(e)]];
    penStyle(stroke[0]);
    dot(stroke[1][0], stroke[0]);
    e.preventDefault();
  });
  ink.addEventListener("pointermove", (e) => {
    if (!stroke) return;
    const points = stroke[1];
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    penStyle(stroke[0]);
    ctx.beginPath();
    ctx.moveTo(...points[points.length - 1]);
    for (const ev of events.length ? events : [e]) {
      const p = at(ev);
      ctx.lineTo(...p);
      points.push(p);
    }
    ctx.stroke();
  });
  const end = () => {
    if (!stroke) return;
    const done = stroke;
    stroke = null;
    model.set("strokes", [...model.get("strokes"), done]);
    model.save_changes();
    send({ kind: "ink", url: ink.toDataURL("image/png") });
  };
  ink.addEventListener("pointerup", end);
  ink.addEventListener("pointercancel", end);
  ink.addEventListener("lostpointercapture", end);

  pen.addEventListener("input", () => {
    penValue.textContent = pen.value;
    model.set("pen", Number(pen.value));
    model.save_changes();
  });
  clear.addEventListener("click", () => {
    stroke = null;
    ctx.clearRect(0, 0, size, size);
    underCtx.clearRect(0, 0, size, size);
    model.set("strokes", []);
    model.save_changes();
    send({ kind: "clear" }); // Python empties `background`: the same file can come back
  });
  file.addEventListener("change", async () => {
    const picked = file.files[0];
    file.value = ""; // picking the same file again (after Clear) fires "change" again
    if (!picked) return;
    const about = { kind: "upload", name: picked.name, bytes: picked.size };
    if (picked.size > model.get("max_upload_bytes")) {
      send(about); // refused without reading it: Python says so in words
    } else {
      send(about, [await picked.arrayBuffer()]);
    }
  });

  model.on("change:strokes", repaint);
  model.on("change:background", repaintUnder);
  model.on("change:read_serial", showStatus);
  model.on("change:status", showStatus);
  model.on("change:pen", () => {
    pen.value = model.get("pen");
    penValue.textContent = pen.value;
  });
  repaint();
  repaintUnder();
  showStatus();
}

export default { render };
