/**
 * Folders given to `sfa run` (and `sfa add`): imported as a stream, the queues working each batch
 * as soon as it is in the library, with a progress line on a terminal. `sfa run` asks for counts
 * only, so that memory stays flat over 100,000 files.
 */
import type { ImportCounts, ImportProgress } from '../../shared/domain';
import type { Engine } from '../engine';
import { call } from './call';
import type { CommandContext } from './context';

/** Errors listed on stderr after a folder import (the counts say how many there were). */
const LISTED_ERRORS = 20;

/** The import's progress on stderr when it is a terminal; nothing otherwise (scripts read stdout). */
export function followImport(engine: Pick<Engine, 'events'>, enabled: boolean): () => void {
  if (!enabled || !process.stderr.isTTY) return () => undefined;
  return engine.events.subscribe((event, payload) => {
    if (event !== 'library:import') return;
    const p = payload as ImportProgress;
    process.stderr.write(`\r\x1b[2Kimport: ${describeCounts(p)}${p.done ? '\n' : ''}`);
  });
}

export function describeCounts(c: ImportCounts): string {
  return `${c.seen} files: ${c.imported} imported, ${c.skipped} already in the library, ${c.failed} failed`;
}

/** Imports `inputs` (files, folders, links) with the pipeline; returns the counts. */
export async function importForRun(engine: Engine, ctx: CommandContext, inputs: string[]): Promise<ImportCounts> {
  const stop = followImport(engine, !ctx.out.json);
  try {
    const result = await call(engine, 'library.add', { inputs, summaryOnly: true });
    for (const e of result.errors.slice(0, LISTED_ERRORS)) ctx.out.note(`error  ${e.input}: ${e.message} [${e.code}]`);
    const counts = result.counts ?? { seen: 0, imported: 0, skipped: 0, failed: result.errors.length };
    if (counts.failed > LISTED_ERRORS) ctx.out.note(`…and ${counts.failed - LISTED_ERRORS} more errors`);
    return counts;
  } finally {
    stop();
  }
}
