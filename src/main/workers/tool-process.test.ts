import { describe, expect, it } from 'vitest';
import { processAlive as alive } from '../../test/fixtures';
import { runTool } from './tool-process';

const node = process.execPath;
const base = { signal: new AbortController().signal, stallMs: 10_000, timeoutMs: 20_000, killGraceMs: 500 };

describe('runTool (execa underneath)', () => {
  it('hands every line to onLine, carriage returns included, and reports the exit code', async () => {
    const lines: string[] = [];
    const exit = await runTool({
      ...base,
      command: node,
      args: ['-e', 'process.stdout.write("a\\rb\\nc\\r\\n"); process.stderr.write("warn\\n"); process.exit(3)'],
      onLine: (line, stream) => void lines.push(`${stream}:${line}`),
    });
    expect(lines.sort()).toEqual(['stderr:warn', 'stdout:a', 'stdout:b', 'stdout:c']);
    expect(exit).toMatchObject({ code: 3, signal: null, stopped: null });
  });

  it('passes arguments as they are: no shell ever reads them', async () => {
    const lines: string[] = [];
    await runTool({ ...base, command: node, args: ['-e', 'console.log(process.argv[1])', '$(echo hi); rm -rf /tmp/x'], onLine: (l) => void lines.push(l) });
    expect(lines).toEqual(['$(echo hi); rm -rf /tmp/x']);
  });

  it.skipIf(process.platform === 'win32')('a cancel kills the whole process group, grandchildren included', async () => {
    const controller = new AbortController();
    let grandchild = 0;
    // SIGTERM is ignored before the line that triggers the cancel is printed
    const script = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);
      const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('child ' + c.pid);`;
    const exit = await runTool({
      ...base,
      signal: controller.signal,
      command: node,
      args: ['-e', script],
      onLine: (line) => {
        grandchild = Number(line.split(' ')[1]);
        controller.abort();
      },
    });
    expect(exit.stopped).toBe('aborted');
    expect(exit.signal).toBe('SIGKILL'); // it ignored SIGTERM: killed after the grace period
    await new Promise((r) => setTimeout(r, 200));
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(grandchild)).toBe(false);
  });

  it('stops a tool that prints nothing for stallMs', async () => {
    const started = Date.now();
    const exit = await runTool({ ...base, stallMs: 300, command: node, args: ['-e', 'setTimeout(() => {}, 30000)'], onLine: () => undefined });
    expect(exit.stopped).toBe('stalled');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects with the spawn error when the tool is not installed (ENOENT: the caller says TOOL_MISSING)', async () => {
    await expect(runTool({ ...base, command: '/nonexistent/spotdl', args: [], onLine: () => undefined })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
