import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointFile } from './checkpoint-file';

describe('CheckpointFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const checkpoint = {
    streamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/User/stream/2026-11-27T02:01:45.189',
    shards: {
      'shardId-00000001795744905261-3c44687b': { done: true as const },
      'shardId-00000001795759305261-0a1b2c3d': { after: '000000000000000000042' },
    },
  };

  it('reads back what it saved, and leaves no temporary file behind', async () => {
    const file = new CheckpointFile(join(dir, 'nested', 'checkpoint.json'));
    await file.save(checkpoint);
    await expect(file.load()).resolves.toEqual({ status: 'loaded', checkpoint });
    expect(await readdir(join(dir, 'nested'))).toEqual(['checkpoint.json']);
  });

  it('reports a missing file as missing', async () => {
    await expect(new CheckpointFile(join(dir, 'none.json')).load()).resolves.toEqual({
      status: 'missing',
    });
  });

  it.each([
    ['truncated JSON', '{"version":1,"streamArn":"arn:'],
    ['another format version', JSON.stringify({ ...checkpoint, version: 2 })],
    [
      'a sequence number that is not one',
      JSON.stringify({ version: 1, ...checkpoint, shards: { s: { after: 'x' } } }),
    ],
    ['no stream ARN', JSON.stringify({ version: 1, shards: {} })],
  ])('sets %s aside as unreadable', async (_, text) => {
    const path = join(dir, 'checkpoint.json');
    await writeFile(path, text);
    const result = await new CheckpointFile(path).load();
    expect(result).toMatchObject({ status: 'unreadable', movedTo: expect.stringContaining(path) });
    const movedTo = (result as { movedTo: string }).movedTo;
    await expect(readFile(movedTo, 'utf8')).resolves.toBe(text);
    expect(await readdir(dir)).not.toContain('checkpoint.json');
  });
});
