// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnalysisResult } from '../../../shared/analysis';
import { BarRuler, barTimes } from './BarRuler';

afterEach(() => cleanup());

const withGrid = (downbeats: number[], start = 0) =>
  ({ window: { start, seconds: 30, truncated: start > 0 }, grid: { beats: downbeats, downbeats, meter: '4/4', first_downbeat: downbeats[0] ?? null, downbeat_confidence: 1 } }) as unknown as AnalysisResult;

describe('bar lines', () => {
  it('places bars in file time (the grid counts from the analysed window)', () => {
    expect(barTimes(withGrid([0.5, 2.5], 100))).toEqual([100.5, 102.5]);
    expect(barTimes(null)).toEqual([]);
    expect(barTimes({ window: { start: 0 } } as unknown as AnalysisResult)).toEqual([]); // analyzer 1.0.0: no grid
  });

  it('seeks exactly to the clicked bar line', () => {
    const seeks: number[] = [];
    render(<BarRuler bars={[0.5, 2.5, 4.5, 6.5, 8.5]} duration={10} width={500} meter="4/4" onSeek={(t) => seeks.push(t)} />);
    expect(screen.getByRole('group', { name: /Bars \(4\/4\)/ })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Bar 3 at 0:04.5' }));
    expect(seeks).toEqual([4.5]);
    // every 4th bar is labelled, all are clickable
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['1', '', '', '', '5']);
  });
});
