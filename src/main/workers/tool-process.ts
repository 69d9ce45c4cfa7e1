import { execa } from 'execa';

/**
 * Runs an external tool (spotdl, yt-dlp) the safe way: an argument array, never a shell; its own
 * process group, so a kill also reaches what it started (ffmpeg, yt-dlp under spotdl); every
 * line of stdout and stderr handed to `onLine` (carriage returns split lines too, for progress
 * bars); stopped on abort, on a stall (no output for `stallMs`), on `timeoutMs`, or when
 * `onLine` asks for it. A stop is SIGTERM, then SIGKILL after `killGraceMs`.
 */
export interface ToolRun {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal: AbortSignal;
  /** Kill when the tool prints nothing for this long. */
  stallMs: number;
  timeoutMs: number;
  killGraceMs?: number;
  /** Return 'stop' to kill the tool (e.g. it announced a day-long rate-limit sleep). */
  onLine(line: string, stream: 'stdout' | 'stderr'): 'stop' | void;
}

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why we stopped it, when we did. */
  stopped: 'aborted' | 'stalled' | 'timeout' | 'requested' | null;
  /** The last lines of output (for error messages). */
  tail: string[];
}

const TAIL_LINES = 40;

export async function runTool(run: ToolRun): Promise<ToolExit> {
  const group = process.platform !== 'win32';
  // execa keeps the guarantees we need from spawn (a file and an argument array, no shell) and
  // adds the parent-exit cleanup; the group kill, stall and overall timers stay ours, because
  // execa's own `timeout`/`cancelSignal` signal the leader only, not what it started.
  const child = execa(run.command, run.args, {
    shell: false,
    cwd: run.cwd,
    env: run.env ?? process.env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false, // lines go to onLine as they come; nothing accumulates
    reject: false,
    detached: group,
    windowsHide: true,
  });
  const tail: string[] = [];
  let stopped: ToolExit['stopped'] = null;
  let killTimer: NodeJS.Timeout | undefined;
  let stallTimer: NodeJS.Timeout | undefined;

  const signalGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (group) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const stop = (why: NonNullable<ToolExit['stopped']>) => {
    if (stopped) return;
    stopped = why;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), run.killGraceMs ?? 3000);
  };
  const armStall = () => {
    if (stallTimer) clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stop('stalled'), run.stallMs);
  };
  const overall = setTimeout(() => stop('timeout'), run.timeoutMs);
  const onAbort = () => stop('aborted');
  if (run.signal.aborted) onAbort();
  else run.signal.addEventListener('abort', onAbort, { once: true });
  armStall();

  const emit = (line: string, stream: 'stdout' | 'stderr') => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (stopped) return;
    let wanted: 'stop' | void;
    try {
      wanted = run.onLine(line, stream);
    } catch {
      wanted = undefined;
    }
    if (wanted === 'stop') stop('requested');
  };
  // Our own splitter: carriage returns end lines too (progress bars), which execa's `lines` does not do.
  const reader = (stream: 'stdout' | 'stderr') => {
    let buffer = '';
    return (chunk: Buffer) => {
      armStall();
      buffer += chunk.toString('utf8');
      const parts = buffer.split(/\r\n|\n|\r/);
      buffer = parts.pop() ?? '';
      for (const line of parts) emit(line, stream);
      if (buffer.length > 64 * 1024) {
        emit(buffer, stream);
        buffer = '';
      }
    };
  };
  child.stdout.on('data', reader('stdout'));
  child.stderr.on('data', reader('stderr'));

  const result = await child;
  clearTimeout(overall);
  if (stallTimer) clearTimeout(stallTimer);
  run.signal.removeEventListener('abort', onAbort);
  // The group may outlive its leader (a grandchild holding on): make sure it goes.
  if (stopped && group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* the whole group is gone */
    }
  }
  if (killTimer) clearTimeout(killTimer);
  // Not started at all (ENOENT, EACCES): the spawn error itself, as before, for TOOL_MISSING.
  if (result.failed && result.exitCode === undefined && !result.isTerminated) throw result.cause ?? result;
  return { code: result.exitCode ?? null, signal: (result.signal as NodeJS.Signals | undefined) ?? null, stopped, tail };
}

// The ffmpeg lookup lives with the sidecar environment it falls back to; re-exported for the workers.
export { bundledFfmpeg } from '../sidecar/ffmpeg';
