/**
 * Retry delays in seconds. The default is Oban's (and the seed's) `attempt^4 + 6 +
 * attempt * rand(0..15)`: a few seconds first, minutes by attempt 4, with jitter that grows with
 * the attempt so retries of jobs that failed together (e.g. a network blip) spread out.
 * `random` is injected (uniform [0, 1)) so tests can pin the jitter.
 */
export function defaultBackoff(attempt: number, random: () => number): number {
  const a = Math.max(1, Math.floor(attempt));
  const jitter = Math.floor(random() * 16); // rand(0..15), inclusive like Elixir's Enum.random(0..15)
  return a ** 4 + 6 + a * jitter;
}

/** Exponential backoff used for rate limits: 60, 120, 240, 480 ... seconds. */
export function exponentialBackoff(attempt: number, baseSeconds = 60): number {
  return baseSeconds * 2 ** (Math.max(1, Math.floor(attempt)) - 1);
}

/** A backoff must be a finite, non-negative number of seconds; anything else falls back. */
export function sanitizeBackoff(seconds: unknown, fallback: number): number {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : fallback;
}
