import { useState } from 'react';
import { useSettingsStore } from '../../stores';

const KEY = 'sfa:first-run-dismissed';

/** Says once what the app downloads and when (models on first use), until dismissed. */
export function FirstRunNote() {
  const [dismissed, setDismissed] = useState(() => {
    try {
      return localStorage.getItem(KEY) === '1';
    } catch {
      return false;
    }
  });
  const model = useSettingsStore((s) => s.settings?.defaultModel);
  if (dismissed) return null;
  return (
    <div className="first-run" role="note" aria-label="First run">
      <div>
        <strong>Welcome.</strong> Everything runs on this machine. Separation models are downloaded the first time a separation uses them
        {model ? (model === 'dsp' ? ' (the default, dsp, is built in: nothing to download)' : ` (the default, ${model}, is about 80–300 MB)`) : ''}; manage them in{' '}
        <em>Settings</em>. Analysis needs no download. Links are downloaded with yt-dlp when you add them.
      </div>
      <button
        type="button"
        className="button ghost small-button"
        onClick={() => {
          setDismissed(true);
          try {
            localStorage.setItem(KEY, '1');
          } catch {
            // private mode: shown again next time
          }
        }}
      >
        Got it
      </button>
    </div>
  );
}
