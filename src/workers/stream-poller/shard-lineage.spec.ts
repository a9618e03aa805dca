/**
 * What DynamoDB Local does only after hours (shards roll over after 4 h, iterators expire
 * after 15 min, records are trimmed after 24 h), played by a scripted Streams API.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../../../lambdas/stream-settings';
import { StreamPoller } from './stream-poller';

const STREAM_ARN =
  'arn:aws:dynamodb:ddblocal:000000000000:table/User/stream/2026-11-27T00:00:00.000';
const seq = (n: number) => String(n).padStart(21, '0');

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  readonly records: SdkRecord[];
  closed: boolean;
}

class ScriptedStream {
  readonly shards: FakeShard[] = [];
  readonly iteratorRequests: string[] = [];
  failNextRead?: 'ExpiredIteratorException' | 'TrimmedDataAccessException';

  addShard(id: string, parent?: string): FakeShard {
    const shard = { id, parent, records: [], closed: false };
    this.shards.unshift(shard); // newest first: the poller must not rely on the listing order
    return shard;
  }

  insert(shard: FakeShard, n: number): void {
    shard.records.push({
      eventID: `e${n}`,
      eventName: 'INSERT',
      dynamodb: {
        ApproximateCreationDateTime: new Date(),
        Keys: { username: { S: `u${n}` } },
        NewImage: { username: { S: `u${n}` }, passwordHash: { S: '$argon2id$stand-in' } },
        SequenceNumber: seq(n),
        SizeBytes: 10,
        StreamViewType: 'NEW_IMAGE',
      },
    });
  }

  private shard(id: string): FakeShard {
    return this.shards.find((shard) => shard.id === id)!;
  }

  send(command: unknown): Promise<unknown> {
    if (command instanceof DescribeStreamCommand) {
      return Promise.resolve({
        StreamDescription: {
          StreamArn: STREAM_ARN,
          Shards: this.shards.map((shard) => ({
            ShardId: shard.id,
            ParentShardId: shard.parent,
            SequenceNumberRange: {
              StartingSequenceNumber: shard.records[0]?.dynamodb?.SequenceNumber ?? seq(0),
              EndingSequenceNumber: shard.closed
                ? shard.records.at(-1)?.dynamodb?.SequenceNumber
                : undefined,
            },
          })),
        },
      });
    }
    if (command instanceof GetShardIteratorCommand) {
      const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
      this.iteratorRequests.push(`${ShardId} ${ShardIteratorType}`);
      const shard = this.shard(ShardId!);
      const position =
        ShardIteratorType === 'AFTER_SEQUENCE_NUMBER'
          ? shard.records.findIndex((r) => r.dynamodb?.SequenceNumber === SequenceNumber) + 1
          : 0;
      return Promise.resolve({ ShardIterator: `${shard.id}|${position}` });
    }
    if (command instanceof GetRecordsCommand) {
      const failure = this.failNextRead;
      if (failure) {
        this.failNextRead = undefined;
        return Promise.reject(Object.assign(new Error(failure), { name: failure }));
      }
      const [id, from] = command.input.ShardIterator!.split('|');
      const shard = this.shard(id);
      const records = shard.records.slice(Number(from));
      const end = Number(from) + records.length;
      return Promise.resolve({
        Records: records,
        NextShardIterator: shard.closed ? undefined : `${id}|${end}`,
      });
    }
    return Promise.reject(new Error(`unexpected command ${String(command)}`));
  }
}

describe('StreamPoller over shard rollover, expired iterators and trimmed records', () => {
  let dir: string;
  const pollers: StreamPoller[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shard-lineage-'));
  });
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  function start(stream: ScriptedStream, delivered: string[][]) {
    const table = { LatestStreamArn: STREAM_ARN, StreamSpecification: { StreamEnabled: true } };
    return StreamPoller.start({
      dynamodb: { send: () => Promise.resolve({ Table: table }) } as unknown as DynamoDBClient,
      streams: stream as unknown as DynamoDBStreamsClient,
      tableName: 'User',
      region: 'us-east-1',
      settings: USER_TABLE_TRIGGER_STREAM_SETTINGS,
      handler: (event: DynamoDBStreamEvent) => {
        delivered.push(event.Records.map((r) => r.dynamodb!.NewImage!.username.S!));
        return Promise.resolve();
      },
      checkpointFile: join(dir, 'checkpoint.json'),
      pollIntervalMs: 10,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    }).then((poller) => {
      pollers.push(poller);
      return poller;
    });
  }

  it('reads a parent shard before its child and follows a rollover, once per record', async () => {
    const stream = new ScriptedStream();
    const parent = stream.addShard('shardId-parent');
    const child = stream.addShard('shardId-child', parent.id);
    [1, 2, 3].forEach((n) => stream.insert(parent, n));
    parent.closed = true;
    [4, 5].forEach((n) => stream.insert(child, n));
    const delivered: string[][] = [];
    const poller = await start(stream, delivered);
    await poller.drained();
    expect(delivered).toEqual([
      ['u1', 'u2', 'u3'],
      ['u4', 'u5'],
    ]);

    stream.failNextRead = 'ExpiredIteratorException';
    stream.insert(child, 6);
    await poller.drained();
    stream.failNextRead = 'TrimmedDataAccessException';
    stream.insert(child, 7);
    await poller.drained();
    // The child rolls over in turn.
    child.closed = true;
    const grandchild = stream.addShard('shardId-grandchild', child.id);
    stream.insert(grandchild, 8);
    await poller.drained();
    expect(delivered.flat()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']);

    await poller.stop();
    const saved = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as unknown;
    expect(saved).toEqual({
      version: 1,
      streamArn: STREAM_ARN,
      shards: {
        'shardId-parent': { done: true },
        'shardId-child': { done: true },
        'shardId-grandchild': { after: seq(8) },
      },
    });

    // A restart reads neither finished shard again and resumes the open one.
    stream.iteratorRequests.length = 0;
    stream.insert(grandchild, 9);
    const afterRestart: string[][] = [];
    const restarted = await start(stream, afterRestart);
    await restarted.drained();
    expect(afterRestart).toEqual([['u9']]);
    expect(stream.iteratorRequests).toEqual(['shardId-grandchild AFTER_SEQUENCE_NUMBER']);
  });
});
