import { useRef } from 'react';
import { useActions } from '../../actions/context';

export function AddFilesButton() {
  const actions = useActions();
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className="button primary" onClick={() => input.current?.click()}>
        Add files
      </button>
      <input
        ref={input}
        type="file"
        multiple
        accept="audio/*,.wav,.flac,.mp3,.aif,.aiff,.ogg,.opus,.m4a"
        hidden
        data-testid="file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) void actions.addFiles({ files, entries: [] });
        }}
      />
    </>
  );
}
