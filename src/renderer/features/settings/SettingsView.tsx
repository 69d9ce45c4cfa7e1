import { useEffect, useState } from 'react';
import type { Settings } from '../../../shared/domain';
import { useActions } from '../../actions/context';
import { useSettingsStore } from '../../stores';
import { ClusterSettings } from './ClusterSettings';
import { SpotifyApp } from './SpotifyApp';

function formatBytes(n: number | null): string {
  if (!n) return '—';
  return n > 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${Math.round(n / 1e6)} MB`;
}

function Models() {
  const actions = useActions();
  const models = useSettingsStore((s) => s.models);
  const dir = useSettingsStore((s) => s.modelsDir);
  const downloads = useSettingsStore((s) => s.downloads);
  useEffect(() => {
    void actions.loadModels();
  }, [actions]);
  return (
    <div className="panel">
      <h2>Models</h2>
      <p className="muted small">Separation models live in <span className="mono">{dir ?? '…'}</span>. Official ones download on first use, or here ahead of time.</p>
      {models === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <table className="models-table" aria-label="Models">
          <thead>
            <tr>
              <th>Model</th>
              <th>Stems</th>
              <th>Quality</th>
              <th>Size</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const d = downloads[m.name];
              return (
                <tr key={m.name} data-model={m.name}>
                  <td className="mono">{m.name}</td>
                  <td>{m.stems?.join(', ') ?? '—'}</td>
                  <td className="muted">{m.quality ?? (m.kind === 'dsp' ? 'quick, built in' : '—')}</td>
                  <td>{m.kind === 'dsp' ? 'built in' : m.installed ? formatBytes(m.bytes) : formatBytes((m.sizeMb ?? 0) * 1e6)}</td>
                  <td>
                    {m.installed ? (
                      <span className="ok-text">installed</span>
                    ) : d ? (
                      <span className="small">downloading {Math.round(d.percent)}%</span>
                    ) : m.source === 'catalogue' ? (
                      <button type="button" className="button small-button" onClick={() => void actions.downloadModel(m.name)}>
                        Download{m.partialBytes ? ' (resume)' : ''}
                      </button>
                    ) : (
                      <span className="muted">not installed</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p className="muted small">To import your own model, use <span className="mono">sfa models import &lt;path&gt;</span>.</p>
    </div>
  );
}

export function SettingsView() {
  const settings = useSettingsStore((s) => s.settings);
  if (!settings) return <p className="muted loading">Loading the settings…</p>;
  return <SettingsForm initial={settings} />;
}

function SettingsForm({ initial }: { initial: Settings }) {
  const actions = useActions();
  const models = useSettingsStore((s) => s.models);
  const [draft, setDraft] = useState<Settings>(initial);
  const [saved, setSaved] = useState(false);
  const change = (patch: Partial<Settings>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const save = async () => {
    const ok = await actions.saveSettings({
      defaultModel: draft.defaultModel,
      device: draft.device,
      format: draft.format,
      autoPipeline: draft.autoPipeline,
      concurrency: draft.concurrency,
      toolPaths: { ffmpeg: draft.toolPaths.ffmpeg?.trim() || null },
      keyNotation: draft.keyNotation,
      energyField: draft.energyField,
      stemCodec: draft.stemCodec,
    });
    setSaved(ok);
  };
  const modelNames = [...new Set([draft.defaultModel, ...(models ?? []).map((m) => m.name)])];
  return (
    <section className="view settings-view" aria-labelledby="settings-heading">
      <header className="view-header">
        <div>
          <h1 id="settings-heading">Settings</h1>
          <p className="muted small">Saved in the library database; applied without a restart except tool paths.</p>
        </div>
        <div className="toolbar">
          {saved && <span className="ok-text small" role="status">Saved</span>}
          <button type="button" className="button primary" onClick={() => void save()}>
            Save settings
          </button>
        </div>
      </header>
      <div className="view-body">
        <form className="panel settings-form" onSubmit={(e) => (e.preventDefault(), void save())}>
          <label>
            <span>Default separation model</span>
            <select aria-label="Default model" value={draft.defaultModel} onChange={(e) => change({ defaultModel: e.target.value })}>
              {modelNames.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>Device</span>
            <select aria-label="Device" value={draft.device} onChange={(e) => change({ device: e.target.value as Settings['device'] })}>
              <option value="auto">auto (GPU when available)</option>
              <option value="cpu">cpu</option>
              <option value="cuda">cuda (NVIDIA)</option>
              <option value="mps">mps (Apple)</option>
            </select>
          </label>
          <label>
            <span>Stem format</span>
            <select aria-label="Output format" value={draft.format} onChange={(e) => change({ format: e.target.value as Settings['format'] })}>
              <option value="wav">WAV</option>
              <option value="flac">FLAC</option>
              <option value="mp3">MP3</option>
            </select>
          </label>
          <label>
            <span>Key in tags (Write tags)</span>
            <select aria-label="Key notation" value={draft.keyNotation} onChange={(e) => change({ keyNotation: e.target.value as Settings['keyNotation'] })}>
              <option value="standard">Standard (Am, F#)</option>
              <option value="camelot">Camelot (8A, 2B)</option>
              <option value="openkey">Open Key (1m, 7d)</option>
            </select>
          </label>
          <label>
            <span>Energy in tags</span>
            <select aria-label="Energy field" value={draft.energyField} onChange={(e) => change({ energyField: e.target.value as Settings['energyField'] })}>
              <option value="comment">Comment (Energy 7 - …)</option>
              <option value="grouping">Grouping</option>
              <option value="none">Not written</option>
            </select>
          </label>
          <label>
            <span>NI Stems audio</span>
            <select aria-label="NI Stems codec" value={draft.stemCodec} onChange={(e) => change({ stemCodec: e.target.value as Settings['stemCodec'] })}>
              <option value="aac">AAC 256 kbps</option>
              <option value="alac">ALAC (lossless)</option>
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={draft.autoPipeline} onChange={(e) => change({ autoPipeline: e.target.checked })} />
            <span>Separate and analyse new tracks automatically</span>
          </label>
          <fieldset>
            <legend>Concurrency per queue</legend>
            {Object.entries(draft.concurrency).map(([q, n]) => (
              <label key={q} className="inline">
                <span>{q}</span>
                <input type="number" min={1} max={16} aria-label={`${q} queue concurrency`} value={n} onChange={(e) => change({ concurrency: { ...draft.concurrency, [q]: Math.max(1, Math.min(16, Number(e.target.value) || 1)) } })} />
              </label>
            ))}
          </fieldset>
          <label>
            <span>ffmpeg (optional; used from the next start)</span>
            <input type="text" className="mono" placeholder="bundled" value={draft.toolPaths.ffmpeg ?? ''} onChange={(e) => change({ toolPaths: { ffmpeg: e.target.value } })} />
          </label>
          <label>
            <span>Library folder</span>
            <input type="text" className="mono" value={draft.libraryFolder} readOnly />
          </label>
        </form>
        <Models />
        <SpotifyApp />
        <ClusterSettings />
      </div>
    </section>
  );
}
