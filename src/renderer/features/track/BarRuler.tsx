import type { AnalysisResult } from '../../../shared/analysis';
import { formatTime } from '../../lib/mix';

/** Bar starts in seconds from the start of the file (the grid counts from the analysed window's start). */
export function barTimes(analysis: AnalysisResult | null | undefined): number[] {
  const grid = analysis?.grid;
  if (!grid || grid.downbeats.length === 0) return [];
  const offset = analysis.window?.start ?? 0;
  return grid.downbeats.map((t) => t + offset);
}

/**
 * A row of bar numbers over the lanes, one button per bar start (the analysis's downbeats):
 * clicking one seeks exactly to that bar line. Every 4th bar is labelled, so the row stays
 * readable on long tracks; all bars stay clickable and named for screen readers.
 */
export function BarRuler({ bars, duration, width, meter, onSeek }: { bars: number[]; duration: number; width: number; meter: string | null; onSeek: (seconds: number) => void }) {
  if (bars.length === 0 || duration <= 0) return null;
  return (
    <div className="bar-ruler" style={{ width, position: 'relative', height: 20 }} role="group" aria-label={`Bars${meter ? ` (${meter})` : ''}: click one to seek`}>
      {bars.map((t, i) => (
        <button
          key={i}
          type="button"
          className={`bar-mark${i % 4 === 0 ? ' labelled' : ''}`}
          style={{ position: 'absolute', left: `${(t / duration) * 100}%` }}
          aria-label={`Bar ${i + 1} at ${formatTime(t)}`}
          title={`Bar ${i + 1} · ${formatTime(t)}`}
          onClick={(e) => {
            e.stopPropagation();
            onSeek(t);
          }}
        >
          {i % 4 === 0 ? i + 1 : ''}
        </button>
      ))}
    </div>
  );
}
