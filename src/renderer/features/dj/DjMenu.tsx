import { useEffect } from 'react';
import { useActions } from '../../actions/context';
import { useDjStore } from '../../stores/dj';

/** "DJ software" menu for a selection or one track: tags, rekordbox, Traktor, M3U8, NI Stems. */
export function DjMenu({ ids }: { ids: string[] }) {
  const { dj } = useActions();
  const busy = useDjStore((s) => s.busy);
  const items: [string, () => Promise<void>][] = [
    ['Write tags', () => dj.writeTags(ids)],
    ['Restore tags', () => dj.restoreTags(ids)],
    ['Export to rekordbox…', () => dj.exportCollection('rekordbox', ids)],
    ['Export to Traktor…', () => dj.exportCollection('traktor', ids)],
    ['Export M3U8 playlist…', () => dj.exportCollection('m3u', ids)],
    ['Export NI Stems…', () => dj.exportNiStems(ids)],
  ];
  return (
    <details className="dj-menu">
      <summary className="button">DJ software</summary>
      <div role="menu" aria-label="DJ software" className="dj-menu-items">
        {items.map(([label, act]) => (
          <button
            key={label}
            type="button"
            role="menuitem"
            className="button ghost"
            disabled={!!busy}
            onClick={(e) => {
              (e.currentTarget.closest('details') as HTMLDetailsElement | null)?.removeAttribute('open');
              void act();
            }}
          >
            {label}
          </button>
        ))}
      </div>
    </details>
  );
}

/** The running DJ task and its progress (tracks done of total). */
export function DjProgressBar() {
  const busy = useDjStore((s) => s.busy);
  if (!busy) return null;
  const p = busy.progress;
  return (
    <div className="dj-progress" role="status" aria-label="DJ export progress">
      {busy.label}
      {p && p.total > 0 ? ` ${p.done}/${p.total}` : '…'}
      {p && p.total > 0 && <progress max={p.total} value={p.done} />}
    </div>
  );
}

/** The file's own BPM/key (imported tags, or ours once written) beside the analysis. */
export function FileTagsLine({ trackId }: { trackId: string }) {
  const { dj } = useActions();
  const view = useDjStore((s) => s.fileTags[trackId]);
  useEffect(() => void dj.loadFileTags(trackId), [dj, trackId]);
  if (!view?.file) return null;
  const { bpm, key } = view.file;
  return (
    <p className="muted small" data-testid="file-tags">
      In the file&apos;s tags: {bpm ? `${bpm} BPM` : 'no BPM'} · {key ?? 'no key'}
      {view.ours.bpm !== null ? ` (ours: ${view.ours.bpm.toFixed(1)} BPM · ${view.ours.key ?? '?'})` : ''}
      {view.written ? ' · written by us, restorable' : ''}
    </p>
  );
}
