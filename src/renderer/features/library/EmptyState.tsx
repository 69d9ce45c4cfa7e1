export function EmptyState({ canPassPaths }: { canPassPaths: boolean }) {
  return (
    <div className="empty-state">
      <div className="empty-icon" aria-hidden="true">♫</div>
      <h2>Your library is empty</h2>
      <p>
        Drop audio files or whole folders anywhere on this window, use <strong>Add files</strong>, or paste Spotify and
        YouTube links in the box above.
      </p>
      <p className="muted small">
        WAV, FLAC, MP3, AIFF, OGG, Opus and M4A are supported.
        {canPassPaths ? ' Files stay where they are; the library references them.' : ' Files are uploaded to the machine running sfa serve.'}
      </p>
    </div>
  );
}
