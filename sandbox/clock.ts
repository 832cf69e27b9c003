/**
 * Sandbox time. Runs `speed` times faster than the wall clock and can be pushed forward, so a
 * 30-minute instance refresh finishes in seconds. State machines read it lazily on every call
 * instead of running timers, which keeps them deterministic for a given sequence of reads.
 */
export class Clock {
  private readonly realStart = Date.now();
  private readonly virtualStart: number;
  private offsetMs = 0;

  constructor(
    private speed = 1,
    start: Date = new Date(),
  ) {
    this.virtualStart = start.getTime();
  }

  nowMs(): number {
    return this.virtualStart + (Date.now() - this.realStart) * this.speed + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Changes the speed from now on without making time jump. */
  setSpeed(speed: number): void {
    const current = this.nowMs();
    this.speed = speed;
    this.offsetMs += current - this.nowMs();
  }

  getSpeed(): number {
    return this.speed;
  }
}
