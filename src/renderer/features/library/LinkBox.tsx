import { useState, type FormEvent } from 'react';
import { useActions } from '../../actions/context';

/** Paste Spotify/YouTube links (one per line); rejected links are listed under the box. */
export function LinkBox() {
  const actions = useActions();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true);
    try {
      const rejected = await actions.addLinks(text);
      setErrors(rejected);
      if (rejected.length === 0) setText('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="link-box" onSubmit={submit}>
      <label htmlFor="links" className="visually-hidden">
        Spotify or YouTube links
      </label>
      <input
        id="links"
        type="text"
        placeholder="Paste Spotify or YouTube links…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (errors.length) setErrors([]);
        }}
        aria-invalid={errors.length > 0}
        aria-describedby={errors.length ? 'link-errors' : undefined}
        spellCheck={false}
        autoComplete="off"
      />
      <button type="submit" className="button" disabled={busy || !text.trim()}>
        {busy ? 'Adding…' : 'Add links'}
      </button>
      {errors.length > 0 && (
        <ul id="link-errors" className="inline-errors" role="alert">
          {errors.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      )}
    </form>
  );
}
