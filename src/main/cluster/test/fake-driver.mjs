#!/usr/bin/env node
/**
 * Tests only: a stand-in for `python -m sfa_sidecar [--cluster]` speaking the sidecar's JSON-lines
 * protocol, so the engine's cluster logic (snooze, strip, record, retry, cancel, settings) is
 * tested without Ray. SFA_PYTHON points at this file. What each request does comes from the plan
 * file FAKE_DRIVER_PLAN ({ "<op>": ["ok" | "unreachable" | "node_lost" | "auth" | "hang", ...] },
 * the last entry repeating); every request is appended to FAKE_DRIVER_PLAN + ".log", which the
 * plan's position is counted from. The real driver is tested against a real cluster (cluster.test.ts).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const cluster = process.argv.includes('--cluster');
const planFile = process.env.FAKE_DRIVER_PLAN;
const plan = () => JSON.parse(readFileSync(planFile, 'utf8'));
const logFile = `${planFile}.log`;
const calls = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const NODE = { ip: '10.9.8.7', id: 'c0ffee00112233445566778899aabbccddeeff00112233445566778' };

send({
  type: 'hello', protocol: 1, pid: process.pid, ops: ['separate', 'analyze', 'cluster_status', 'ping'], versions: { ray: cluster ? '2.60.0' : null }, devices: [],
  ...(cluster ? { cluster: { address: process.env.SFA_RAY_ADDRESS } } : {}),
});

const cancelled = new Set();
const fail = (id, code, message) => send({ type: 'error', id, code, message });
const placement = { nodeId: NODE.id, nodeIp: NODE.ip, actor: 'separation-1', transferSeconds: 0.01, bytesSent: 4, bytesReceived: 8 };

async function handle({ id, op, params }) {
  const index = calls().filter((c) => c.op === op).length;
  const modes = plan()[op] ?? ['ok'];
  const mode = modes[Math.min(index, modes.length - 1)];
  appendFileSync(logFile, `${JSON.stringify({ op, mode, cluster, pid: process.pid, address: process.env.SFA_RAY_ADDRESS ?? null, token: process.env.SFA_RAY_TOKEN ?? null, threads: process.env.SFA_CLUSTER_THREADS ?? null })}\n`);
  if (op === 'cluster_status') {
    if (mode === 'unreachable') return send({ type: 'result', id, result: { address: process.env.SFA_RAY_ADDRESS, connected: false, error: 'cannot reach the head' } });
    return send({ type: 'result', id, result: {
      address: process.env.SFA_RAY_ADDRESS, connected: true,
      nodes: [{ nodeId: NODE.id, ip: NODE.ip, alive: true, cpus: 4, gpus: 0 }, { nodeId: 'ab'.repeat(28), ip: '10.9.8.6', alive: true, cpus: 4, gpus: 0 }],
      actors: [{ kind: 'separation', nodeId: NODE.id, state: 'ALIVE' }], cpus: 8, gpus: 0, suggested: plan().suggested ?? { processing: 3, analysis: 5 },
    } });
  }
  if (cluster) send({ type: 'progress', id, fraction: 0, message: `running on node ${NODE.ip} (${NODE.id.slice(0, 8)})` });
  if (mode === 'unreachable') return fail(id, 'CLUSTER_UNREACHABLE', 'Cannot reach the Ray cluster at ray://10.0.0.1:10001 (connection refused).');
  if (mode === 'node_lost') return fail(id, 'NODE_LOST', 'The node running the job died.');
  if (mode === 'auth') return fail(id, 'CLUSTER_AUTH', 'The cluster refused the token.');
  if (mode === 'hang') {
    for (let i = 0; !cancelled.has(id); i++) {
      send({ type: 'progress', id, fraction: Math.min(0.9, i / 100), message: 'separating' });
      await new Promise((r) => setTimeout(r, 50));
    }
    return fail(id, 'CANCELLED', 'cancelled');
  }
  const extra = cluster ? { cluster: placement } : {};
  if (op === 'separate') {
    mkdirSync(params.outDir, { recursive: true });
    const stems = {};
    for (const stem of ['vocals', 'other']) {
      const path = join(params.outDir, `${stem}.wav`);
      writeFileSync(path, `${stem} of ${params.path}`);
      stems[stem] = { path, size: readFileSync(path).length, duration: 1, format: 'wav' };
    }
    return send({ type: 'result', id, result: { model: params.model, device: 'cpu', fallbacks: [], stems, ...extra } });
  }
  if (op === 'analyze') return send({ type: 'result', id, result: { ...plan().analysis, ...extra } });
  return send({ type: 'result', id, result: { pid: process.pid, ...extra } });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line);
  if (message.type === 'shutdown') process.exit(0);
  if (message.type === 'cancel') cancelled.add(message.id);
  if (message.type === 'request') void handle(message);
});
