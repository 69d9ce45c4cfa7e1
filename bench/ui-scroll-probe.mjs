#!/usr/bin/env node
/* global window, document, requestAnimationFrame */
/**
 * Where a scroll frame of the library table goes (issue 17's scroll target; bench/ui.mjs
 * measures the frames): the same wheel as bench/ui.mjs for ~2 s over `SFA_BENCH_TRACKS` tracks
 * (seeded once into /tmp/sfa-ui-probe-N and reused), with Chromium tracing; prints the rAF
 * deltas, the long animation frames, and the renderer main thread's CPU time per frame (thread
 * time, so comparable on a loaded machine, where wall-clock frames are not) with the CPU of
 * each rendering phase. PROBE_CSS adds a style sheet (try a layout change without a build);
 * PROBE_LAYERS prints the compositor's layers. Needs `npm run build`. Investigation, not a target.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openApp, seedLibrary } from './ui-library.mjs';

const N = Number(process.env.SFA_BENCH_TRACKS ?? 10_000);
const home = join(tmpdir(), `sfa-ui-probe-${N}`);
const css = process.env.PROBE_CSS ?? '';
const trace = process.env.PROBE_TRACE ?? join(home, 'trace.json');
mkdirSync(home, { recursive: true });
const fresh = !existsSync(join(home, 'library.sqlite'));
const child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SFA_LOG: 'warn', SFA_DEFAULT_MODEL: 'dsp' } });
const server = JSON.parse(await new Promise((r) => createInterface({ input: child.stdout }).once('line', r)));
if (fresh) {
  const t0 = Date.now();
  seedLibrary(home, N);
  console.log(`seeded ${N} in ${Date.now() - t0} ms`);
}
const { browser, page } = await openApp(server, ['--enable-precise-memory-info', ...(process.env.PROBE_ARGS ? process.env.PROBE_ARGS.split(' ') : [])]);
try {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('[data-track-id]');
  if (css) await page.addStyleTag({ content: css });
  await page.waitForTimeout(500);
  const box = await page.locator('.library-table').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const cdp = await page.context().newCDPSession(page);
  let chunks = [];
  if (process.env.PROBE_LAYERS) {
    let layers = [];
    cdp.on('LayerTree.layerTreeDidChange', (e) => { if (e.layers) layers = e.layers; });
    await cdp.send('DOM.enable');
    await cdp.send('LayerTree.enable');
    await page.evaluate(() => { document.querySelector('.library-table').scrollTop = 720; });
    await page.waitForTimeout(800);
    for (const l of layers) {
      let reasons = [];
      try { reasons = (await cdp.send('LayerTree.compositingReasons', { layerId: l.layerId })).compositingReasonIds; } catch { /* a layer gone meanwhile */ }
      console.log('layer', l.layerId, `${l.width}x${l.height}`, 'at', l.offsetX, l.offsetY, 'node', l.backendNodeId ?? '-', 'draws', l.drawsContent, 'scrollRects', JSON.stringify(l.scrollRects ?? []), reasons.join(','));
    }
  }
  if (trace) {
    cdp.on('Tracing.dataCollected', (e) => chunks.push(...e.value));
    await cdp.send('Tracing.start', { traceConfig: { includedCategories: (process.env.PROBE_CATS ?? 'devtools.timeline,disabled-by-default-devtools.timeline,disabled-by-default-devtools.timeline.frame,cc,viz,benchmark,input,blink,toplevel').split(',') }, transferMode: 'ReportEvents' });
  }
  await page.evaluate(() => {
    const w = window;
    w.__frames = [];
    w.__loaf = [];
    w.__fetches = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__loaf.push({ start: e.startTime, dur: e.duration, block: e.blockingDuration, render: e.renderStart ? e.renderStart - e.startTime : null, style: e.styleAndLayoutStart ? e.styleAndLayoutStart - e.startTime : null, scripts: e.scripts.map((s) => `${s.invokerType}:${s.invoker}:${Math.round(s.duration)}`).join(' ') }); }).observe({ type: 'long-animation-frame', buffered: false });
    let last = performance.now();
    w.__sampling = true;
    const loop = (t) => { w.__frames.push([t, t - last]); last = t; if (w.__sampling) requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  });
  const t0 = Date.now();
  while (Date.now() - t0 < 2000) {
    await page.mouse.wheel(0, 600);
    await page.waitForTimeout(16);
  }
  const res = await page.evaluate(() => { window.__sampling = false; return { frames: window.__frames.slice(1), loaf: window.__loaf, top: document.querySelector('.library-table').scrollTop }; });
  if (trace) {
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.end');
    await done;
    writeFileSync(trace, JSON.stringify({ traceEvents: chunks }));
  }
  const d = res.frames.map((f) => f[1]);
  const sorted = [...d].sort((a, b) => a - b);
  console.log(`N=${N} css=${JSON.stringify(css)} frames=${d.length} p50=${sorted[Math.floor(d.length / 2)].toFixed(1)} p95=${sorted[Math.floor(d.length * 0.95)].toFixed(1)} max=${sorted.at(-1).toFixed(1)} scrolled=${Math.round(res.top)} load=${loadavg()[0].toFixed(2)}`);
  console.log('deltas', d.map((x) => x.toFixed(0)).join(' '));
  for (const l of res.loaf) console.log('loaf', JSON.stringify(l));
  mainThreadPerFrame(JSON.parse(readFileSync(trace, 'utf8')).traceEvents);
} finally {
  await browser.close();
  child.kill('SIGTERM');
}

/** The renderer main thread's CPU per frame (tasks between two BeginMainFrames) and per phase. */
function mainThreadPerFrame(events) {
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const on = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
  const frames = on.filter((e) => e.name === 'ProxyMain::BeginMainFrame').map((e) => e.ts).sort((a, b) => a - b);
  const cpu = new Array(frames.length).fill(0);
  for (const task of on.filter((e) => e.name === 'ThreadControllerImpl::RunTask')) {
    const i = frames.findLastIndex((ts) => ts <= task.ts);
    if (i >= 0) cpu[i] += (task.tdur ?? 0) / 1000;
  }
  const sorted = [...cpu].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(1);
  console.log(`main thread CPU per frame: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${sorted.at(-1).toFixed(1)} ms over ${cpu.length} frames`);
  const phases = {};
  for (const e of on) if (['FunctionCall', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Commit'].includes(e.name)) phases[e.name] = (phases[e.name] ?? 0) + (e.tdur ?? 0) / 1000;
  console.log(`main thread CPU by phase (ms): ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
}
