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
//
// The chart sizes itself from the browser window: the trajectory panel is the largest square
// that fits under the play bar, the legend, loss panel and a view that follows the race
// (dynamics, gradient field or 3-D, optviz.figures.view_figure) beside it. Every size is
// explicit (width, height, margins, domains): Plotly's own "responsive" resizing deleted the
// layout height on a window resize and autosized the plot from a div whose height had become
// 0 — the blank chart of projection mode (issue 8).

const PLAY_SECONDS = 6; // one pass at 1× speed, whatever the number of steps
const HOVER_PX = 12; // how near a point the pointer must be for its tooltip
// The run traces' roles are Python's table (optviz.figures.RUN_ROLES), carried by every race
// figure as layout.meta.run_roles: has(role) reads them from the figure being split (its JSON,
// race.figureJson, is set just before split runs; layout is at its end, so this is cheap).
const RUN_ROLES = {
  json: null,
  names: new Set(),
  has(role) {
    const json = race.figureJson || "";
    if (json !== this.json) {
      const at = json.lastIndexOf('"run_roles"');
      const list = at < 0 ? "[]" : json.slice(json.indexOf("[", at), json.indexOf("]", at) + 1);
      this.json = json;
      this.names = new Set(JSON.parse(list));
    }
    return this.names.has(role);
  },
};
const TRANSPARENT = "rgba(0,0,0,0)";
const MIN_HEIGHT = 320; // the stage is never shorter (the page scrolls instead)
const FOLLOW_MS = 80; // a 3-D view follows playback at most this often

const gd = document.getElementById("chart");
const canvas = document.getElementById("runs");
const stage = document.getElementById("stage");
const bar = document.getElementById("bar");
const legend = document.getElementById("legend");
const tooltip = document.getElementById("tooltip");
const playButton = document.getElementById("play");
const scrub = document.getElementById("scrub");
const stepLabel = document.getElementById("step");
const speedButtons = Array.from(document.querySelectorAll("button.speed"));
const help = document.getElementById("help");
const viewBox = document.getElementById("viewbox");
const viewTabs = document.getElementById("viewtabs");
const viewWrap = document.getElementById("viewwrap");
const viewGd = document.getElementById("view");
const viewCanvas = document.getElementById("viewcanvas");

const race = {
  runs: [], // per run: {label, color, x, y, gx, gy, f, lrx, lry, loss (typed arrays), hidden}
  style: {}, // line widths, marker sizes, dots: from the figure's run traces
  image: null, // the surface: {element, x0, x1, y0, y1}
  last: 0, // the last step of the longest run
  k: 0, // the step shown
  playing: false,
  speed: 1,
  arrows: false, // draw the direction of −∇f and the next step at each head
  glyphs: false, // draw the optimizer's state at each head (momentum arrow, step-size bars)
  extras: null, // what Python sent besides the figure: {state, curvature} (optviz.race_data)
  extrasJson: null,
  pick: false,
  projection: false,
  figure: null, // the parsed figure last received
  figureJson: null,
  geometry: null, // where everything goes (see arrange)
  staticKey: null, // the Plotly part of the figure last drawn, ranges of the loss axes aside
  renders: 0, // figures received and drawn (read by the tests and the latency bench)
  view: { name: null, ref: null, spec: null, key: null, drawn: 0 }, // the view that follows
  arranges: 0, // layouts applied (read by the tests)
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
        lrx: decoded(meta.lr_x),
        lry: decoded(meta.lr_y),
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
  // f itself, for the 3-D view: the loss panel plots f − f_offset (f* on a log axis).
  const offset = (figure.layout.meta && figure.layout.meta.f_offset) || 0;
  runs.forEach((r) => (r.f = Float64Array.from(r.loss, (v) => v + offset)));
  for (const [xaxis, yaxis] of [["x", "y"], ["x2", "y2"]]) {
    plotly.push({ type: "scatter", x: [], y: [], xaxis, yaxis, showlegend: false, hoverinfo: "skip" });
  }
  return { runs: runs, style: style, plotly: plotly };
}

// ---- layout: everything sized from the browser window ------------------------------------------

// The parent page, when this frame may reach it (same origin), else null.
function parentWindow() {
  try {
    return window.frameElement ? window.parent : null;
  } catch (error) {
    return null;
  }
}

function fullScreenHere() {
  const p = parentWindow();
  const element = p ? p.document.fullscreenElement : document.fullscreenElement;
  return Boolean(element) && (element === window.frameElement || element === document.documentElement);
}

// The window height left for the stage: the page's window below this frame's top (as if the
// page were scrolled to the top), or the whole screen in full-screen mode.
function freeHeight() {
  const p = parentWindow();
  if (!p || fullScreenHere()) return window.innerHeight - stage.offsetTop - 4;
  let top = window.frameElement.getBoundingClientRect().top;
  for (let el = window.frameElement.parentElement; el; el = el.parentElement) top += el.scrollTop;
  return p.innerHeight - top - stage.offsetTop - 10;
}

// Type and lines grow with the window in projection mode: 1× at 1280×720.
function scaleFactor() {
  if (!race.projection) return 1;
  const p = parentWindow() || window;
  const w = fullScreenHere() ? window.innerWidth : p.innerWidth;
  const h = fullScreenHere() ? window.innerHeight : p.innerHeight;
  return Math.min(1.5, Math.max(0.8, Math.pow(Math.min(w / 1280, h / 720), 0.7)));
}

// Where everything goes, in pixels of the stage: the square trajectory panel, the legend, the
// loss panel and the view box. Wide pages put the last three in a column right of the square;
// narrow ones stack everything (and the page scrolls).
function geometry() {
  const scale = scaleFactor();
  const font = Math.round(race.figure.layout.font.size * scale);
  const W = Math.max(320, document.documentElement.clientWidth);
  const H = Math.max(MIN_HEIGHT, Math.round(freeHeight()));
  const m = { l: Math.round(3.2 * font + 12), r: 12, t: 8, b: Math.round(3.1 * font + 8) };
  const gapX = Math.round(4.4 * font); // the loss panel's tick labels and axis title
  const under = Math.round(4.6 * font); // the loss panel's step ticks and title
  const withView = Boolean(race.view.name);
  const g = { scale, font, W, m, gapX, under, withView };
  const tabs = Math.round(1.6 * font);
  const wideSide = Math.min(H - m.t - m.b, Math.round(0.64 * W) - m.l);
  const rightWidth = W - (m.l + wideSide + gapX) - m.r;
  // Stacked when the column beside the square would be too narrow, or when the window is so
  // tall for its width that the square would be far larger stacked (portrait screens).
  const stackedSide = Math.min(W - m.l - m.r, H - m.t - m.b);
  g.stacked = rightWidth < Math.max(220, 12 * font) || stackedSide > 1.4 * wideSide;
  if (!g.stacked) {
    g.side = wideSide;
    g.right = m.l + wideSide + gapX; // the loss panel's left edge
    g.legend = { left: m.l + wideSide + Math.round(0.6 * font), top: 2, width: W - m.l - wideSide - Math.round(0.6 * font) - 4 };
    g.H = H;
  } else {
    g.side = Math.max(160, Math.min(W - m.l - m.r, H - m.t - m.b));
    g.right = m.l;
    g.legend = { left: 4, top: m.t + g.side + m.b + Math.round(0.4 * font), width: W - 8 };
  }
  return g;
}

// Finish the geometry once the legend's height is known.
function finish(g, legendHeight) {
  const { m, font, under } = g;
  const lossTop = g.legend.top + legendHeight + Math.round(0.5 * font);
  if (!g.stacked) {
    const bottom = g.H - m.b; // the trajectory panel's bottom edge
    if (g.withView) {
      const room = bottom - lossTop - under;
      g.loss = { top: lossTop, height: Math.max(60, Math.round(0.42 * room)) };
      const top = g.loss.top + g.loss.height + under;
      g.view = { left: m.l + g.side + Math.round(0.6 * font), top, width: g.W - (m.l + g.side + Math.round(0.6 * font)) - 4, height: g.H - top - 2 };
    } else {
      const tabs = Math.round(1.5 * font); // room for the view tabs under the step axis
      g.loss = { top: lossTop, height: Math.max(60, g.H - lossTop - under - tabs) };
      g.view = null;
    }
  } else {
    g.loss = { top: lossTop, height: Math.round(0.5 * g.side) };
    const top = lossTop + g.loss.height + under;
    g.view = g.withView ? { left: 4, top, width: g.W - 8, height: Math.round(0.8 * g.side) } : null;
    g.H = g.view ? top + g.view.height + 4 : top;
  }
  return g;
}

// What Plotly draws: the figure without the run traces, the image or the legend, on a
// transparent background so the canvas shows through, in the geometry's boxes.
function plotlyLayout(layout, g) {
  const { m, W, H } = g;
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const frac = (px, total) => Math.min(1, Math.max(0, px / total));
  const trajTop = 0; // pixels below the plot area's top
  const lossLeft = g.right - m.l;
  const lossRows = g.stacked
    ? [g.loss.top - m.t, g.loss.top - m.t + g.loss.height]
    : [g.loss.top - m.t, g.loss.top - m.t + g.loss.height];
  const fixed = { automargin: false };
  const out = Object.assign({}, layout, {
    width: W,
    height: H,
    images: [],
    showlegend: false,
    margin: { l: m.l, r: m.r, t: m.t, b: m.b, autoexpand: false },
    paper_bgcolor: TRANSPARENT,
    plot_bgcolor: TRANSPARENT,
    font: Object.assign({}, layout.font, { size: g.font }),
    hoverlabel: { font: { size: g.font } },
    xaxis: Object.assign({}, layout.xaxis, fixed, { domain: [0, frac(g.side, pw)] }),
    yaxis: Object.assign({}, layout.yaxis, fixed, {
      domain: [1 - frac(trajTop + g.side, ph), 1 - frac(trajTop, ph)],
    }),
    xaxis2: Object.assign({}, layout.xaxis2, fixed, { domain: [frac(lossLeft, pw), 1] }),
    yaxis2: Object.assign({}, layout.yaxis2, fixed, {
      domain: [1 - frac(lossRows[1], ph), 1 - frac(lossRows[0], ph)],
    }),
    annotations: (layout.annotations || []).map((note) =>
      Object.assign({}, note, { font: Object.assign({}, note.font, { size: g.font }) }),
    ),
  });
  if (g.stacked) {
    // The trajectory panel keeps its square on top; the plot area is the whole stage.
    out.xaxis.domain = [0, frac(g.side, pw)];
    out.yaxis.domain = [1 - frac(g.side, ph), 1];
    out.xaxis2.domain = [0, 1];
  }
  return out;
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

// Lay the stage out for the window as it is now; redraw only what moved.
async function arrange(force) {
  if (!race.figure) return;
  race.arrangesStarted = (race.arrangesStarted || 0) + 1;
  const g = geometry();
  document.body.style.fontSize = `${Math.round(race.barFont * g.scale)}px`;
  legend.style.fontSize = `${Math.round(0.9 * g.font)}px`;
  Object.assign(legend.style, {
    left: `${g.legend.left}px`,
    top: `${g.legend.top}px`,
    width: `${g.legend.width}px`,
  });
  finish(g, legend.offsetHeight);
  const layout = plotlyLayout(race.figure.layout, g);
  const key = staticKey(race.plotly, layout);
  const same = race.geometry && JSON.stringify(race.geometry) === JSON.stringify(g);
  race.geometry = g;
  stage.style.height = `${g.H}px`;
  if (force || key !== race.staticKey || !gd._fullLayout) {
    race.staticKey = key;
    const first = !gd._fullLayout;
    await Plotly.react(gd, race.plotly, layout, CONFIG);
    if (first) {
      // Zoom, pan: Plotly redraws its part, the canvas follows.
      gd.on("plotly_afterplot", draw);
      gd.on("plotly_relayouting", draw);
    }
    race.arranges += 1;
  } else {
    const update = {};
    const [x2, y2] = [layout.xaxis2, layout.yaxis2];
    const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!eq(x2.range, gd.layout.xaxis2.range)) update["xaxis2.range"] = x2.range;
    if (!eq(y2.range, gd.layout.yaxis2.range)) update["yaxis2.range"] = y2.range;
    if (!eq(y2.dtick, gd.layout.yaxis2.dtick)) update["yaxis2.dtick"] = y2.dtick;
    if (Object.keys(update).length) await Plotly.relayout(gd, update);
  }
  if (!same || force) placeView(g);
  send("streamlit:setFrameHeight", { height: bar.offsetHeight + g.H + 2 });
  draw();
}

// Re-lay out when the window, the page above this frame or full screen changes. A cheap check
// every 300 ms catches what no event reports (the page's header hidden by projection CSS).
let arranging = false;
async function refit() {
  if (arranging || !race.figure) return;
  arranging = true;
  try {
    const g = finish(geometry(), legend.offsetHeight);
    if (!race.geometry || JSON.stringify(g) !== JSON.stringify(race.geometry)) await arrange();
  } finally {
    arranging = false;
  }
}
setInterval(refit, 150);
window.addEventListener("resize", refit);
// Settled: the layout on screen is the one the window calls for (read by the tests).
race.settled = () =>
  !arranging && Boolean(race.geometry) &&
  JSON.stringify(finish(geometry(), legend.offsetHeight)) === JSON.stringify(race.geometry);

// Images Python sent, by id: the figure names its surface image as "optviz-image:<id>".
const IMAGE_REF = "optviz-image:";
const assets = {};

function askFor(id) {
  send("streamlit:setComponentValue", {
    value: { need_image: id, id: `${Date.now()}-${Math.random()}` },
    dataType: "json",
  });
}

function loadImage(spec, current) {
  if (!spec) return Promise.resolve(null);
  let source = spec.source;
  if (source.startsWith(IMAGE_REF)) {
    const id = source.slice(IMAGE_REF.length);
    if (!(id in assets)) {
      askFor(id); // this page was not sent that image (it was reloaded): draw without it
      return Promise.resolve(null);
    }
    source = assets[id];
  }
  if (current && current.element.src === source) {
    return Promise.resolve(current);
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

function panel(xname, yname, graph) {
  const layout = (graph || gd)._fullLayout;
  const xa = layout[xname];
  const ya = layout[yname];
  if (!xa || !ya) return null;
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

// A canvas the size of a Plotly graph, cleared; its 2-D context in CSS pixels.
function prepare(cv, layout, fill) {
  const ratio = window.devicePixelRatio || 1;
  const width = layout.width;
  const height = layout.height;
  if (cv.width !== Math.round(width * ratio) || cv.height !== Math.round(height * ratio)) {
    cv.width = Math.round(width * ratio);
    cv.height = Math.round(height * ratio);
    cv.style.width = `${width}px`;
    cv.style.height = `${height}px`;
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, width, height);
  } else {
    ctx.clearRect(0, 0, width, height);
  }
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  return ctx;
}

const rowOf = (run) => Math.min(race.k, run.x.length - 1);

// The runs on a contour panel: faint whole paths, growing paths, arrows and heads at step k.
function drawPaths(ctx, c, image, sizes, main) {
  const s = race.style;
  const shown = race.runs.filter((run) => !run.hidden);
  ctx.save();
  clipTo(ctx, c);
  if (image) {
    const x = c.px(image.x0);
    const y = c.py(image.y1);
    ctx.drawImage(image.element, x, y, c.px(image.x1) - x, c.py(image.y0) - y);
  }
  const px = (run) => (i) => c.px(run.x[i]);
  const py = (run) => (i) => c.py(run.y[i]);
  for (const run of shown) {
    // The whole path stays faintly visible under the growing one.
    ctx.globalAlpha = s.pathOpacity;
    ctx.strokeStyle = run.color;
    ctx.lineWidth = s.pathWidth * sizes;
    polyline(ctx, run.x.length, px(run), py(run));
    ctx.globalAlpha = 1;
    ctx.lineWidth = s.growWidth * sizes;
    polyline(ctx, rowOf(run) + 1, px(run), py(run));
    if (s.dots) {
      for (let i = 0; i <= rowOf(run); i++) {
        dot(ctx, c.px(run.x[i]), c.py(run.y[i]), (s.dotSize * sizes) / 2, run.color, run.color, 0);
      }
    }
  }
  if (race.arrows) {
    for (const run of shown) drawArrows(ctx, c, run, rowOf(run), sizes);
  }
  if (race.glyphs && main) {
    race.glyphsDrawn = []; // what was drawn where, per run (read by the tests)
    for (const run of shown) drawGlyphs(ctx, c, run, rowOf(run), sizes);
  }
  for (const run of shown) {
    const i = rowOf(run);
    dot(ctx, c.px(run.x[i]), c.py(run.y[i]), (s.headSize * sizes) / 2, run.color, "white", s.headEdge);
  }
  ctx.restore();
}

function draw() {
  const layout = gd._fullLayout;
  if (!layout || !layout.xaxis2) return;
  const ctx = prepare(canvas, layout, "white");
  const s = race.style;
  const sizes = race.geometry ? race.geometry.scale : 1;
  const shown = race.runs.filter((run) => !run.hidden);
  drawPaths(ctx, panel("xaxis", "yaxis"), race.image, sizes, true);

  const l = panel("xaxis2", "yaxis2");
  ctx.save();
  clipTo(ctx, l);
  for (const run of shown) {
    ctx.strokeStyle = run.color;
    ctx.lineWidth = s.lossWidth * sizes;
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
  const head = s.headSize * sizes;
  ctx.save();
  clipTo(ctx, { left: l.left - head, top: l.top - head, width: l.width + 2 * head, height: l.height + 2 * head });
  for (const run of shown) {
    const i = Math.min(race.k, run.loss.length - 1);
    dot(ctx, l.px(i), l.py(run.loss[i]), head / 2, run.color, "white", s.headEdge);
  }
  ctx.restore();
  try {
    followView();
  } catch (error) {
    console.error(error); // the view must never stop the race
  }
}

function arrow(ctx, x0, y0, x1, y1, color, width, dashed) {
  const length = Math.hypot(x1 - x0, y1 - y0);
  if (!(length > 1)) return;
  const head = Math.min(length / 2, 3 * width + 6);
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
  ctx.lineTo(x1 - ux * head - uy * head * 0.55, y1 - uy * head + ux * head * 0.55);
  ctx.lineTo(x1 - ux * head + uy * head * 0.55, y1 - uy * head - ux * head * 0.55);
  ctx.closePath();
  ctx.fill();
}

// An arrow in a run's colour with a thin white halo, so it reads on any shade of the surface.
function runArrow(ctx, x0, y0, x1, y1, color, width, dashed) {
  arrow(ctx, x0, y0, x1, y1, "white", width + 3, dashed);
  arrow(ctx, x0, y0, x1, y1, color, width, dashed);
}

// At row i of a run, in the run's colour: the direction of −∇f, dashed and of a fixed length on
// screen (gradients span many orders of magnitude), and the step the optimizer took to row
// i + 1, solid and true to scale. Where the two differ is what momentum or per-coordinate
// scaling did.
function drawArrows(ctx, c, run, i, sizes) {
  const x = c.px(run.x[i]);
  const y = c.py(run.y[i]);
  const gx = c.px(run.x[i] - run.gx[i]) - x; // −∇f on screen (the axes may differ in scale)
  const gy = c.py(run.y[i] - run.gy[i]) - y;
  const norm = Math.hypot(gx, gy);
  const reach = 3.5 * race.style.headSize * sizes;
  const width = Math.max(2, race.style.growWidth * sizes * 0.8);
  if (norm > 0 && Number.isFinite(norm)) {
    runArrow(ctx, x, y, x + (reach * gx) / norm, y + (reach * gy) / norm, run.color, width, true);
  }
  if (i + 1 < run.x.length) {
    runArrow(ctx, x, y, c.px(run.x[i + 1]), c.py(run.y[i + 1]), run.color, width + 1, false);
  }
}

// The momentum arrow: dotted, with an open head, so it never reads as the −∇f (dashed) or the
// step (solid) arrow. A doubled head marks an arrow cut to 30 % of the panel.
function momentumArrow(ctx, x0, y0, x1, y1, color, width, capped) {
  const length = Math.hypot(x1 - x0, y1 - y0);
  if (!(length > 1)) return;
  const head = Math.min(length / 2, 3 * width + 6);
  const ux = (x1 - x0) / length;
  const uy = (y1 - y0) / length;
  const chevron = (back) => {
    const bx = x1 - ux * back;
    const by = y1 - uy * back;
    ctx.beginPath();
    ctx.moveTo(bx - ux * head - uy * head * 0.6, by - uy * head + ux * head * 0.6);
    ctx.lineTo(bx, by);
    ctx.lineTo(bx - ux * head + uy * head * 0.6, by - uy * head - ux * head * 0.6);
    ctx.stroke();
  };
  for (const [stroke, w] of [["white", width + 3], [color, width]]) {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = w;
    ctx.setLineDash([0.1, 2.2 * width]);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    ctx.setLineDash([]);
    chevron(0);
    if (capped) chevron(0.8 * head);
  }
}

// Per run, the range of the effective step sizes the bars show: log10, the two decades below
// the run's largest (a spread of the run's own range would make the bars of a run whose η_eff
// barely moves jump from empty to full; smaller values show as a stub).
const BAR_DECADES = 2;
function barRange(run) {
  if (run.barRange !== undefined) return run.barRange;
  let lo = Infinity;
  let hi = -Infinity;
  for (const values of [run.lrx, run.lry]) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, Math.log10(v));
        hi = Math.max(hi, Math.log10(v));
      }
    }
  }
  run.barRange = Number.isFinite(lo) ? [hi - BAR_DECADES, hi] : null;
  return run.barRange;
}

// Two small bars beside a head: the effective step size of the update leaving it along x
// (left) and y (right), on a log scale spanning the run's own range (full: its largest).
function drawBars(ctx, run, i, x, y, sizes) {
  const range = barRange(run);
  const n = run.lrx.length;
  if (!range || n === 0) return null;
  const rects = [];
  const row = Math.min(i, n - 1);
  const unit = race.style.headSize * sizes;
  const bw = Math.max(6, 0.55 * unit);
  const tall = 3 * unit;
  const pad = Math.max(2, 0.15 * unit);
  const label = Math.max(9, Math.round(0.62 * (race.geometry ? race.geometry.font : 16)));
  const left = x + 0.8 * unit;
  const bottom = y - 0.3 * unit;
  const boxW = 2 * bw + 3 * pad;
  const boxH = tall + label + 2 * pad;
  ctx.save();
  ctx.globalAlpha = 0.82;
  ctx.fillStyle = "white";
  ctx.fillRect(left, bottom - boxH, boxW, boxH);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = run.color;
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, bottom - boxH + 0.5, boxW - 1, boxH - 1);
  ctx.font = `${label}px Arial, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  [run.lrx[row], run.lry[row]].forEach((v, j) => {
    const bx = left + pad + j * (bw + pad);
    const base = bottom - pad - label;
    let frac = (Math.log10(v) - range[0]) / (range[1] - range[0]);
    frac = Number.isFinite(frac) ? Math.min(1, Math.max(0.06, frac)) : 0;
    ctx.fillStyle = run.color;
    ctx.globalAlpha = j === 0 ? 1 : 0.6;
    ctx.fillRect(bx, base - frac * tall, bw, frac * tall);
    rects.push([bx, base - frac * tall, bw, frac * tall]);
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#222";
    ctx.fillText(j === 0 ? "x" : "y", bx + bw / 2, bottom - pad + 1);
  });
  ctx.restore();
  return { row, rects };
}

// The optimizer's state at row i: the momentum arrow −η·m̂ of the update leaving it (true to
// scale, cut at 30 % of the panel) and the per-coordinate step-size bars.
function drawGlyphs(ctx, c, run, i, sizes) {
  const x = c.px(run.x[i]);
  const y = c.py(run.y[i]);
  const width = Math.max(2, race.style.growWidth * sizes * 0.8) + 0.5;
  const drawn = { label: run.label, i, arrow: null, bars: null };
  if (race.glyphsDrawn) race.glyphsDrawn.push(drawn);
  if (run.mx && i < run.mx.length && Number.isFinite(run.mx[i]) && Number.isFinite(run.my[i])) {
    let dx = c.px(run.x[i] + run.mx[i]) - x;
    let dy = c.py(run.y[i] + run.my[i]) - y;
    const length = Math.hypot(dx, dy);
    const cap = 0.3 * Math.min(c.width, c.height);
    const capped = length > cap;
    if (capped) {
      dx *= cap / length;
      dy *= cap / length;
    }
    momentumArrow(ctx, x, y, x + dx, y + dy, run.color, width, capped);
    drawn.arrow = { x0: x, y0: y, x1: x + dx, y1: y + dy, capped };
  }
  if (run.bars && run.lrx) drawn.bars = drawBars(ctx, run, i, x, y, sizes);
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
        if (race.view.name) drawViewRuns();
      });
      return item;
    }),
  );
}

// ---- the view that follows the race ------------------------------------------------------------

function viewTabsFor(views, current) {
  const names = Object.keys(views);
  const key = JSON.stringify([views, current]);
  if (viewTabs.dataset.key === key) return;
  viewTabs.dataset.key = key;
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = "follows the race:";
  const buttons = names.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = views[name];
    button.dataset.view = name;
    button.className = name === current ? "on" : "";
    button.addEventListener("click", () => chooseView(name === current ? "none" : name));
    return button;
  });
  viewTabs.replaceChildren(label, ...buttons);
}

function chooseView(name) {
  send("streamlit:setComponentValue", {
    value: { view: name, id: `${Date.now()}-${Math.random()}` },
    dataType: "json",
  });
}

function placeView(g) {
  if (!g.view || !race.view.spec) {
    viewBox.style.display = race.views && Object.keys(race.views).length && !g.view ? "block" : "none";
    if (!g.view) {
      // Only the tabs, under the loss panel, so a view can be opened.
      Object.assign(viewBox.style, {
        left: `${g.right - Math.round(3 * g.font)}px`,
        top: `${g.loss.top + g.loss.height + g.under}px`,
        width: "auto",
      });
      viewWrap.style.display = "none";
    }
    return;
  }
  viewWrap.style.display = "block";
  Object.assign(viewBox.style, {
    display: "block",
    left: `${g.view.left}px`,
    top: `${g.view.top}px`,
    width: `${g.view.width}px`,
  });
  drawView(true);
}

// A log-axis range for positive series: whole decades, capped at 1000 × the largest value of
// the first steps (a diverging run would squash the others), as optviz.figures._decades.
function decades(series) {
  let lo = Infinity;
  let hi = -Infinity;
  let early = -Infinity;
  for (const values of series) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        if (i < 3) early = Math.max(early, v);
      }
    }
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (Number.isFinite(early)) hi = Math.min(hi, 1e3 * early);
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  return [a - 0.05, b + 0.05];
}

// Per run, what the dynamics panels plot, by step: ‖Δθ‖ and the effective η at the update that
// used them (steps 1…n), ‖g‖ at the iterate (steps 0…n).
function dynamicsSeries(run) {
  const n = run.x.length - 1;
  const step = new Float64Array(n);
  for (let i = 0; i < n; i++) step[i] = Math.hypot(run.x[i + 1] - run.x[i], run.y[i + 1] - run.y[i]);
  const grad = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) grad[i] = Math.hypot(run.gx[i], run.gy[i]);
  return { step, grad, lrx: run.lrx, lry: run.lry };
}

function positive(values) {
  return Array.from(values, (v) => (v > 0 && Number.isFinite(v) ? v : null));
}

// Per run, what the curvature panels plot, by step: λ₁, λ₂ and |λ|max/|λ|min at each iterate,
// 2/η of the update leaving it.
function curvatureSeries(run) {
  const n = run.lam1.length;
  const cond = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(run.lam1[i]);
    const b = Math.abs(run.lam2[i]);
    cond[i] = Math.max(a, b) / Math.min(a, b);
  }
  return { lam1: run.lam1, lam2: run.lam2, edge: run.edge, cond };
}

// The curvature view's lines, and its axes: the eigenvalue axis is logarithmic when every
// eigenvalue shown is positive (linear, with zero marked, on a saddle); 2/η lines far above
// the eigenvalues (100×) are left above the range rather than squashing them.
function curvatureTraces(width) {
  const traces = [];
  const lams = [];
  const conds = [];
  let lo = Infinity;
  let hi = -Infinity;
  race.runs.forEach((run) => {
    run.curv = run.lam1 ? curvatureSeries(run) : null;
    if (!run.curv || run.hidden) return;
    const d = run.curv;
    lams.push(d.lam1, d.lam2);
    conds.push(d.cond);
    for (const values of [d.lam1, d.lam2]) {
      for (const v of values) {
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
  });
  const log = Number.isFinite(lo) && lo > 0;
  const reach = Math.max(Math.abs(lo), Math.abs(hi));
  race.runs.forEach((run) => {
    if (!run.curv || run.hidden) return;
    const d = run.curv;
    const line = { color: run.color, width };
    const hover = (name) => `${run.label}<br>step %{x}<br>${name} = %{y:.4g}<extra></extra>`;
    const clean = (values) => Array.from(values, (v) => (Number.isFinite(v) && (!log || v > 0) ? v : null));
    traces.push({ type: "scatter", mode: "lines", x0: 0, dx: 1, y: clean(d.lam1), line, hovertemplate: hover("λ₁"), xaxis: "x", yaxis: "y" });
    traces.push({ type: "scatter", mode: "lines", x0: 0, dx: 1, y: clean(d.lam2), line: Object.assign({}, line, { dash: "dot" }), hovertemplate: hover("λ₂"), xaxis: "x", yaxis: "y" });
    if (d.edge && d.edge.length) {
      const edge = clean(d.edge);
      for (const v of edge) if (v !== null && v <= 100 * reach) hi = Math.max(hi, v);
      traces.push({ type: "scatter", mode: "lines", x0: 0, dx: 1, y: edge, line: Object.assign({}, line, { dash: "dash", width: 0.8 * width }), hovertemplate: hover("2/η"), xaxis: "x", yaxis: "y" });
    }
    traces.push({ type: "scatter", mode: "lines", x0: 0, dx: 1, y: positive(d.cond), line, hovertemplate: hover("κ"), xaxis: "x2", yaxis: "y2" });
  });
  let eigen;
  if (!Number.isFinite(lo)) eigen = { type: "linear", range: [-1, 1] };
  else if (log) eigen = { type: "log", range: decades(lams.concat([[hi]])), dtick: 1 };
  else {
    const pad = 0.06 * Math.max(hi - lo, 1e-12);
    eigen = { type: "linear", range: [Math.min(lo, 0) - pad, Math.max(hi, 0) + pad] };
  }
  race.view.axes = { yaxis: eigen, yaxis2: { range: decades(conds), dtick: 1 } };
  return traces;
}

function viewTraces() {
  const kind = race.view.spec.layout.meta.kind;
  const scale = race.geometry ? race.geometry.scale : 1;
  const width = Math.max(1.5, race.style.lossWidth * scale * 0.8);
  const traces = [];
  if (kind === "dynamics") {
    const all = { step: [], grad: [], lr: [] };
    race.runs.forEach((run) => {
      const d = (run.dyn = dynamicsSeries(run));
      all.step.push(d.step);
      all.grad.push(d.grad);
      all.lr.push(d.lrx, d.lry);
      if (run.hidden) return;
      const line = { color: run.color, width };
      const hover = `${run.label}<br>step %{x}<br>%{y:.4g}<extra></extra>`;
      traces.push({ type: "scatter", mode: "lines", x0: 1, dx: 1, y: positive(d.step), line, hovertemplate: hover, xaxis: "x", yaxis: "y" });
      traces.push({ type: "scatter", mode: "lines", x0: 0, dx: 1, y: positive(d.grad), line, hovertemplate: hover, xaxis: "x2", yaxis: "y2" });
      traces.push({ type: "scatter", mode: "lines", x0: 1, dx: 1, y: positive(d.lrx), line, hovertemplate: hover, xaxis: "x3", yaxis: "y3" });
      traces.push({ type: "scatter", mode: "lines", x0: 1, dx: 1, y: positive(d.lry), line: Object.assign({}, line, { dash: "dot" }), hovertemplate: hover, xaxis: "x3", yaxis: "y3" });
    });
    race.view.axes = {
      yaxis: { range: decades(all.step) },
      yaxis2: { range: decades(all.grad) },
      yaxis3: { range: decades(all.lr) },
    };
  } else if (kind === "curvature") {
    traces.push(...curvatureTraces(width));
  } else if (kind === "3d") {
    const meta = race.view.spec.layout.meta;
    const [x0, x1] = race.view.spec.layout.scene.xaxis.range;
    const [y0, y1] = race.view.spec.layout.scene.yaxis.range;
    race.runs.forEach((run) => {
      const z = Array.from(run.f, (f, i) => {
        const inside = run.x[i] >= x0 && run.x[i] <= x1 && run.y[i] >= y0 && run.y[i] <= y1;
        return inside && Number.isFinite(f) ? Math.min(Math.max(f, meta.z_lo), meta.z_hi) + meta.lift : null;
      });
      run.z3 = z;
      if (run.hidden) return;
      traces.push({ type: "scatter3d", mode: "lines", x: Array.from(run.x), y: Array.from(run.y), z, line: { color: run.color, width: 5 * scale }, hoverinfo: "skip" });
    });
    traces.push({ type: "scatter3d", mode: "markers", x: [], y: [], z: [], marker: { size: 7 * scale, color: [], line: { color: "white", width: 2 } }, hoverinfo: "skip", meta: { role: "heads3d" } });
  }
  return traces;
}

// The dashed cursor of a follow view's panel at step k, leaving the context clipped to the
// panel (widened by a head, so dots on the edge show whole) for the run dots: restore after.
function stepCursor(ctx, p, k, head, sizes) {
  ctx.save();
  clipTo(ctx, { left: p.left - head, top: p.top - head, width: p.width + 2 * head, height: p.height + 2 * head });
  ctx.strokeStyle = "#333";
  ctx.lineWidth = Math.max(1.5, 1.5 * sizes);
  ctx.setLineDash([4, 4]);
  polyline(ctx, 2, () => p.px(k), (i) => (i === 0 ? p.top : p.top + p.height));
  ctx.setLineDash([]);
}

// (Re)draw the view for the current runs and box: Plotly for its static part and the runs'
// lines, the overlay canvas or a restyle for what moves with the step.
async function drawView(rebuild) {
  const g = race.geometry;
  if (!race.view.spec || !g || !g.view) return;
  const tabsHeight = viewTabs.offsetHeight;
  const width = g.view.width;
  const height = Math.max(120, g.view.height - tabsHeight);
  const spec = race.view.spec;
  const key = JSON.stringify([race.view.ref, race.runsVersion, width, height, race.runs.map((r) => r.hidden)]);
  if (!rebuild && key === race.view.key) return;
  race.view.key = key;
  const data = spec.data.concat(viewTraces());
  const layout = Object.assign({}, spec.layout, { width, height, images: [] });
  if (spec.layout.meta.kind === "dynamics" || spec.layout.meta.kind === "curvature") {
    for (const [axis, patch] of Object.entries(race.view.axes)) {
      layout[axis] = Object.assign({}, spec.layout[axis], patch);
    }
  }
  if (spec.layout.meta.kind !== "3d") {
    layout.paper_bgcolor = TRANSPARENT;
    layout.plot_bgcolor = TRANSPARENT;
  }
  race.view.image = await loadImage((spec.layout.images || [])[0], race.view.image);
  race.view.ready = null;
  await Plotly.react(viewGd, data, layout, VIEW_CONFIG);
  race.view.ready = spec;
  if (!viewGd.dataset.hooked) {
    viewGd.dataset.hooked = "1";
    // Zoom or pan of a 2-D view: the overlay follows. (A 3-D view's heads are a trace of its
    // own: redrawing them on "afterplot" would restyle, plot and call itself forever.)
    const follow2d = () => race.view.ready && race.view.ready.layout.meta.kind !== "3d" && drawViewRuns();
    viewGd.on("plotly_afterplot", follow2d);
    viewGd.on("plotly_relayouting", follow2d);
  }
  race.view.drawn += 1;
  drawViewRuns();
}

let lastFollow = 0;
let followTimer = null;

function followView() {
  if (!race.view.name || !race.view.spec || race.view.ready !== race.view.spec) return;
  if (race.view.spec && race.view.spec.layout.meta.kind === "3d") {
    // A 3-D restyle costs a WebGL redraw: at most every FOLLOW_MS while playing.
    const now = performance.now();
    clearTimeout(followTimer);
    if (now - lastFollow >= FOLLOW_MS || !race.playing) {
      lastFollow = now;
      drawViewRuns();
    } else {
      followTimer = setTimeout(followView, FOLLOW_MS);
    }
    return;
  }
  drawViewRuns();
}

// What moves with the step in the view: the heads (field, 3-D) or the cursor and each run's
// value at the step (dynamics).
function drawViewRuns() {
  const layout = viewGd._fullLayout;
  if (!layout || !race.view.spec || race.view.ready !== race.view.spec) return;
  const kind = race.view.spec.layout.meta.kind;
  const sizes = race.geometry ? race.geometry.scale : 1;
  const ctx = prepare(viewCanvas, layout, kind === "field" ? "white" : null);
  race.view.k = race.k;
  if (kind === "field") {
    const p = panel("xaxis", "yaxis", viewGd);
    if (p) drawPaths(ctx, p, race.view.image, 0.7 * sizes);
  } else if (kind === "dynamics") {
    const k = race.k;
    const head = 0.7 * race.style.headSize * sizes;
    const rows = [["xaxis", "yaxis", (d) => (k >= 1 ? d.step[k - 1] : NaN)],
                  ["xaxis2", "yaxis2", (d) => d.grad[k]],
                  ["xaxis3", "yaxis3", (d) => (k >= 1 ? d.lrx[k - 1] : NaN)]];
    for (const [xname, yname, value] of rows) {
      const p = panel(xname, yname, viewGd);
      if (!p) continue;
      stepCursor(ctx, p, k, head, sizes);
      for (const run of race.runs) {
        if (run.hidden || !run.dyn || k > run.x.length - 1) continue;
        const v = value(run.dyn);
        if (v > 0) dot(ctx, p.px(k), p.py(v), head / 2, run.color, "white", 1.5);
      }
      ctx.restore();
    }
  } else if (kind === "curvature") {
    const k = race.k;
    const head = 0.7 * race.style.headSize * sizes;
    const rows = [["xaxis", "yaxis", [(d) => d.lam1[k], (d) => d.lam2[k]]],
                  ["xaxis2", "yaxis2", [(d) => d.cond[k]]]];
    for (const [xname, yname, values] of rows) {
      const p = panel(xname, yname, viewGd);
      if (!p) continue;
      stepCursor(ctx, p, k, head, sizes);
      const log = p.ya.type === "log";
      for (const run of race.runs) {
        if (run.hidden || !run.curv || k > run.x.length - 1) continue;
        values.forEach((value, j) => {
          const v = value(run.curv);
          if (Number.isFinite(v) && (!log || v > 0)) {
            dot(ctx, p.px(k), p.py(v), head / 2, j === 0 ? run.color : "white", j === 0 ? "white" : run.color, j === 0 ? 1.5 : 2.5);
          }
        });
      }
      ctx.restore();
    }
  } else if (kind === "3d") {
    const shown = race.runs.filter((run) => !run.hidden && run.z3);
    const heads = { x: [], y: [], z: [], c: [] };
    for (const run of shown) {
      const i = rowOf(run);
      heads.x.push(run.x[i]);
      heads.y.push(run.y[i]);
      heads.z.push(run.z3[i]);
      heads.c.push(run.color);
    }
    const index = viewGd.data.findIndex((t) => t.meta && t.meta.role === "heads3d");
    if (index >= 0) {
      Plotly.restyle(viewGd, { x: [heads.x], y: [heads.y], z: [heads.z], "marker.color": [heads.c] }, [index]);
    }
  }
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

function stepBy(delta) {
  setPlaying(false);
  showStep(Math.min(race.last, Math.max(0, race.k + delta)));
}

function toggleArrows() {
  race.arrows = !race.arrows;
  arrowsButton.classList.toggle("on", race.arrows);
  draw();
}

// The momentum arrow's data comes from Python on request (a recorded run): ask for it when
// the glyphs go on, and say so when they go off (the figure then travels without it again).
function askForGlyphs(on) {
  send("streamlit:setComponentValue", {
    value: { glyphs: on, id: `${Date.now()}-${Math.random()}` },
    dataType: "json",
  });
}

function toggleGlyphs() {
  race.glyphs = !race.glyphs;
  glyphsButton.classList.toggle("on", race.glyphs);
  const have = Boolean(race.extras && race.extras.state);
  if (race.glyphs !== have) askForGlyphs(race.glyphs);
  draw();
}

playButton.addEventListener("click", () => setPlaying(!race.playing));
// One iterate back or forward: a lecture can go through a run step by step.
document.getElementById("back").addEventListener("click", () => stepBy(-1));
document.getElementById("forward").addEventListener("click", () => stepBy(1));
const arrowsButton = document.getElementById("arrows");
arrowsButton.addEventListener("click", toggleArrows);
const glyphsButton = document.getElementById("glyphs");
glyphsButton.addEventListener("click", toggleGlyphs);
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

// ---- full screen, keyboard, help ---------------------------------------------------------------

function toggleFullScreen() {
  const p = parentWindow();
  const doc = p ? p.document : document;
  if (doc.fullscreenElement) {
    doc.exitFullscreen();
    return;
  }
  const target = window.frameElement || document.documentElement;
  const request = target.requestFullscreen ? target.requestFullscreen() : null;
  if (request && request.catch) {
    request.catch(() => document.documentElement.requestFullscreen().catch(() => {}));
  }
}
document.getElementById("full").addEventListener("click", toggleFullScreen);

function toggleHelp() {
  help.hidden = !help.hidden;
  help.style.top = `${bar.offsetHeight}px`;
  document.getElementById("helpbutton").classList.toggle("on", !help.hidden);
}
document.getElementById("helpbutton").addEventListener("click", toggleHelp);

// Projection mode is the page's toggle: the key clicks it.
function toggleProjection() {
  const p = parentWindow();
  if (!p) return;
  const label = Array.from(p.document.querySelectorAll("label")).find((el) =>
    el.innerText.trim().startsWith("Projection mode"),
  );
  const input = label && (label.querySelector("input") || label.control);
  if (input) input.click();
}

// Is the key meant for the element that has it (typing, a page slider or list)?
function typing(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
  if (tag === "INPUT") return !["button", "checkbox", "radio", "submit"].includes(target.type);
  const role = target.getAttribute && target.getAttribute("role");
  return ["slider", "combobox", "listbox", "option", "spinbutton", "textbox"].includes(role);
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const mine = target === scrub; // the scrubber's own arrows, Home and End move it already
  if (!mine && typing(target)) return;
  const actions = {
    " ": () => setPlaying(!race.playing),
    ArrowLeft: () => stepBy(-1),
    ArrowRight: () => stepBy(1),
    Home: () => stepBy(-race.last),
    End: () => stepBy(race.last),
    a: toggleArrows,
    s: toggleGlyphs,
    p: toggleProjection,
    f: toggleFullScreen,
    "?": toggleHelp,
    Escape: () => !help.hidden && toggleHelp(),
  };
  if (mine && event.key !== " " && event.key.length > 1 && event.key !== "Escape") return;
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}
document.addEventListener("keydown", onKey);
// Keys pressed anywhere on the page reach the race too (the page is this frame's parent, same
// origin); a reloaded frame replaces its predecessor's listener.
(function listenOnPage() {
  const p = parentWindow();
  if (!p) return;
  const previous = p.__optvizRaceKeys;
  if (previous) p.document.removeEventListener("keydown", previous);
  const forward = (event) => {
    if (!document.defaultView) return; // this frame is gone
    onKey(event);
  };
  p.__optvizRaceKeys = forward;
  p.document.addEventListener("keydown", forward);
  p.document.addEventListener("fullscreenchange", () => setTimeout(refit, 50));
  p.addEventListener("resize", refit);
  new ResizeObserver(() => refit()).observe(window.frameElement);
})();

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

const CONFIG = {
  displaylogo: false,
  responsive: false, // sizes are set here, from the window (see arrange)
  // No mode bar: it covered the legend. Drag zooms, double-click resets (see the help).
  displayModeBar: false,
};
const VIEW_CONFIG = { displaylogo: false, responsive: false, displayModeBar: false };

async function render(args) {
  race.projection = Boolean(args.projection);
  race.pick = Boolean(args.pick);
  race.barFont = args.font_size || 16;
  gd.classList.toggle("pick", race.pick);
  race.views = args.views || {};
  viewTabsFor(race.views, args.view_name);
  const viewRef = args.view_ref || null;
  const arrived = Boolean(viewRef && !race.view.spec && viewRef in assets); // asked for, sent
  const viewChanged = arrived || viewRef !== race.view.ref || (args.view_name || null) !== race.view.name;
  if (viewChanged) {
    race.view.name = args.view_name || null;
    race.view.ref = viewRef;
    race.view.spec = viewRef && viewRef in assets ? JSON.parse(assets[viewRef]) : null;
    if (viewRef && !race.view.spec) askFor(viewRef);
    race.view.ready = null;
    if (!race.view.spec) Plotly.purge(viewGd);
  }
  if (!race.renders && args.glyphs !== undefined) {
    race.glyphs = Boolean(args.glyphs); // a reloaded frame: the session's choice
    glyphsButton.classList.toggle("on", race.glyphs);
  }
  const figureChanged = args.figure !== race.figureJson;
  const extrasChanged = (args.extras || null) !== race.extrasJson;
  if (!figureChanged && !viewChanged && !Object.keys(args.images || {}).length) {
    if (extrasChanged) {
      // Only what is drawn besides the paths arrived (state glyphs, curvature series).
      applyExtras(race.runs, args.extras);
      race.runsVersion = (race.runsVersion || 0) + 1;
      draw();
      if (race.view.spec) setTimeout(() => drawView(false), 0);
    }
    await arrange();
    return;
  }
  race.figureJson = args.figure;
  const figure = JSON.parse(args.figure);
  const parts = split(figure);
  if (parts.runs.length === race.runs.length) {
    // Runs hidden from the legend stay hidden while their settings change.
    parts.runs.forEach((run, i) => (run.hidden = race.runs[i].hidden));
  }
  drawLegend(parts.runs); // before the layout: the loss panel goes under it
  race.figure = figure;
  race.plotly = parts.plotly;
  race.image = await loadImage((figure.layout.images || [])[0], race.image);
  setPlaying(false);
  race.runs = parts.runs;
  applyExtras(race.runs, args.extras);
  if (race.glyphs && !(race.extras && race.extras.state) && race.runs.length) askForGlyphs(true);
  race.runsVersion = (race.runsVersion || 0) + 1;
  race.style = parts.style;
  race.last = Math.max(0, ...race.runs.map((run) => run.x.length - 1));
  scrub.max = String(race.last);
  race.k = race.last;
  await arrange(viewChanged);
  showStep(race.last);
  race.renders += 1;
  // The view's lines after the race is on screen: a slider move is watched on the race.
  if (race.view.spec) setTimeout(() => drawView(false), 0);
}

// What Python sent besides the figure (optviz.race_data), onto the runs by index: the
// momentum arrow per row (mx, my), whether to draw the step-size bars, the eigenvalues along
// the path (lam1, lam2) and 2/η per update (edge).
function applyExtras(runs, json) {
  race.extrasJson = json || null;
  const extras = json ? JSON.parse(json) : null;
  race.extras = extras ? { state: Boolean(extras.state), curvature: Boolean(extras.curvature) } : null;
  runs.forEach((run, i) => {
    const e = (extras && extras.runs[i]) || {};
    run.mx = e.m_x ? decoded(e.m_x) : null;
    run.my = e.m_y ? decoded(e.m_y) : null;
    run.bars = Boolean(e.bars);
    run.lam1 = e.lam1 ? decoded(e.lam1) : null;
    run.lam2 = e.lam2 ? decoded(e.lam2) : null;
    run.edge = e.edge ? decoded(e.edge) : null;
  });
}

// One render at a time, in order (each awaits Plotly), and only the newest of those waiting.
let rendering = Promise.resolve();
let waiting = null;
window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "streamlit:render") return;
  Object.assign(assets, event.data.args.images || {}); // kept even if this render is skipped
  const first = waiting === null;
  waiting = event.data.args;
  if (!first) return;
  rendering = rendering.then(() => {
    const args = waiting;
    waiting = null;
    return render(args).catch((error) => {
      legend.textContent = `The race chart could not be drawn: ${error}`;
      console.error(error);
    });
  });
});
send("streamlit:componentReady", { apiVersion: 1 });
