/**
 * The longest stretch without the event loop turning, two ways:
 *  - wall: the histogram / timer drift, which also counts time the OS did not run us at all
 *    (on a loaded 2-CPU box that dominates: other processes preempt us for tens of ms);
 *  - cpu: per gap, min(wall gap, CPU time this process used during it): the part of the gap
 *    we were actually running (busy main thread). Process CPU includes helper threads, so this
 *    over- rather than under-estimates the main-thread block; time blocked in a system call
 *    without using CPU (a disk sync) is in the wall figure only.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export function blockProbe(intervalMs = 1) {
  const h = monitorEventLoopDelay({ resolution: intervalMs });
  h.enable();
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let maxGap = 0;
  let maxCpuBlock = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const gap = now - last - intervalMs;
    maxGap = Math.max(maxGap, gap);
    maxCpuBlock = Math.max(maxCpuBlock, Math.min(gap, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      h.disable();
      return { maxWallMs: Math.max(h.max / 1e6 - intervalMs, maxGap, 0), p99WallMs: h.percentile(99) / 1e6, maxBlockMs: Math.max(maxCpuBlock, 0) };
    },
  };
}
