/**
 * "Copy diagnostics": one plain-text report for a bug report — versions, host, the doctor's
 * checks (with the device), the setup state, recent job failures and the last log lines.
 * Never throws: a part that fails says so in the text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import type { SetupStatus, SystemInfo } from '../../shared/contract';
import type { DoctorReport } from '../../shared/domain';
import type { Job } from '../jobs';

export interface DiagnosticsSources {
  info: SystemInfo;
  doctor: () => Promise<DoctorReport>;
  setup?: () => SetupStatus;
  recentFailures: () => Job[];
  logFile: string;
  logLines?: number;
}

/** The last `n` lines of a text file (reads at most the last 256 KB). */
export function tailLines(file: string, n: number): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text.slice(-256 * 1024).trimEnd().split('\n').slice(-n);
}

export async function diagnosticsText(sources: DiagnosticsSources): Promise<string> {
  const out: string[] = [];
  const { info } = sources;
  out.push('# Sound Forge Alchemy diagnostics', `generated: ${new Date().toISOString()}`);
  out.push(`app: ${info.version} (host ${info.host})`, `data folder: ${info.home}`);
  out.push(`os: ${platform()} ${release()} ${arch()}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM`);
  out.push(`node: ${process.versions.node}${process.versions.electron ? `, electron ${process.versions.electron}` : ''}`);
  out.push('', '## doctor');
  try {
    const report = await sources.doctor();
    for (const c of report.checks) out.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.version ? ` ${c.version}` : ''}${c.path ? ` [${c.path}]` : ''}${c.detail ? ` — ${c.detail}` : ''}`);
  } catch (error) {
    out.push(`doctor failed: ${(error as Error).message}`);
  }
  if (sources.setup) {
    out.push('', '## setup');
    try {
      const s = sources.setup();
      out.push(`state: ${s.state}, source: ${s.source}, lock: ${s.lock}, accelerator: ${s.accelerator}`, `environment: ${s.envDir}`);
      out.push(`steps: ${s.steps.map((st) => `${st.name}=${st.state}`).join(' ')}`);
      if (s.error) out.push(`error (${s.error.step}): ${s.error.message}`);
    } catch (error) {
      out.push(`setup status failed: ${(error as Error).message}`);
    }
  }
  out.push('', '## recent job failures');
  try {
    const failures = sources.recentFailures();
    if (!failures.length) out.push('none');
    for (const job of failures) {
      const last = job.errors.at(-1);
      out.push(`job ${job.id} ${job.worker} ${job.state} attempt ${job.attempt}/${job.maxAttempts}: ${last ? `${last.at} ${last.code ?? ''} ${last.error}`.replace(/\s+/g, ' ') : 'no error recorded'}`);
    }
  } catch (error) {
    out.push(`unavailable: ${(error as Error).message}`);
  }
  out.push('', `## last log lines (${sources.logFile})`);
  const lines = tailLines(sources.logFile, sources.logLines ?? 50);
  out.push(...(lines.length ? lines : ['(empty)']));
  return `${out.join('\n')}\n`;
}
