/**
 * Where the local poller remembers how far it got, as Lambda's event source mapping does on
 * AWS: per stream ARN and shard, the last sequence number that is done, and which shards
 * are done for good. A restart resumes right after it, so it neither skips nor replays.
 *
 * Written whole to a temporary file and renamed over the old one, so a crash mid-write
 * leaves the previous checkpoint, never half of one. A file that cannot be read as a
 * checkpoint is moved aside (kept for a look) and the poller starts over from its starting
 * position: delivery is at least once, as on AWS, never at most once.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const FORMAT_VERSION = 1;

export interface ShardCheckpoint {
  /** The last record of the shard that is done; reading resumes after it. */
  readonly after?: string;
  /** The shard is closed and every record of it is done: never read again. */
  readonly done?: true;
}

export interface Checkpoint {
  readonly streamArn: string;
  readonly shards: Readonly<Record<string, ShardCheckpoint>>;
}

export type CheckpointLoad =
  | { readonly status: 'loaded'; readonly checkpoint: Checkpoint }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly reason: string; readonly movedTo?: string };

const SEQUENCE_NUMBER = /^\d{1,40}$/;

function isShardCheckpoint(value: unknown): value is ShardCheckpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { after, done, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    (after === undefined || (typeof after === 'string' && SEQUENCE_NUMBER.test(after))) &&
    (done === undefined || done === true)
  );
}

function parseCheckpoint(text: string): Checkpoint | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'not an object';
  const { version, streamArn, shards } = parsed as Record<string, unknown>;
  if (version !== FORMAT_VERSION) return `unknown version ${JSON.stringify(version)}`;
  if (typeof streamArn !== 'string' || streamArn === '') return 'no streamArn';
  if (typeof shards !== 'object' || shards === null || Array.isArray(shards)) return 'no shards';
  for (const [shardId, shard] of Object.entries(shards)) {
    if (!isShardCheckpoint(shard)) return `shard ${shardId} is malformed`;
  }
  return { streamArn, shards: shards as Record<string, ShardCheckpoint> };
}

export class CheckpointFile {
  constructor(readonly path: string) {}

  async load(): Promise<CheckpointLoad> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      return { status: 'unreadable', reason: (error as Error).message };
    }
    const checkpoint = parseCheckpoint(text);
    if (typeof checkpoint !== 'string') return { status: 'loaded', checkpoint };
    const movedTo = `${this.path}.unreadable-${Date.now()}`;
    try {
      await rename(this.path, movedTo);
      return { status: 'unreadable', reason: checkpoint, movedTo };
    } catch {
      return { status: 'unreadable', reason: checkpoint };
    }
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const text = `${JSON.stringify({ version: FORMAT_VERSION, ...checkpoint }, null, 2)}\n`;
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    try {
      await writeFile(temporary, text, { encoding: 'utf8', flush: true });
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
