// The race chart, on a plain canvas: x = seconds since the start, y = jobs DONE, a staircase per
// method stepping up at each DONE. It draws what race_state.js counted; it keeps no race state.

import { CHART, METHODS, methodLabel } from "./vocabulary.js";

const MIN_X_SPAN_S = 0.1;  // so a race of very fast jobs still has a readable time axis

const LOOK = {  // sizes and colours
  lineWidth: 5,
  font: 20,          // px, before devicePixelRatio: it is read from the back of a classroom
  margin: { left: 72, right: 28, top: 70, bottom: 70 },  // top: the legend, then the y axis title
  grid: "#dde3e9",
  axis: "#4a5560",
  text: "#1b1f24",
};
const DRAW_ORDER = ["sync", "rabbitmq", "celery_redis", "celery"];  // Celery last: on top where lines overlap

const canvas = document.querySelector("#race canvas");

let cssColours = null;  // the method colours of the page's CSS, read once
function methodColour(method) {
  if (!cssColours) {
    const style = getComputedStyle(document.documentElement);
    cssColours = Object.fromEntries(METHODS.map((m) => [m, style.getPropertyValue(`--${m}`).trim() || "#333"]));
  }
  return cssColours[method];
}

// The canvas's backing store in device pixels, so lines and text stay sharp on a HiDPI screen or a
// zoomed page; drawing happens in CSS pixels. Returns null while the drawer is closed (no size).
function fitCanvas() {
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  const ratio = window.devicePixelRatio || 1;
  const deviceWidth = Math.round(width * ratio), deviceHeight = Math.round(height * ratio);
  if (canvas.width !== deviceWidth || canvas.height !== deviceHeight) {
    canvas.width = deviceWidth;
    canvas.height = deviceHeight;
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { context, width, height };
}

// A round step (1, 2 or 5 × 10^k) giving at most about `ticks` intervals over `span`.
function tickStep(span, ticks) {
  const rough = span / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

// `now`: the server's clock, for the lines of methods still working.
export function drawChart(mine, tallies, origin, now) {
  const fitted = fitCanvas();
  if (!fitted) return;
  const { context: ctx, width, height } = fitted;
  const fontFamily = getComputedStyle(canvas).fontFamily;
  const plot = {
    left: LOOK.margin.left, right: width - LOOK.margin.right,
    top: LOOK.margin.top, bottom: height - LOOK.margin.bottom,
  };
  ctx.clearRect(0, 0, width, height);

  const started = mine && Number.isFinite(origin);
  const count = mine?.count ?? 10;
  // While jobs are outstanding the axis runs to "now"; once the race is over, to the last DONE.
  let span = MIN_X_SPAN_S;
  if (started) {
    const lastDone = Math.max(...METHODS.map((m) => tallies[m].finishedAt.at(-1) ?? -Infinity));
    span = Math.max(span, lastDone - origin, mine.over ? 0 : now - origin);
  }
  const xStep = tickStep(span, 6);
  const xMax = Math.ceil(span / xStep - 1e-9) * xStep;  // a round end, so the axis doesn't creep
  const yStep = Math.max(1, tickStep(count, 5));
  const x = (seconds) => plot.left + (Math.max(0, seconds) / xMax) * (plot.right - plot.left);
  const y = (jobs) => plot.bottom - (jobs / count) * (plot.bottom - plot.top);

  drawAxes(ctx, plot, { x, y, xMax, xStep, count, yStep, fontFamily });
  if (!started) {
    const middle = (plot.left + plot.right) / 2, height = (plot.top + plot.bottom) / 2;
    ctx.fillStyle = LOOK.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = `bold ${LOOK.font}px ${fontFamily}`;
    ctx.fillText(mine && !mine.over ? CHART.waiting : CHART.pressStart, middle, height - 14);
    ctx.font = `${LOOK.font * 0.8}px ${fontFamily}`;
    ctx.fillText(CHART.hint, middle, height + 14);
    return;
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left - LOOK.lineWidth, plot.top - LOOK.lineWidth,
    plot.right - plot.left + 2 * LOOK.lineWidth, plot.bottom - plot.top + 2 * LOOK.lineWidth);
  ctx.clip();
  for (const method of DRAW_ORDER.filter((m) => mine.methods.includes(m))) {
    const counts = tallies[method];
    const complete = counts.done + counts.failed >= count && (method !== "sync" || mine.syncAnswered);
    drawStaircase(ctx, counts.finishedAt.map((at) => at - origin), {
      x, y, colour: methodColour(method),
      // A method still working: its line runs on, flat, to "now". A finished one stops at its last job.
      until: complete || mine.over ? null : now - origin,
    });
  }
  ctx.restore();
  drawLegend(ctx, plot, mine.methods, fontFamily);
}

// Cumulative DONE count: a step up at each finish.
function drawStaircase(ctx, finishes, { x, y, colour, until }) {
  ctx.beginPath();
  ctx.moveTo(x(0), y(0));
  finishes.forEach((at, index) => {
    ctx.lineTo(x(at), y(index));
    ctx.lineTo(x(at), y(index + 1));
  });
  if (until !== null) ctx.lineTo(x(Math.max(until, finishes.at(-1) ?? 0)), y(finishes.length));
  ctx.strokeStyle = colour;
  ctx.lineWidth = LOOK.lineWidth;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.stroke();
  if (until === null && finishes.length > 0) {  // a dot where the method crossed its finish line
    ctx.beginPath();
    ctx.arc(x(finishes.at(-1)), y(finishes.length), LOOK.lineWidth + 3, 0, 2 * Math.PI);
    ctx.fillStyle = colour;
    ctx.fill();
  }
}

function drawAxes(ctx, plot, { x, y, xMax, xStep, count, yStep, fontFamily }) {
  ctx.lineWidth = 1;
  ctx.font = `${LOOK.font}px ${fontFamily}`;
  ctx.fillStyle = LOOK.text;

  // y: jobs DONE, 0 … N (N itself is always labelled: it is the finish line)
  const yTicks = [];
  for (let jobs = 0; jobs <= count; jobs += yStep) yTicks.push(jobs);
  if (yTicks.at(-1) !== count) {
    if (count - yTicks.at(-1) < yStep / 2) yTicks.pop();
    yTicks.push(count);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const jobs of yTicks) {
    ctx.strokeStyle = LOOK.grid;
    ctx.beginPath();
    ctx.moveTo(plot.left, Math.round(y(jobs)) + 0.5);
    ctx.lineTo(plot.right, Math.round(y(jobs)) + 0.5);
    ctx.stroke();
    ctx.fillText(String(jobs), plot.left - 10, y(jobs));
  }

  // x: seconds since the start
  const decimals = xStep >= 1 ? 0 : Math.ceil(-Math.log10(xStep) - 1e-9);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let i = 0; i * xStep <= xMax + 1e-9; i += 1) {
    const seconds = i * xStep;
    ctx.strokeStyle = LOOK.grid;
    ctx.beginPath();
    ctx.moveTo(Math.round(x(seconds)) + 0.5, plot.top);
    ctx.lineTo(Math.round(x(seconds)) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.fillText(seconds.toFixed(decimals), x(seconds), plot.bottom + 8);
  }

  ctx.strokeStyle = LOOK.axis;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(plot.left, plot.top);
  ctx.lineTo(plot.left, plot.bottom);
  ctx.lineTo(plot.right, plot.bottom);
  ctx.stroke();

  ctx.fillStyle = LOOK.axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(CHART.xAxis, (plot.left + plot.right) / 2, plot.bottom + LOOK.margin.bottom - 4);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(CHART.yAxis, 8, plot.top - 28);
}

// Above the plot, right-aligned: a thick swatch and the name, in the method's colour.
function drawLegend(ctx, plot, methods, fontFamily) {
  ctx.font = `bold ${LOOK.font}px ${fontFamily}`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  const swatch = 30, gap = 10, spacing = 28, middle = 16;
  let right = plot.right;
  for (const method of [...methods].reverse()) {
    const label = methodLabel(method);
    const left = right - swatch - gap - ctx.measureText(label).width;
    ctx.strokeStyle = ctx.fillStyle = methodColour(method);
    ctx.lineWidth = LOOK.lineWidth;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(left, middle);
    ctx.lineTo(left + swatch, middle);
    ctx.stroke();
    ctx.fillText(label, left + swatch + gap, middle);
    right = left - spacing;
  }
}

// For screen readers: what the chart shows once the race is over.
export function labelChart(text) {
  canvas.setAttribute("aria-label", text);
}

// `redraw` runs when the canvas changes size (also when the drawer opens) or the screen's pixel ratio.
export function watchChart(redraw) {
  new ResizeObserver(redraw).observe(canvas);
  watchPixelRatio(redraw);
}

// Dragging the window to another screen changes devicePixelRatio without resizing the canvas.
function watchPixelRatio(redraw) {
  const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  query.addEventListener("change", () => {
    redraw();
    watchPixelRatio(redraw);
  }, { once: true });
}
