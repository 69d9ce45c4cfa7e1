/**
 * Per-job progress throttling. Workers may report progress thousands of times a second (Demucs
 * prints per chunk); the UI needs ~10 updates a second and the row needs only an occasional
 * snapshot for reconnecting clients. Leading edge goes out at once, the latest value within an
 * interval goes out at its end (trailing), and 100% always goes out immediately.
 */
export class Throttle<T> {
  private last = Number.NEGATIVE_INFINITY;
  private pending: T | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly deliver: (value: T) => void,
  ) {}

  push(value: T, force = false): void {
    const now = this.now();
    if (force || now - this.last >= this.intervalMs) {
      this.cancel();
      this.last = now;
      this.deliver(value);
      return;
    }
    this.pending = value;
    if (!this.timer) {
      const wait = Math.max(1, this.intervalMs - (now - this.last));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const v = this.pending;
        this.pending = undefined;
        if (v !== undefined) {
          this.last = this.now();
          this.deliver(v);
        }
      }, wait);
    }
  }

  /** Drop anything pending (the job ended; its final state supersedes it). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
