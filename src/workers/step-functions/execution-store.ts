/**
 * Keeps executions on disk so that a restarted local stack still shows their history and
 * can re-run the ones that were RUNNING when the process died.
 *
 * One JSON file per execution (`executions/<state machine>/<execution>.json`): a change
 * rewrites only that execution. Writes are debounced (history events come in bursts) and
 * atomic (temporary file, then rename), so a crash leaves either the old or the new file.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRecord } from './execution-record';

const WRITE_DELAY_MS = 100;

export interface StoreLogger {
  warn(obj: object, msg?: string): void;
}

function looksLikeRecord(value: unknown): value is ExecutionRecord {
  const record = value as Partial<ExecutionRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.executionArn === 'string' &&
    typeof record.stateMachineName === 'string' &&
    typeof record.name === 'string' &&
    typeof record.status === 'string' &&
    typeof record.input === 'string' &&
    typeof record.startDate === 'number' &&
    Array.isArray(record.events)
  );
}

export class ExecutionStore {
  private readonly root: string;
  private readonly dirty = new Map<string, ExecutionRecord>();
  private readonly removed = new Map<string, ExecutionRecord>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly logger: StoreLogger,
  ) {
    this.root = join(dataDir, 'executions');
  }

  /** Every execution on disk, oldest first; unreadable files are reported and skipped. */
  async load(): Promise<ExecutionRecord[]> {
    await mkdir(this.root, { recursive: true });
    const records: ExecutionRecord[] = [];
    for (const machine of await readdir(this.root, { withFileTypes: true })) {
      if (!machine.isDirectory()) continue;
      const dir = join(this.root, machine.name);
      for (const file of await readdir(dir)) {
        const path = join(dir, file);
        if (file.endsWith('.tmp')) {
          await rm(path, { force: true }); // a write the last process did not finish
          continue;
        }
        if (!file.endsWith('.json')) continue;
        try {
          const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
          if (looksLikeRecord(parsed)) records.push(parsed);
          else
            this.logger.warn({ path }, 'local Step Functions: skipped a malformed execution file');
        } catch (error) {
          this.logger.warn(
            { path, err: error },
            'local Step Functions: skipped an unreadable execution file',
          );
        }
      }
    }
    return records.sort((a, b) => a.startDate - b.startDate);
  }

  /** Writes the record soon. */
  changed(record: ExecutionRecord): void {
    this.removed.delete(record.executionArn);
    this.dirty.set(record.executionArn, record);
    this.schedule();
  }

  /** Deletes the record's file soon (retention). */
  forget(record: ExecutionRecord): void {
    this.dirty.delete(record.executionArn);
    this.removed.set(record.executionArn, record);
    this.schedule();
  }

  /** Writes everything pending now; resolves when it is on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const writes = [...this.dirty.values()].map((record) => ({
      record,
      json: JSON.stringify(record), // snapshot now: the record keeps changing
    }));
    const removals = [...this.removed.values()];
    this.dirty.clear();
    this.removed.clear();
    const batch = this.writing.then(() => this.write(writes, removals));
    this.writing = batch;
    await batch;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), WRITE_DELAY_MS);
    this.timer.unref(); // never keeps the process alive; stop() flushes
  }

  private pathOf(record: ExecutionRecord): string {
    // Both names are limited to A-Za-z0-9-_ and so are safe file names.
    return join(this.root, record.stateMachineName, `${record.name}.json`);
  }

  private async write(
    writes: readonly { record: ExecutionRecord; json: string }[],
    removals: readonly ExecutionRecord[],
  ): Promise<void> {
    for (const { record, json } of writes) {
      const path = this.pathOf(record);
      const temporary = `${path}.${process.pid}.tmp`;
      try {
        await mkdir(join(this.root, record.stateMachineName), { recursive: true });
        await writeFile(temporary, json);
        await rename(temporary, path);
      } catch (error) {
        this.logger.warn({ path, err: error }, 'local Step Functions: could not save an execution');
      }
    }
    for (const record of removals) {
      await rm(this.pathOf(record), { force: true }).catch((error: unknown) =>
        this.logger.warn({ err: error }, 'local Step Functions: could not delete an old execution'),
      );
    }
  }
}
