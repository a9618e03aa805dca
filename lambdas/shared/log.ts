/**
 * One JSON line per event on stdout, which Lambda sends to CloudWatch Logs (and local mode
 * to the terminal). Handlers take a LogSink so tests can read what they log.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export type LogSink = (entry: LogEntry) => void;

export const stdoutLog: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

/** What a log line says of a caught error: its name and message, never its cause chain. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (typeof error === 'object' && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return {
      errorName: typeof name === 'string' ? name : 'Error',
      errorMessage: typeof message === 'string' ? message : String(error),
    };
  }
  return { errorName: typeof error, errorMessage: String(error) };
}
