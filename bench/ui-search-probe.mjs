#!/usr/bin/env node
/* global window, document, requestAnimationFrame, MutationObserver, HTMLInputElement */
/**
 * Where a search keystroke's time goes in the library view (issue 17's search target; bench/ui.mjs
 * measures it): the same keystrokes as bench/ui.mjs ("night", one letter at a time, 50 ms apart),
 * repeated PROBE_ROUNDS times over `SFA_BENCH_TRACKS` tracks (seeded once into PROBE_HOME, default
 * /tmp/sfa-ui-search-probe-N, and reused). For each keystroke it prints, from the input event: the
 * request leaving on the WebSocket, its reply arriving, the rows committed to the DOM (the count's
 * data-search changing), the first animation frame that shows them (what bench/ui.mjs times), and
 * the paint of that frame; with the long animation frames and the renderer main thread's CPU by
 * phase (Chromium tracing) over the keystrokes. PROBE_CSS adds a style sheet (a layout change
 * without a build); PROBE_PROFILE prints JavaScript self times. Needs `npm run build`. Investigation, not a target.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { logSize, openApp, seedLibrary, sidecarsWarm } from './ui-library.mjs';

const N = Number(process.env.SFA_BENCH_TRACKS ?? 10_000);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 4);
const home = process.env.PROBE_HOME ?? join(tmpdir(), `sfa-ui-search-probe-${N}`);
mkdirSync(home, { recursive: true });
const fresh = !existsSync(join(home, 'library.sqlite'));
const logFrom = logSize(home);
const child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SFA_LOG: 'warn', SFA_DEFAULT_MODEL: 'dsp' } });
const server = JSON.parse(await new Promise((r) => createInterface({ input: child.stdout }).once('line', r)));
if (fresh) seedLibrary(home, N);
console.log(`sidecars warm after ${await sidecarsWarm(home, logFrom)} ms`);
const { browser, page } = await openApp(server);
try {
  // Every message on the app's socket, timed as it leaves and as its event starts (before the app's own handler).
  await page.addInitScript(() => {
    const w = window;
    w.__ws = [];
    const Native = WebSocket;
    w.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (m) => w.__ws.push({ dir: 'in', t: performance.now(), bytes: String(m.data).length, head: String(m.data).slice(0, 60) }));
      }
      send(data) {
        w.__ws.push({ dir: 'out', t: performance.now(), head: String(data).slice(0, 120) });
        super.send(data);
      }
    };
  });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('[data-track-id]');
  if (process.env.PROBE_CSS) await page.addStyleTag({ content: process.env.PROBE_CSS });
  await page.waitForTimeout(500);
  const cdp = await page.context().newCDPSession(page);
  const chunks = [];
  cdp.on('Tracing.dataCollected', (e) => chunks.push(...e.value));
  if (process.env.PROBE_PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
  }
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'toplevel', 'v8.execute'] }, transferMode: 'ReportEvents' });

  const result = await page.evaluate(async (rounds) => {
    const w = window;
    const loaf = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) loaf.push({ start: e.startTime, dur: e.duration, render: e.renderStart ? e.renderStart - e.startTime : null, style: e.styleAndLayoutStart ? e.styleAndLayoutStart - e.startTime : null, scripts: e.scripts.map((s) => `${s.invokerType}:${s.invoker}:${Math.round(s.duration)}`).join(' ') });
    }).observe({ type: 'long-animation-frame', buffered: false });
    const countEl = () => document.querySelector('[data-testid="library-count"]');
    const commits = [];
    new MutationObserver(() => commits.push({ t: performance.now(), search: countEl()?.dataset.search })).observe(document.body, { attributes: true, subtree: true, attributeFilter: ['data-search'] });
    const input = document.querySelector('input[aria-label="Search the library"]');
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const frame = () => new Promise((r) => requestAnimationFrame((t) => r(t)));
    const type = (text) => {
      setter.call(input, text);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    };
    const keys = [];
    for (let round = 0; round < rounds; round++) {
      let text = '';
      for (const ch of 'night') {
        text += ch;
        const wsFrom = w.__ws.length;
        const t0 = performance.now();
        type(text);
        const typed = performance.now();
        let frames = 0;
        let shownAt = NaN;
        while (performance.now() - t0 < 2000) {
          await frame();
          frames++;
          if (countEl().dataset.search === text) {
            shownAt = performance.now();
            break;
          }
        }
        // The frame after the one that shows the rows starts once that one is painted.
        const nextFrame = await frame();
        const commit = commits.find((c) => c.t >= t0 && c.search === text);
        const msgs = w.__ws.slice(wsFrom).map((m) => ({ ...m, t: m.t - t0 }));
        keys.push({ text, typedMs: typed - t0, frames, shownMs: shownAt - t0, commitMs: commit ? commit.t - t0 : NaN, paintedMs: nextFrame - t0, t0, msgs });
        await new Promise((r) => setTimeout(r, 50));
      }
      type('');
      await new Promise((r) => setTimeout(r, 400));
    }
    return { keys, loaf };
  }, ROUNDS);
  const profile = process.env.PROBE_PROFILE ? (await cdp.send('Profiler.stop')).profile : null;
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  await done;

  console.log(`N=${N} rounds=${ROUNDS} load=${loadavg()[0].toFixed(2)}`);
  console.log('text   typed  send   reply  commit shown  painted frames  (ms from the input event)  messages');
  for (const k of result.keys) {
    const out = k.msgs.find((m) => m.dir === 'out' && m.head.includes('library.list'));
    const reply = k.msgs.find((m) => m.dir === 'in' && out && m.t >= out.t && m.head.includes(`"id":${JSON.parse(out.head.replace(/,"name".*$/, '}')).id},`));
    const f = (v) => (v === undefined || Number.isNaN(v) ? '   -  ' : v.toFixed(1).padStart(6));
    console.log(`${k.text.padEnd(6)} ${f(k.typedMs)} ${f(out?.t)} ${f(reply?.t)} ${f(k.commitMs)} ${f(k.shownMs)} ${f(k.paintedMs)} ${String(k.frames).padStart(3)}     ${k.msgs.map((m) => `${m.dir}@${m.t.toFixed(1)}${m.dir === 'in' ? `(${m.bytes}B)` : `:${m.head.match(/"name":"([^"]+)"/)?.[1]}`}`).join(' ')}`);
  }
  const first = result.keys[0].t0;
  for (const l of result.loaf) console.log('loaf', JSON.stringify({ ...l, start: +(l.start - first).toFixed(1) }));
  phases(chunks, result.keys);
  if (profile) selfTimes(profile);
} finally {
  await browser.close();
  child.kill('SIGTERM');
}

/** The renderer main thread's CPU (thread time) by phase over the keystrokes, and its longest tasks. */
function phases(events, keys) {
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const on = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
  const sum = {};
  for (const e of on) if (['FunctionCall', 'EventDispatch', 'RunMicrotasks', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'Commit', 'HitTest', 'ParseHTML', 'MajorGC', 'MinorGC', 'V8.GC_SCAVENGER'].includes(e.name)) sum[e.name] = (sum[e.name] ?? 0) + (e.tdur ?? 0) / 1000;
  console.log(`main thread CPU by phase over ${keys.length} keystrokes (ms): ${Object.entries(sum).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  if (process.env.PROBE_LAYOUTS) for (const e of on.filter((x) => x.name === 'Layout' && x.dur > 3000)) console.log(`layout ${(e.dur / 1000).toFixed(1)} ms`, JSON.stringify(e.args));
  const tasks = on.filter((e) => e.name === 'ThreadControllerImpl::RunTask').sort((a, b) => b.dur - a.dur).slice(0, 12);
  for (const t of tasks) {
    const inner = on.filter((e) => e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e !== t && ['FunctionCall', 'EventDispatch', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'Commit', 'RunMicrotasks', 'MinorGC', 'MajorGC'].includes(e.name));
    const by = {};
    for (const e of inner) by[e.name] = (by[e.name] ?? 0) + e.dur / 1000;
    console.log(`task ${(t.dur / 1000).toFixed(1)} ms wall, ${((t.tdur ?? 0) / 1000).toFixed(1)} ms cpu: ${Object.entries(by).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  }
}

/** PROBE_PROFILE: the renderer's JavaScript self time by function over the keystrokes (a build with `minify: false` names them). */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const top = [...self.entries()].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)')).sort((a, b) => b[1] - a[1]).slice(0, 30);
  for (const [k, v] of top) console.log(`self ${v.toFixed(1).padStart(7)} ms  ${k}`);
}
