/** The stem mixer's pure logic: solo/mute/volume -> the gain each stem's GainNode gets. */
export interface StemControl {
  muted: boolean;
  solo: boolean;
  /** 0..1 */
  volume: number;
}

/** Any solo: only soloed stems sound (mute still wins on a soloed stem); else all unmuted ones. */
export function stemGains(controls: Record<string, StemControl>): Record<string, number> {
  const anySolo = Object.values(controls).some((c) => c.solo);
  const out: Record<string, number> = {};
  for (const [name, c] of Object.entries(controls)) {
    const audible = !c.muted && (!anySolo || c.solo);
    out[name] = audible ? Math.max(0, Math.min(1, c.volume)) : 0;
  }
  return out;
}

/** Solo stem `name` alone (exclusive), or clear the solo if it already was the only one. */
export function toggleSolo(controls: Record<string, StemControl>, name: string, exclusive = true): Record<string, StemControl> {
  const wasOnly = controls[name]?.solo && Object.entries(controls).every(([n, c]) => n === name || !c.solo);
  const out: Record<string, StemControl> = {};
  for (const [n, c] of Object.entries(controls)) {
    if (n === name) out[n] = { ...c, solo: exclusive ? !wasOnly : !c.solo };
    else out[n] = exclusive ? { ...c, solo: false } : c;
  }
  return out;
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}
