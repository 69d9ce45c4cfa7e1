import { useEffect, useState } from 'react';
import type { SetupStatus } from '../../../shared/contract';
import { useActions } from '../../actions/context';
import { useSettingsStore, useSystemStore } from '../../stores';
import { useSetupStore } from '../../stores/setup';
import { SetupError } from './SetupError';

const STATE_LABEL: Record<SetupStatus['steps'][number]['state'], string> = { done: 'done', pending: 'to do', running: 'running', failed: 'failed' };
const mb = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} GB` : `${Math.round(n)} MB`);

/**
 * The first-run setup: shown over the app while the Python engine environment is not ready.
 * What will be downloaded (and how big), each step's progress, resume after a failure or an
 * interruption (completed steps are kept), an offline install from a folder, the error with next steps.
 * The optional cluster support (Ray) is one box to tick here, installed in the background once the
 * engine is ready; when the setup ends the app opens at once, with no dialog to click through.
 */
export function SetupScreen() {
  const actions = useActions();
  const { status, progress, requestError, dismissed, clusterWanted } = useSetupStore();
  const canPassPaths = useSystemStore((s) => s.info?.canPassPaths ?? false);
  const models = useSettingsStore((s) => s.models);
  const [offlineDir, setOfflineDir] = useState('');
  const [offlineOpen, setOfflineOpen] = useState(false);
  const visible = !!status && status.state !== 'ready' && !dismissed;
  useEffect(() => {
    // the default model is offered here: the model store's list (models.list)
    if (visible && useSettingsStore.getState().models === null) void actions.loadModels();
  }, [visible, actions]);
  if (!status || dismissed) return null;
  if (status.state === 'ready') return null;
  const running = status.state === 'running';
  const total = status.downloads.reduce((sum, d) => sum + d.sizeMb, 0);
  const started = status.steps.some((s) => s.state === 'done');
  const defaultModel = models?.find((m) => m.name === 'htdemucs' && m.source === 'catalogue');
  return (
    <div className="setup-screen" role="dialog" aria-modal="true" aria-labelledby="setup-heading">
      <div className="setup-card">
        <h1 id="setup-heading">Set up the separation engine</h1>
        <p>
          Sound Forge Alchemy separates and analyses audio with a Python engine (PyTorch, Demucs, librosa). It is installed once into{' '}
          <code>{status.envDir}</code> for this computer ({status.lock}, accelerator: {status.accelerator}).
        </p>
        {!running && status.downloads.length > 0 && (
          <section aria-label="Downloads">
            <h2>What will be downloaded</h2>
            <ul className="setup-downloads">
              {status.downloads.map((d) => (
                <li key={d.name}>
                  {d.name}: about {mb(d.sizeMb)}
                </li>
              ))}
            </ul>
            <p className="muted">About {mb(total)} in total. The DSP separator (<code>dsp</code>) works right away, without it.</p>
          </section>
        )}
        <ol className="setup-steps" aria-label="Setup steps">
          {status.steps.map((step) => {
            const current = running && progress?.step === step.name;
            return (
              <li key={step.name} className={`setup-step setup-step-${current ? 'running' : step.state}`} data-step={step.name}>
                <span className="setup-step-title">{step.title}</span>
                <span className="setup-step-state">{current ? `${Math.round((progress?.fraction ?? 0) * 100)}%` : STATE_LABEL[step.state]}</span>
                {current && <progress max={1} value={progress?.fraction ?? 0} aria-label={`${step.title} progress`} />}
                {current && progress?.message && <span className="setup-step-message">{progress.message}</span>}
              </li>
            );
          })}
        </ol>
        {running && progress && (
          <p role="status">
            Overall {Math.round(progress.overall * 100)}%{progress.bytes ? ` — ${(progress.bytes / 1e6).toFixed(1)} MB downloaded` : ''}
          </p>
        )}
        {status.error && !running && (
          <SetupError title={<>Setup stopped at “{status.steps.find((s) => s.name === status.error!.step)?.title ?? status.error.step}”:</>} error={status.error} />
        )}
        {requestError && <p role="alert">{requestError}</p>}
        <div className="setup-actions">
          <button type="button" className="button primary" disabled={running} onClick={() => void actions.setup.start()}>
            {running ? 'Installing…' : status.error ? 'Retry' : started ? 'Resume setup' : 'Download and install'}
          </button>
          {canPassPaths && (
            <button type="button" className="button" disabled={running} onClick={() => setOfflineOpen((o) => !o)}>
              Offline install…
            </button>
          )}
          <button type="button" className="button" disabled={running} onClick={() => actions.setup.dismiss()}>
            Later
          </button>
        </div>
        {offlineOpen && canPassPaths && (
          <form
            className="setup-offline"
            onSubmit={(e) => {
              e.preventDefault();
              if (offlineDir.trim()) void actions.setup.start(offlineDir.trim());
            }}
          >
            <label>
              Folder with <code>wheels/</code> (and optionally <code>models/</code>)
              <input value={offlineDir} onChange={(e) => setOfflineDir(e.target.value)} placeholder="/media/usb/sfa-offline" />
            </label>
            <button type="submit" className="button" disabled={running || !offlineDir.trim()}>
              Install from folder
            </button>
          </form>
        )}
        {status.cluster.state !== 'ready' && (
          <label className="small setup-cluster-option">
            <input type="checkbox" checked={clusterWanted} onChange={(e) => actions.setup.wantCluster(e.target.checked)} />
            Also install cluster support (Ray, about {mb(status.cluster.sizeMb)}) once the engine is ready — optional, only for processing a large
            catalogue on a Ray cluster of your own; Settings → Cluster installs it later too.
          </label>
        )}
        {defaultModel && !defaultModel.installed && (
          <p className="muted">
            The default separation model {defaultModel.name}
            {defaultModel.sizeMb ? ` (about ${mb(defaultModel.sizeMb)})` : ''} can be downloaded now or later in Settings.{' '}
            <button type="button" className="button link" onClick={() => void actions.downloadModel(defaultModel.name)}>
              Download {defaultModel.name}
            </button>
          </p>
        )}
      </div>
    </div>
  );
}
