import type { ReactNode } from 'react';

/** A failed setup or install step: what stopped it, the next steps a user can take, pip's details on demand. */
export function SetupError({ title, error }: { title: ReactNode; error: { message: string; nextSteps: string[]; detail: string } }) {
  return (
    <div className="setup-error" role="alert">
      <strong>{title}</strong> {error.message}
      {error.nextSteps.length > 0 && (
        <ul>
          {error.nextSteps.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {error.detail && (
        <details>
          <summary>Details</summary>
          <pre>{error.detail}</pre>
        </details>
      )}
    </div>
  );
}
