import { useEffect, useRef } from 'react';
import type { Peaks } from '../../../shared/domain';

const NO_BARS: number[] = [];

/**
 * One lane's waveform on a canvas sized in device pixels (crisp at any zoom and on HiDPI): each
 * pixel column draws the min..max of the peaks it covers; the played part is tinted; a playhead;
 * bar lines at `bars` (fractions 0..1 of the track: the analysis's downbeats).
 */
export function Waveform({ peaks, width, height, progress, color, dim, bars = NO_BARS }: { peaks: Peaks; width: number; height: number; progress: number; color: string; dim: boolean; bars?: number[] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.min(32_000, Math.round(width * dpr));
    const h = Math.round(height * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const g = canvas.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, w, h);
    const data = peaks.peaks[0] ?? [];
    const n = data.length;
    if (!n) return;
    const mid = h / 2;
    const played = Math.round(progress * w);
    const styles = getComputedStyle(canvas);
    const playedColor = styles.getPropertyValue('--wave-played').trim() || '#f0b54c';
    for (let x = 0; x < w; x++) {
      const a = Math.floor((x / w) * n);
      const b = Math.max(a + 1, Math.floor(((x + 1) / w) * n));
      let lo = 1, hi = -1;
      for (let i = a; i < b && i < n; i++) {
        const p = data[i]!;
        if (p[0] < lo) lo = p[0];
        if (p[1] > hi) hi = p[1];
      }
      if (hi < lo) continue;
      const y0 = mid - hi * mid * 0.95;
      const y1 = mid - lo * mid * 0.95;
      g.fillStyle = x < played ? playedColor : color;
      g.globalAlpha = dim ? 0.3 : 1;
      g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
    }
    g.globalAlpha = 0.35;
    g.fillStyle = styles.getPropertyValue('--bar-line').trim() || '#ffffff';
    for (const f of bars) g.fillRect(Math.round(f * w), 0, 1, h);
    g.globalAlpha = 1;
    g.fillStyle = '#ffffff';
    g.fillRect(Math.min(w - Math.ceil(dpr), played), 0, Math.ceil(dpr), h);
  }, [peaks, width, height, progress, color, dim, bars]);
  return <canvas ref={ref} className="waveform" style={{ width, height }} aria-hidden="true" />;
}

/** A small energy curve on a canvas (device-pixel sized). */
export function Sparkline({ values, width = 240, height = 40, label }: { values: number[]; width?: number; height?: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const g = canvas.getContext('2d');
    if (!g || values.length < 2) return;
    const max = Math.max(...values, 1e-9);
    const min = Math.min(...values, 0);
    g.scale(dpr, dpr);
    g.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * width;
      const y = height - 2 - ((v - min) / (max - min || 1)) * (height - 4);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.strokeStyle = '#e0a43c';
    g.lineWidth = 1.5;
    g.stroke();
    g.lineTo(width, height);
    g.lineTo(0, height);
    g.closePath();
    g.fillStyle = 'rgba(224,164,60,0.15)';
    g.fill();
  }, [values, width, height]);
  return <canvas ref={ref} className="sparkline" style={{ width, height }} role="img" aria-label={label} />;
}
