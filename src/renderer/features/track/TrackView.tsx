import { useEffect, useMemo, useRef, useState } from 'react';
import type { AnalysisResult } from '../../../shared/analysis';
import { useActions } from '../../actions/context';
import { MIX_LANE } from '../../actions/player';
import { CAMELOT_NAMES } from '../../lib/camelot';
import { formatTime, stemGains } from '../../lib/mix';
import { usePlayerStore, useSystemStore, useUiStore } from '../../stores';
import { formatBpm, formatDuration } from '../library/format';
import { BarRuler, barTimes } from './BarRuler';
import { Sparkline, Waveform } from './Waveform';
import { DjMenu, DjProgressBar, FileTagsLine } from '../dj/DjMenu';

const LANE_COLORS: Record<string, string> = { vocals: '#e86fa3', drums: '#6aa8f1', bass: '#9b7bf0', other: '#4cc38a', mix: '#8d94a3', guitar: '#e8b44a', piano: '#5fd3d0' };

const fmt = (v: unknown, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const tempoRange = (a: AnalysisResult) => {
  const bpms = (a.tempo.curve ?? []).map((p) => p.bpm);
  return bpms.length ? `${formatBpm(Math.min(...bpms))}–${formatBpm(Math.max(...bpms))} BPM` : 'drifts';
};
const asPercent = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 100)}%` : '—');

function AnalysisPanel({ analysis }: { analysis: AnalysisResult | null }) {
  if (!analysis) {
    return (
      <div className="panel analysis-panel empty">
        <p className="muted">Not analysed yet: the analysis runs after separation (see Jobs), or use Re-analyse in the Library.</p>
      </div>
    );
  }
  const a = analysis;
  const alts = a.tempo.alternatives.map((x) => x.bpm);
  const runner = [a.key.runner_up.camelot, a.key.runner_up.key].filter(Boolean).join(' · ');
  const spectral = Object.entries(a.spectral).filter(([, v]) => typeof v === 'number') as [string, number][];
  return (
    <div className="analysis-grid" aria-label="Analysis">
      <div className="panel stat" data-testid="analysis-bpm">
        <div className="stat-label">Tempo</div>
        <div className="stat-value">{formatBpm(a.tempo?.bpm ?? null)} <span className="unit">BPM</span></div>
        <div className="small muted">
          confidence {asPercent(a.tempo.confidence)}
          {alts.length > 0 && <> · also {alts.slice(0, 3).map((b) => formatBpm(b)).join(', ')}</>}
          {a.tempo.stable === false && <> · not steady ({tempoRange(a)})</>}
          {a.grid?.meter && <> · {a.grid.meter}, first bar at {fmt(a.grid.first_downbeat, 2)} s</>}
        </div>
      </div>
      <div className="panel stat" data-testid="analysis-key">
        <div className="stat-label">Key</div>
        <div className="stat-value">
          {a.key?.camelot && <span className={`camelot camelot-${a.key.camelot.slice(-1)}`}>{a.key.camelot}</span>} {a.key?.key ?? (a.key?.camelot ? CAMELOT_NAMES[a.key.camelot] : '—')}
        </div>
        <div className="small muted">
          confidence {asPercent(a.key?.confidence)}
          {a.key?.open_key && <> · Open Key {a.key.open_key}</>}
          {a.key.tuning_cents !== undefined && Math.abs(a.key.tuning_cents) >= 5 && <> · tuned {a.key.tuning_cents > 0 ? '+' : ''}{fmt(a.key.tuning_cents, 0)} cents</>}
          {runner && <> · runner-up {runner}</>}
        </div>
      </div>
      <div className="panel stat">
        <div className="stat-label">Energy</div>
        <div className="stat-value">
          {a.energy?.level !== undefined ? fmt(a.energy.level <= 1 ? a.energy.level * 10 : a.energy.level, 0) : fmt(a.energy?.rms_mean, 3)}
          <span className="unit"> · {fmt(a.energy?.loudness_lufs)} LUFS</span>
        </div>
        {a.energy?.curve && a.energy.curve.length > 1 && <Sparkline values={a.energy.curve} label="Energy over time" />}
      </div>
      <div className="panel stat">
        <div className="stat-label">Spectrum</div>
        <dl className="mini-dl small">
          {spectral.slice(0, 4).map(([k, v]) => (
            <div key={k}>
              <dt>{k.replace(/_mean$/, '').replace(/_/g, ' ')}</dt>
              <dd>{fmt(v, v > 100 ? 0 : 3)}</dd>
            </div>
          ))}
          {spectral.length === 0 && <dd className="muted">—</dd>}
        </dl>
      </div>
      <div className="panel stat source-note small">
        <div className="stat-label">Measured from</div>
        <div>{a.source === 'stems' ? 'the stems' : 'the mix'}</div>
        {a.choice_reason && <div className="muted">{a.choice_reason}</div>}
      </div>
    </div>
  );
}

function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => el.clientWidth > 0 && setWidth(el.clientWidth);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

function Lanes() {
  const actions = useActions();
  const { lanes, peaks, controls, selectedLane, position, duration, zoom, trackId } = usePlayerStore();
  const analysis = usePlayerStore((s) => s.detail?.analysis ?? null);
  const bars = useMemo(() => barTimes(analysis), [analysis]);
  const barFractions = useMemo(() => (duration > 0 ? bars.map((t) => t / duration) : []), [bars, duration]);
  const [ref, width] = useWidth<HTMLDivElement>();
  const laneWidth = Math.max(100, (width - 180) * zoom);
  const gains = stemGains(controls);
  const progress = duration > 0 ? position / duration : 0;
  return (
    <div className="lanes" ref={ref} aria-label="Stems">
      {bars.length > 0 && (
        <div className="lane bar-ruler-lane">
          <div className="lane-head small muted">Bars · {analysis?.grid?.meter}</div>
          <div className="lane-wave" style={{ overflowX: zoom > 1 ? 'auto' : 'hidden' }}>
            <BarRuler bars={bars} duration={duration} width={laneWidth} meter={analysis?.grid?.meter ?? null} onSeek={(t) => actions.player.seek(t)} />
          </div>
        </div>
      )}
      {lanes.map((lane, i) => {
        const c = controls[lane];
        const p = peaks[lane];
        const which = lane === MIX_LANE ? 'source' : lane;
        return (
          <div key={lane} className={`lane${selectedLane === lane ? ' selected' : ''}`} data-lane={lane} data-gain={gains[lane]} onClick={() => actions.player.selectLane(lane)}>
            <div
              className="lane-head"
              draggable={!!actions.desktop}
              onDragStart={(e) => {
                if (!actions.desktop || !trackId) return;
                e.preventDefault();
                actions.desktop.startDrag(trackId, lane === MIX_LANE ? undefined : lane);
              }}
              title={actions.desktop ? 'Drag out to the desktop or a DAW' : undefined}
            >
              <div className="lane-name">
                <span className="lane-swatch" style={{ background: LANE_COLORS[lane] ?? '#aaa' }} />
                {lane}
                <span className="muted small"> {i + 1}</span>
              </div>
              <div className="lane-buttons">
                <button type="button" className={`toggle-btn${c?.muted ? ' on mute' : ''}`} aria-pressed={!!c?.muted} aria-label={`Mute ${lane}`} onClick={(e) => (e.stopPropagation(), actions.player.toggleMute(lane))}>
                  M
                </button>
                <button type="button" className={`toggle-btn${c?.solo ? ' on solo' : ''}`} aria-pressed={!!c?.solo} aria-label={`Solo ${lane}`} onClick={(e) => (e.stopPropagation(), actions.player.toggleSolo(lane))}>
                  S
                </button>
                <input
                  type="range"
                  min={0}
                  max={1}
                  step={0.01}
                  value={c?.volume ?? 1}
                  aria-label={`${lane} volume`}
                  onClick={(e) => e.stopPropagation()}
                  onChange={(e) => actions.player.setVolume(lane, Number(e.target.value))}
                />
              </div>
              {trackId && (
                <div className="lane-links small">
                  {actions.desktop ? (
                    <button type="button" className="link-btn" onClick={(e) => (e.stopPropagation(), void actions.desktop!.reveal(trackId, lane === MIX_LANE ? undefined : lane))}>
                      Reveal in folder
                    </button>
                  ) : (
                    <a href={actions.mediaUrl(trackId, which, true)} download onClick={(e) => e.stopPropagation()}>
                      Download
                    </a>
                  )}
                </div>
              )}
            </div>
            <div className="lane-wave" style={{ overflowX: zoom > 1 ? 'auto' : 'hidden' }}>
              <div
                className="lane-wave-inner"
                role="slider"
                tabIndex={-1}
                aria-label={`${lane} waveform: click to seek`}
                aria-valuemin={0}
                aria-valuemax={Math.round(duration)}
                aria-valuenow={Math.round(position)}
                onClick={(e) => {
                  const rect = e.currentTarget.getBoundingClientRect();
                  actions.player.seek(((e.clientX - rect.left) / rect.width) * duration);
                }}
              >
                {p && typeof p === 'object' && 'peaks' in p ? (
                  <Waveform peaks={p} width={laneWidth} height={64} progress={progress} color={LANE_COLORS[lane] ?? '#8d94a3'} dim={(gains[lane] ?? 1) === 0} bars={barFractions} />
                ) : (
                  <div className="wave-placeholder small muted" style={{ width: laneWidth }}>
                    {p && typeof p === 'object' && 'error' in p ? `Waveform unavailable: ${p.error}` : 'Computing the waveform…'}
                  </div>
                )}
              </div>
            </div>
          </div>
        );
      })}
    </div>
  );
}

function Transport() {
  const actions = useActions();
  const { playing, position, duration, audio, audioError, zoom } = usePlayerStore();
  return (
    <div className="transport" role="group" aria-label="Transport">
      <button type="button" className="button primary play" onClick={() => actions.player.toggle()} disabled={audio !== 'ready'} aria-label={playing ? 'Pause' : 'Play'}>
        {playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <span className="time mono" data-testid="time">
        {formatTime(position)} / {formatTime(duration)}
      </span>
      {audio === 'loading' && <span className="muted small">Loading audio…</span>}
      {audio === 'error' && <span className="bad-text small" role="alert">Audio could not load: {audioError}</span>}
      <label className="small zoom">
        Zoom
        <input type="range" min={1} max={16} step={1} value={zoom} aria-label="Zoom" onChange={(e) => actions.player.setZoom(Number(e.target.value))} />
        {zoom}×
      </label>
      <span className="muted small keys-hint">Space play · 1–9 solo · M mute · ←/→ seek</span>
    </div>
  );
}

function ExportPanel() {
  const lanes = usePlayerStore((s) => s.lanes);
  const trackId = usePlayerStore((s) => s.trackId);
  const stems = lanes.filter((l) => l !== MIX_LANE);
  if (!trackId || !stems.length) return null;
  return <ExportStems key={`${trackId}:${stems.join(',')}`} trackId={trackId} stems={stems} />;
}

function ExportStems({ trackId, stems }: { trackId: string; stems: string[] }) {
  const actions = useActions();
  const desktop = useSystemStore((s) => s.info?.canPassPaths ?? false);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(stems));
  const [instrumental, setInstrumental] = useState(false);
  return (
    <div className="panel export-panel" aria-label="Export stems">
      <strong>Export stems</strong>
      {desktop && actions.desktop ? (
        <div className="export-row">
          {stems.map((s) => (
            <label key={s} className="small">
              <input type="checkbox" checked={chosen.has(s)} onChange={(e) => setChosen((c) => { const n = new Set(c); if (e.target.checked) n.add(s); else n.delete(s); return n; })} /> {s}
            </label>
          ))}
          <label className="small">
            <input type="checkbox" checked={instrumental} onChange={(e) => setInstrumental(e.target.checked)} /> instrumental mix
          </label>
          <button type="button" className="button" disabled={!chosen.size} onClick={() => void actions.exportStemsToFolder(trackId, [...chosen], instrumental)}>
            Export to folder…
          </button>
        </div>
      ) : (
        <div className="export-row">
          {stems.map((s) => (
            <a key={s} className="button small-button" href={actions.mediaUrl(trackId, s, true)} download>
              ⤓ {s}
            </a>
          ))}
          <span className="muted small">Each stem downloads as its own file.</span>
        </div>
      )}
    </div>
  );
}

/** Keyboard: space play/pause, 1-9 solo lane n, m mute the selected lane, arrows seek. */
function useShortcuts() {
  const actions = useActions();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' && (t as HTMLInputElement).type !== 'range' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const { lanes, selectedLane } = usePlayerStore.getState();
      if (e.key === ' ') {
        e.preventDefault();
        actions.player.toggle();
      } else if (/^[1-9]$/.test(e.key)) {
        const lane = lanes[Number(e.key) - 1];
        if (lane) {
          actions.player.selectLane(lane);
          actions.player.toggleSolo(lane);
        }
      } else if (e.key === 'm' || e.key === 'M') {
        if (selectedLane) actions.player.toggleMute(selectedLane);
      } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        e.preventDefault();
        actions.player.seekBy((e.key === 'ArrowLeft' ? -1 : 1) * (e.shiftKey ? 15 : 5));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [actions]);
}

export function TrackView() {
  const actions = useActions();
  const detail = usePlayerStore((s) => s.detail);
  const detailStatus = usePlayerStore((s) => s.detailStatus);
  const detailError = usePlayerStore((s) => s.detailError);
  const stemModel = detail?.stemModel ?? null;
  const trackId = useUiStore((s) => s.trackId);
  useShortcuts();
  return (
    <section className="view track-view" aria-labelledby="track-heading">
      <header className="view-header">
        <div>
          <button type="button" className="link-btn small" onClick={() => actions.navigate('library')}>
            ← Library
          </button>
          <h1 id="track-heading">{detail?.title ?? (detailStatus === 'loading' ? 'Loading…' : 'Track')}</h1>
          {detail && (
            <p className="muted small">
              {detail.artist ?? 'Unknown artist'} · {formatDuration(detail.duration)} · {detail.sampleRate ? `${detail.sampleRate / 1000} kHz` : ''}
              {stemModel ? ` · stems by ${stemModel}` : ''}
            </p>
          )}
          {trackId && <FileTagsLine trackId={trackId} />}
        </div>
        {detail && trackId && (
          <div className="toolbar">
            <button type="button" className="button" onClick={() => void actions.runPipeline([trackId], ['separate', 'analyze'])}>
              {detail.stems ? 'Separate again' : 'Separate'}
            </button>
            <button type="button" className="button" onClick={() => void actions.runPipeline([trackId], ['analyze'])}>
              Re-analyse
            </button>
            {actions.desktop && (
              <button type="button" className="button" onClick={() => void actions.desktop!.reveal(trackId)}>
                Reveal in folder
              </button>
            )}
            <DjMenu ids={[trackId]} />
            <DjProgressBar />
          </div>
        )}
      </header>
      <div className="view-body">
        {detailStatus === 'error' && (
          <div className="panel error-panel" role="alert">
            <strong>The track could not be opened.</strong>
            <p>{detailError}</p>
          </div>
        )}
        {detail && (
          <>
            {detail.status === 'missing' && (
              <div className="panel error-panel" role="alert">
                The audio file is missing: {detail.path}. Put it back, or remove the track and add it again.
              </div>
            )}
            <AnalysisPanel analysis={detail.analysis} />
            {!detail.path ? (
              <div className="empty-state small-empty">
                <h2>No audio yet</h2>
                <p>The download has not finished; see Jobs.</p>
              </div>
            ) : (
              <>
                {!detail.stems && <p className="muted small">No stems yet: this is the mix. Separate the track to get vocals, drums, bass and other lanes.</p>}
                <Transport />
                <Lanes />
                <ExportPanel />
              </>
            )}
          </>
        )}
      </div>
    </section>
  );
}
