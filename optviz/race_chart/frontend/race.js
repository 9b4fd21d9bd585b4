"use strict";
// The race chart of optviz: a Streamlit custom component (protocol v1, written by hand, so there
// is no build step).
//
// Python sends one Plotly figure (optviz.figures.race_figure). Its traces say what they are in
// meta.role; the run traces ("path", "grow", "loss", "heads", "loss_heads", "cursor") and the
// surface image are drawn here on a canvas under Plotly's transparent SVG, which keeps the
// axes, landmarks, annotations and zoom. So a slider move that changes the runs redraws a
// canvas (and relayouts the loss axes when their range moved) instead of re-rendering the
// Plotly figure, and a playback frame is one canvas redraw.

const PLAY_SECONDS = 6; // one pass at 1× speed, whatever the number of steps
const HOVER_PX = 12; // how near a point the pointer must be for its tooltip
const RUN_ROLES = new Set(["path", "grow", "loss", "heads", "loss_heads", "cursor"]);
const TRANSPARENT = "rgba(0,0,0,0)";

const gd = document.getElementById("chart");
const canvas = document.getElementById("runs");
const legend = document.getElementById("legend");
const tooltip = document.getElementById("tooltip");
const playButton = document.getElementById("play");
const scrub = document.getElementById("scrub");
const stepLabel = document.getElementById("step");
const speedButtons = Array.from(document.querySelectorAll("button.speed"));

const race = {
  runs: [], // per run: {label, color, x, y, loss (typed arrays of its valid rows), hidden}
  style: {}, // line widths, marker sizes, dots: from the figure's run traces
  image: null, // the surface: {element, x0, x1, y0, y1}
  last: 0, // the last step of the longest run
  k: 0, // the step shown
  playing: false,
  speed: 1,
  arrows: false, // draw the direction of −∇f and the next step at each head
  pick: false,
  fitScreen: false, // projection mode: the plot as tall as the window allows
  maxHeight: 0, // the figure's own height, the most a fitted plot takes
  figureJson: null,
  staticKey: null, // the Plotly part of the figure last drawn, ranges of the loss axes aside
  renders: 0, // figures received and drawn (read by the tests and the latency bench)
};
window.race = race;

function send(type, data) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
}

const DTYPES = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u1: Uint8Array };

// A plotly.js typed-array spec {dtype, bdata} → the typed array.
function decoded(value) {
  if (!value || typeof value !== "object" || !("bdata" in value)) return value;
  const bin = atob(value.bdata);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new DTYPES[value.dtype](bytes.buffer);
}

// ---- the figure: run traces for the canvas, the rest for Plotly ------------------------------

function split(figure) {
  const runs = [];
  const style = {};
  const plotly = [];
  const run = (i) => (runs[i] = runs[i] || { hidden: false });
  for (const trace of figure.data) {
    const meta = trace.meta || {};
    if (!RUN_ROLES.has(meta.role)) {
      plotly.push(trace);
    } else if (meta.role === "path") {
      Object.assign(run(meta.run), {
        x: decoded(trace.x),
        y: decoded(trace.y),
        label: trace.name,
        color: trace.line.color,
        status: meta.status,
        statusKind: meta.status_kind,
        gx: decoded(meta.grad_x),
        gy: decoded(meta.grad_y),
      });
      style.pathWidth = trace.line.width;
      style.pathOpacity = trace.opacity;
    } else if (meta.role === "grow") {
      style.growWidth = trace.line.width;
      style.dots = trace.mode.includes("markers");
      style.dotSize = trace.marker.size;
    } else if (meta.role === "loss") {
      run(meta.run).loss = decoded(trace.y);
      style.lossWidth = trace.line.width;
    } else if (meta.role === "heads") {
      style.headSize = trace.marker.size;
      style.headEdge = trace.marker.line.width;
    } else if (meta.role === "cursor") {
      style.cursor = trace.line;
    }
  }
  // Plotly draws a subplot's axes only if a trace uses it: keep an empty one in each panel.
  for (const [xaxis, yaxis] of [["x", "y"], ["x2", "y2"]]) {
    plotly.push({ type: "scatter", x: [], y: [], xaxis, yaxis, showlegend: false, hoverinfo: "skip" });
  }
  return { runs: runs, style: style, plotly: plotly };
}

// The plot height that fits the browser window below the legend and the play bar (projection
// mode): the top of this frame in the page, the page's window height, at least MIN_HEIGHT.
const MIN_HEIGHT = 360;

function fittedHeight(height) {
  try {
    const frameTop = window.frameElement.getBoundingClientRect().top + window.parent.scrollY;
    const free = window.parent.innerHeight - frameTop - document.getElementById("stage").offsetTop;
    return Math.round(Math.max(MIN_HEIGHT, Math.min(height, free - 12)));
  } catch (error) {
    return height; // not embedded in a page this frame may measure
  }
}

// What Plotly draws: the figure without the run traces, the image or the legend, on a
// transparent background so the canvas shows through.
function plotlyLayout(layout) {
  return Object.assign({}, layout, {
    height: race.fitScreen ? fittedHeight(layout.height) : layout.height,
    images: [],
    showlegend: false,
    margin: Object.assign({}, layout.margin, { t: 16 }), // the legend is HTML above the plot
    paper_bgcolor: TRANSPARENT,
    plot_bgcolor: TRANSPARENT,
  });
}

// The figure's Plotly part as text, with the loss axes' range and ticks left out: when only
// those differ, a relayout of them is enough.
function staticKey(plotly, layout) {
  const omit = (axis, keys) => {
    const out = Object.assign({}, axis);
    keys.forEach((key) => delete out[key]);
    return out;
  };
  return JSON.stringify([
    plotly,
    Object.assign({}, layout, {
      xaxis2: omit(layout.xaxis2, ["range"]),
      yaxis2: omit(layout.yaxis2, ["range", "dtick"]),
    }),
  ]);
}

// Images Python sent, by id: the figure names its surface image as "optviz-image:<id>".
const IMAGE_REF = "optviz-image:";
const images = {};

function loadImage(spec) {
  if (!spec) return Promise.resolve(null);
  let source = spec.source;
  if (source.startsWith(IMAGE_REF)) {
    const id = source.slice(IMAGE_REF.length);
    if (!(id in images)) {
      // This page was not sent that image (it was reloaded): ask for it, draw without it.
      send("streamlit:setComponentValue", {
        value: { need_image: id, id: `${Date.now()}-${Math.random()}` },
        dataType: "json",
      });
      return Promise.resolve(null);
    }
    source = images[id];
  }
  if (race.image && race.image.element.src === source) {
    return Promise.resolve(race.image);
  }
  return new Promise((resolve, reject) => {
    const element = new Image();
    element.onload = () =>
      resolve({
        element: element,
        x0: spec.x,
        x1: spec.x + spec.sizex,
        y1: spec.y,
        y0: spec.y - spec.sizey,
      });
    element.onerror = () => reject(new Error("the surface image did not load"));
    element.src = source;
  });
}

// ---- drawing the runs ------------------------------------------------------------------------

function panel(xname, yname) {
  const layout = gd._fullLayout;
  const xa = layout[xname];
  const ya = layout[yname];
  return {
    xa: xa,
    ya: ya,
    left: xa._offset,
    top: ya._offset,
    width: xa._length,
    height: ya._length,
    px: (v) => xa._offset + xa.c2p(v),
    py: (v) => ya._offset + ya.c2p(v),
  };
}

function polyline(ctx, n, px, py) {
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < n; i++) {
    const x = px(i);
    const y = py(i);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
}

function dot(ctx, x, y, radius, fill, edge, edgeWidth) {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fillStyle = fill;
  ctx.fill();
  if (edgeWidth > 0) {
    ctx.lineWidth = edgeWidth;
    ctx.strokeStyle = edge;
    ctx.stroke();
  }
}

function clipTo(ctx, p) {
  ctx.beginPath();
  ctx.rect(p.left, p.top, p.width, p.height);
  ctx.clip();
}

function draw() {
  const layout = gd._fullLayout;
  if (!layout || !layout.xaxis2) return;
  const ratio = window.devicePixelRatio || 1;
  const width = layout.width;
  const height = layout.height;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, width, height);
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  const s = race.style;
  const shown = race.runs.filter((run) => !run.hidden);
  const row = (run) => Math.min(race.k, run.x.length - 1);

  const c = panel("xaxis", "yaxis");
  ctx.save();
  clipTo(ctx, c);
  if (race.image) {
    const im = race.image;
    const x = c.px(im.x0);
    const y = c.py(im.y1);
    ctx.drawImage(im.element, x, y, c.px(im.x1) - x, c.py(im.y0) - y);
  }
  const px = (run) => (i) => c.px(run.x[i]);
  const py = (run) => (i) => c.py(run.y[i]);
  for (const run of shown) {
    // The whole path stays faintly visible under the growing one.
    ctx.globalAlpha = s.pathOpacity;
    ctx.strokeStyle = run.color;
    ctx.lineWidth = s.pathWidth;
    polyline(ctx, run.x.length, px(run), py(run));
    ctx.globalAlpha = 1;
    ctx.lineWidth = s.growWidth;
    polyline(ctx, row(run) + 1, px(run), py(run));
    if (s.dots) {
      for (let i = 0; i <= row(run); i++) {
        dot(ctx, c.px(run.x[i]), c.py(run.y[i]), s.dotSize / 2, run.color, run.color, 0);
      }
    }
  }
  if (race.arrows) {
    for (const run of shown) drawArrows(ctx, c, run, row(run));
  }
  for (const run of shown) {
    const i = row(run);
    dot(ctx, c.px(run.x[i]), c.py(run.y[i]), s.headSize / 2, run.color, "white", s.headEdge);
  }
  ctx.restore();

  const l = panel("xaxis2", "yaxis2");
  ctx.save();
  clipTo(ctx, l);
  for (const run of shown) {
    ctx.strokeStyle = run.color;
    ctx.lineWidth = s.lossWidth;
    polyline(ctx, run.loss.length, (i) => l.px(i), (i) => l.py(run.loss[i]));
  }
  if (s.cursor) {
    ctx.strokeStyle = s.cursor.color;
    ctx.lineWidth = s.cursor.width;
    ctx.setLineDash([2 * s.cursor.width, 2 * s.cursor.width]);
    polyline(ctx, 2, () => l.px(race.k), (i) => (i === 0 ? l.top : l.top + l.height));
    ctx.setLineDash([]);
  }
  ctx.restore();
  ctx.save();
  clipTo(ctx, { left: l.left - s.headSize, top: l.top - s.headSize,
                width: l.width + 2 * s.headSize, height: l.height + 2 * s.headSize });
  for (const run of shown) {
    const i = Math.min(race.k, run.loss.length - 1);
    dot(ctx, l.px(i), l.py(run.loss[i]), s.headSize / 2, run.color, "white", s.headEdge);
  }
  ctx.restore();
}

function arrow(ctx, x0, y0, x1, y1, color, width, dashed) {
  const length = Math.hypot(x1 - x0, y1 - y0);
  if (!(length > 1)) return;
  const head = Math.min(length / 2, 4 * width + 4);
  const ux = (x1 - x0) / length;
  const uy = (y1 - y0) / length;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dashed ? [2 * width, 1.5 * width] : []);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1 - ux * head, y1 - uy * head);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - ux * head - uy * head * 0.5, y1 - uy * head + ux * head * 0.5);
  ctx.lineTo(x1 - ux * head + uy * head * 0.5, y1 - uy * head - ux * head * 0.5);
  ctx.closePath();
  ctx.fill();
}

// At row i of a run: the direction of −∇f, dashed and of a fixed length on screen (gradients
// span many orders of magnitude), and the step the optimizer took to row i + 1, solid and true
// to scale. Where the two differ is what momentum or per-coordinate scaling did.
function drawArrows(ctx, c, run, i) {
  const x = c.px(run.x[i]);
  const y = c.py(run.y[i]);
  const gx = c.px(run.x[i] - run.gx[i]) - x; // −∇f on screen (the axes may differ in scale)
  const gy = c.py(run.y[i] - run.gy[i]) - y;
  const norm = Math.hypot(gx, gy);
  const reach = 3.5 * race.style.headSize;
  if (norm > 0 && Number.isFinite(norm)) {
    arrow(ctx, x, y, x + (reach * gx) / norm, y + (reach * gy) / norm, "#111", 2, true);
  }
  if (i + 1 < run.x.length) {
    arrow(ctx, x, y, c.px(run.x[i + 1]), c.py(run.y[i + 1]), run.color, race.style.growWidth + 1, false);
  }
}

function drawLegend(runs) {
  legend.replaceChildren(
    ...runs.map((run) => {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "item" + (run.hidden ? " hidden" : "");
      item.title = "Show / hide this run";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = run.color;
      const status = document.createElement("span");
      status.className = `status ${run.statusKind}`;
      status.textContent = run.statusKind === "diverged" ? `⚠ ${run.status}` : `· ${run.status}`;
      item.append(swatch, document.createTextNode(run.label), status);
      item.addEventListener("click", () => {
        run.hidden = !run.hidden;
        item.classList.toggle("hidden", run.hidden);
        draw();
      });
      return item;
    }),
  );
}

// ---- playback --------------------------------------------------------------------------------

function showStep(k) {
  race.k = k;
  scrub.value = String(k);
  stepLabel.textContent = `step ${k} / ${race.last}`;
  draw();
}

function setPlaying(on) {
  race.playing = on;
  playButton.textContent = on ? "❚❚ Pause" : "▶ Play";
  playButton.classList.toggle("on", on);
  if (on) {
    if (race.k >= race.last) race.k = 0; // Play at the end replays from the start
    race.k0 = race.k;
    race.t0 = performance.now();
    requestAnimationFrame(tick);
  }
}

function tick(now) {
  if (!race.playing) return;
  const elapsed = ((now - race.t0) / 1000) * race.speed;
  const k = Math.min(race.last, Math.round(race.k0 + (elapsed / PLAY_SECONDS) * race.last));
  if (k !== race.k) showStep(k);
  if (k >= race.last) setPlaying(false);
  else requestAnimationFrame(tick);
}

playButton.addEventListener("click", () => setPlaying(!race.playing));
// One iterate back or forward: a lecture can go through a run step by step.
document.getElementById("back").addEventListener("click", () => {
  setPlaying(false);
  showStep(Math.max(0, race.k - 1));
});
document.getElementById("forward").addEventListener("click", () => {
  setPlaying(false);
  showStep(Math.min(race.last, race.k + 1));
});
const arrowsButton = document.getElementById("arrows");
arrowsButton.addEventListener("click", () => {
  race.arrows = !race.arrows;
  arrowsButton.classList.toggle("on", race.arrows);
  draw();
});
speedButtons.forEach((button) =>
  button.addEventListener("click", () => {
    // Keep the position: restart the clock from the step shown at the new speed.
    race.speed = Number(button.dataset.speed);
    race.k0 = race.k;
    race.t0 = performance.now();
    speedButtons.forEach((b) => b.classList.toggle("on", b === button));
  }),
);
scrub.addEventListener("input", () => {
  setPlaying(false);
  showStep(Number(scrub.value));
});
document.addEventListener("keydown", (event) => {
  if (event.key === " " && event.target.tagName !== "BUTTON") {
    event.preventDefault();
    setPlaying(!race.playing);
  }
});

// ---- pointer: tooltips, and picking the start --------------------------------------------------

function nearest(event) {
  const box = gd.getBoundingClientRect();
  const mx = event.clientX - box.left;
  const my = event.clientY - box.top;
  let best = null;
  for (const [xname, yname, contour] of [["xaxis", "yaxis", true], ["xaxis2", "yaxis2", false]]) {
    const p = panel(xname, yname);
    if (mx < p.left || mx > p.left + p.width || my < p.top || my > p.top + p.height) continue;
    race.runs.forEach((run) => {
      if (run.hidden) return;
      const rows = Math.min(race.k, run.x.length - 1);
      for (let i = 0; i <= rows; i++) {
        const x = contour ? p.px(run.x[i]) : p.px(i);
        const y = contour ? p.py(run.y[i]) : p.py(run.loss[i]);
        const d = Math.hypot(x - mx, y - my);
        if (d <= HOVER_PX && (!best || d < best.d)) best = { d, run, i, x, y, contour };
      }
    });
  }
  return best;
}

const fmt = (v) => Number(v).toPrecision(5).replace(/\.?0+(e|$)/, "$1");

gd.addEventListener("mousemove", (event) => {
  const hit = nearest(event);
  if (!hit) {
    tooltip.hidden = true;
    return;
  }
  const { run, i } = hit;
  const where = hit.contour ? `(${fmt(run.x[i])}, ${fmt(run.y[i])})` : fmt(run.loss[i]);
  tooltip.textContent = `${run.label}\nstep ${i}\n${where}`;
  tooltip.style.borderColor = run.color;
  tooltip.style.left = `${hit.x + 14}px`;
  tooltip.style.top = `${hit.y + 14}px`;
  tooltip.hidden = false;
});
gd.addEventListener("mouseleave", () => (tooltip.hidden = true));

// A click on the contour panel while picking: the point, rounded to 1/100 of a grid step of the
// axis, goes back to Python as the component's value (the id makes a repeated click new).
function roundTo(value, span) {
  const unit = Math.pow(10, Math.floor(Math.log10(span)) - 2);
  return Number((Math.round(value / unit) * unit).toPrecision(12));
}

gd.addEventListener("click", (event) => {
  if (!race.pick || !gd._fullLayout) return;
  const c = panel("xaxis", "yaxis");
  const box = gd.getBoundingClientRect();
  const px = event.clientX - box.left - c.left;
  const py = event.clientY - box.top - c.top;
  if (px < 0 || px > c.width || py < 0 || py > c.height) return;
  const x = roundTo(c.xa.p2l(px), Math.abs(c.xa.range[1] - c.xa.range[0]));
  const y = roundTo(c.ya.p2l(py), Math.abs(c.ya.range[1] - c.ya.range[0]));
  send("streamlit:setComponentValue", {
    value: { x: x, y: y, id: `${Date.now()}-${Math.random()}` },
    dataType: "json",
  });
});

// ---- rendering what Streamlit sends ----------------------------------------------------------

function fitHeight() {
  send("streamlit:setFrameHeight", { height: document.body.scrollHeight });
}

const CONFIG = {
  displaylogo: false,
  responsive: true,
  // A Plotly snapshot would miss the canvas: the Export tab renders images.
  modeBarButtonsToRemove: ["lasso2d", "select2d", "toImage"],
};

async function render(args) {
  race.fitScreen = Boolean(args.fit_screen);
  race.pick = Boolean(args.pick);
  gd.classList.toggle("pick", race.pick);
  document.body.style.fontSize = `${args.font_size || 16}px`;
  if (args.figure === race.figureJson && !Object.keys(args.images || {}).length) return;
  race.figureJson = args.figure;
  const figure = JSON.parse(args.figure);
  const parts = split(figure);
  if (parts.runs.length === race.runs.length) {
    // Runs hidden from the legend stay hidden while their settings change.
    parts.runs.forEach((run, i) => (run.hidden = race.runs[i].hidden));
  }
  legend.style.fontSize = `${Math.round(0.9 * figure.layout.font.size)}px`;
  drawLegend(parts.runs); // before the layout: a fitted height leaves room for it
  race.maxHeight = figure.layout.height;
  const layout = plotlyLayout(figure.layout);
  const key = staticKey(parts.plotly, layout);
  const image = await loadImage((figure.layout.images || [])[0]);
  if (key !== race.staticKey || !gd._fullLayout) {
    race.staticKey = key;
    const first = !gd._fullLayout;
    await Plotly.react(gd, parts.plotly, layout, CONFIG);
    if (first) {
      // Zoom, pan, resize: Plotly redraws its part, the canvas follows.
      gd.on("plotly_afterplot", draw);
      gd.on("plotly_relayouting", draw);
    }
  } else {
    const update = {};
    const [x2, y2] = [figure.layout.xaxis2, figure.layout.yaxis2];
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(x2.range, gd.layout.xaxis2.range)) update["xaxis2.range"] = x2.range;
    if (!same(y2.range, gd.layout.yaxis2.range)) update["yaxis2.range"] = y2.range;
    if (!same(y2.dtick, gd.layout.yaxis2.dtick)) update["yaxis2.dtick"] = y2.dtick;
    if (Object.keys(update).length) await Plotly.relayout(gd, update);
  }
  setPlaying(false);
  race.runs = parts.runs;
  race.style = parts.style;
  race.image = image;
  race.last = Math.max(0, ...race.runs.map((run) => run.x.length - 1));
  scrub.max = String(race.last);
  showStep(race.last);
  race.renders += 1;
}

// One render at a time, in order (each awaits Plotly), and only the newest of those waiting.
let rendering = Promise.resolve();
let waiting = null;
window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "streamlit:render") return;
  Object.assign(images, event.data.args.images || {}); // kept even if this render is skipped
  const first = waiting === null;
  waiting = event.data.args;
  if (!first) return;
  rendering = rendering.then(() => {
    const args = waiting;
    waiting = null;
    return render(args).catch((error) => {
      legend.textContent = `The race chart could not be drawn: ${error}`;
    });
  });
});
// Projection mode refits the plot when the browser window changes size.
let refitTimer = null;
function refit() {
  if (!race.fitScreen || !gd._fullLayout) return;
  const height = fittedHeight(race.maxHeight);
  if (height !== gd._fullLayout.height) Plotly.relayout(gd, { height: height });
}
try {
  window.parent.addEventListener("resize", () => {
    clearTimeout(refitTimer);
    refitTimer = setTimeout(refit, 150);
  });
} catch (error) {
  // not embedded in a page this frame may watch
}

// The iframe takes the page's height whenever it changes (legend wrapping, figure height).
new ResizeObserver(fitHeight).observe(document.body);
send("streamlit:componentReady", { apiVersion: 1 });
