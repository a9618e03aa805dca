import { Clock } from '..';

/** A clock for tests: stands still until a test moves it. */
export class FixedClock extends Clock {
  private current: Date;

  constructor(start: Date | string = '2026-01-15T10:00:00.000Z') {
    super();
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(instant: Date | string): void {
    this.current = new Date(instant);
  }

  advanceSeconds(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}
