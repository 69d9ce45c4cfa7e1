import { useState } from 'react';
import { useActions } from '../../actions/context';
import { useSettingsStore } from '../../stores';

const KEY = /^[A-Za-z0-9]{16,64}$/;

/**
 * The user's own Spotify app for downloads: spotdl's shared one is often rate-limited for a whole
 * day. The secret is sent once and never shown again (the engine keeps it in the OS credential
 * store in the desktop app, settings only say whether one is stored).
 */
export function SpotifyApp() {
  const actions = useActions();
  const spotify = useSettingsStore((s) => s.settings?.spotify);
  const [clientId, setClientId] = useState(spotify?.clientId ?? '');
  const [secret, setSecret] = useState('');
  const [saved, setSaved] = useState(false);
  const idOk = KEY.test(clientId.trim());
  const secretOk = secret === '' ? !!spotify?.clientSecretStored && clientId.trim() === spotify.clientId : KEY.test(secret.trim());
  const save = async () => {
    const ok = await actions.saveSettings({ spotify: { clientId: clientId.trim(), ...(secret ? { clientSecret: secret.trim() } : {}) } });
    if (ok) setSecret('');
    setSaved(ok);
  };
  const remove = async () => {
    if (await actions.saveSettings({ spotify: { clientId: null } })) {
      setClientId('');
      setSecret('');
      setSaved(false);
    }
  };
  const where = spotify?.secretStore === 'os' ? "your system's credential store" : 'a file in the library folder only you can read';
  return (
    <div className="panel">
      <h2>Spotify app</h2>
      <p className="muted small">
        Spotify downloads use spotdl&apos;s shared Spotify app, which is often rate-limited for a whole day. With your own app (developer.spotify.com → Create app) they use your own limit.
      </p>
      <p className="small" role="status">
        {spotify?.clientId ? `Using your app ${spotify.clientId}; secret ${spotify.clientSecretStored ? `stored in ${where}` : 'missing'}.` : "Using spotdl's shared app."}
      </p>
      <form className="settings-form" onSubmit={(e) => (e.preventDefault(), void save())}>
        <label>
          <span>Client ID</span>
          <input type="text" className="mono" aria-label="Spotify client ID" value={clientId} onChange={(e) => (setSaved(false), setClientId(e.target.value))} />
        </label>
        <label>
          <span>Client secret {spotify?.clientSecretStored ? '(stored; type a new one to replace it)' : ''}</span>
          <input type="password" className="mono" aria-label="Spotify client secret" autoComplete="off" value={secret} onChange={(e) => (setSaved(false), setSecret(e.target.value))} />
        </label>
        <div className="toolbar">
          {saved && <span className="ok-text small">Saved</span>}
          <button type="submit" className="button" disabled={!idOk || !secretOk}>
            Save Spotify app
          </button>
          {spotify?.clientId && (
            <button type="button" className="button" onClick={() => void remove()}>
              Remove
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
