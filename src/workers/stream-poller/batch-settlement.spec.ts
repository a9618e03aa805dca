import type { DynamoDBRecord } from 'aws-lambda';
import {
  type Discarded,
  type InvokeOutcome,
  interpretResponse,
  retryDelayMs,
  settleBatch,
} from './batch-settlement';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function record(n: number, createdAt = NOW): DynamoDBRecord {
  return {
    eventID: `event-${n}`,
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: String(n).padStart(21, '0'),
      ApproximateCreationDateTime: createdAt / 1000,
    },
  };
}

const numbers = (records: readonly DynamoDBRecord[]) =>
  records.map((r) => Number(r.dynamodb!.SequenceNumber));

/** Fake ports: the handler decides per batch; everything else is recorded. */
function harness(decide: (batch: number[], call: number) => InvokeOutcome, stopAfterPauses = -1) {
  const calls: number[][] = [];
  const checkpoints: number[] = [];
  const discarded: (Omit<Discarded, 'records'> & { records: number[] })[] = [];
  const pauses: number[] = [];
  return {
    calls,
    checkpoints,
    discarded,
    pauses,
    ports: {
      invoke: (records: readonly DynamoDBRecord[]) => {
        const batch = numbers(records);
        calls.push(batch);
        return Promise.resolve(decide(batch, calls.length));
      },
      checkpoint: (sequenceNumber: string) => {
        checkpoints.push(Number(sequenceNumber));
        return Promise.resolve();
      },
      discard: (d: Discarded) => {
        discarded.push({ ...d, records: numbers(d.records) });
        return Promise.resolve();
      },
      pause: (ms: number) => {
        pauses.push(ms);
        return Promise.resolve(pauses.length !== stopAfterPauses);
      },
      now: () => NOW,
    },
  };
}

const settings = {
  bisectBatchOnFunctionError: false,
  retryAttempts: 2,
  maximumRecordAgeSeconds: 3600,
};
const batchOf = (...ns: number[]) => ns.map((n) => record(n));
const failing = (error = new Error('boom')): InvokeOutcome => ({ kind: 'error', error });
const ok: InvokeOutcome = { kind: 'success' };

describe('interpretResponse (Lambda partial batch response rules)', () => {
  const records = batchOf(1, 2, 3);
  const id = (n: number) => String(n).padStart(21, '0');

  it.each([undefined, null, {}, { batchItemFailures: [] }, { batchItemFailures: null }, 'text'])(
    'treats %p as a complete success',
    (response) => {
      expect(interpretResponse(response, records, true)).toEqual({ kind: 'success' });
    },
  );

  it('retries from the lowest failed record, whatever the order of the list', () => {
    const response = { batchItemFailures: [{ itemIdentifier: id(3) }, { itemIdentifier: id(2) }] };
    expect(interpretResponse(response, records, true)).toEqual({
      kind: 'partial',
      firstFailedIndex: 1,
    });
  });

  it.each([
    [{ batchItemFailures: [{ itemIdentifier: '' }] }],
    [{ batchItemFailures: [{ itemIdentifier: null }] }],
    [{ batchItemFailures: [{ itemIdentifer: id(2) }] }],
    [{ batchItemFailures: [{ itemIdentifier: id(9) }] }],
    [{ batchItemFailures: [id(2)] }],
    [{ batchItemFailures: 'all of them' }],
  ])('treats %j as a failure of the whole batch', (response) => {
    expect(interpretResponse(response, records, true).kind).toBe('invalid-response');
  });

  it('ignores the answer when reportBatchItemFailures is off', () => {
    const response = { batchItemFailures: [{ itemIdentifier: id(2) }] };
    expect(interpretResponse(response, records, false)).toEqual({ kind: 'success' });
  });
});

describe('settleBatch', () => {
  it('checkpoints the last record of a successful batch', async () => {
    const h = harness(() => ok);
    await expect(settleBatch(batchOf(1, 2, 3), settings, h.ports)).resolves.toBe(true);
    expect(h.calls).toEqual([[1, 2, 3]]);
    expect(h.checkpoints).toEqual([3]);
  });

  it('after a partial failure checkpoints before the lowest failed record and retries from it', async () => {
    const h = harness((_, call) => (call === 1 ? { kind: 'partial', firstFailedIndex: 1 } : ok));
    await settleBatch(batchOf(1, 2, 3, 4), settings, h.ports);
    expect(h.calls).toEqual([
      [1, 2, 3, 4],
      [2, 3, 4],
    ]);
    expect(h.checkpoints).toEqual([1, 4]);
    expect(h.discarded).toEqual([]);
  });

  it('retries a batch whose answer is unusable as a whole', async () => {
    const h = harness((_, call) =>
      call === 1 ? { kind: 'invalid-response', reason: 'unknown itemIdentifier' } : ok,
    );
    await settleBatch(batchOf(1, 2, 3), settings, h.ports);
    expect(h.calls).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(h.checkpoints).toEqual([3]);
  });

  it('without bisection gives the whole batch up after the retry attempts', async () => {
    const h = harness(() => failing());
    await settleBatch(batchOf(1, 2, 3), settings, h.ports);
    expect(h.calls).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(h.discarded).toEqual([
      expect.objectContaining({
        records: [1, 2, 3],
        condition: 'RetryAttemptsExhausted',
        invokeCount: 3,
      }),
    ]);
    expect(h.checkpoints).toEqual([3]);
    expect(h.pauses).toEqual([retryDelayMs(1), retryDelayMs(2)]);
  });

  it('counts partial failures as retries, as Lambda does ([1,2,3] fails at 2, then [2,3] at 2)', async () => {
    const h = harness((batch) => ({ kind: 'partial', firstFailedIndex: batch.indexOf(2) }));
    await settleBatch(batchOf(1, 2, 3), { ...settings, retryAttempts: 1 }, h.ports);
    expect(h.calls).toEqual([
      [1, 2, 3],
      [2, 3],
    ]);
    expect(h.discarded.map((d) => d.records)).toEqual([[2, 3]]);
    expect(h.checkpoints).toEqual([1, 3]);
  });

  it('with bisection isolates a poison record; the split itself is no retry', async () => {
    const h = harness((batch) => (batch.includes(4) ? failing() : ok));
    const bisecting = { ...settings, bisectBatchOnFunctionError: true, retryAttempts: 1 };
    await settleBatch(batchOf(1, 2, 3, 4, 5, 6), bisecting, h.ports);
    expect(h.calls).toEqual([[1, 2, 3, 4, 5, 6], [1, 2, 3], [4, 5, 6], [4, 5], [4], [4], [5], [6]]);
    expect(h.discarded).toEqual([
      expect.objectContaining({
        records: [4],
        condition: 'RetryAttemptsExhausted',
        invokeCount: 2,
      }),
    ]);
    expect(h.checkpoints).toEqual([3, 4, 5, 6]);
  });

  it('with bisection splits a batch whose first record is reported failed', async () => {
    const h = harness((batch) =>
      batch.includes(2) ? { kind: 'partial', firstFailedIndex: batch.indexOf(2) } : ok,
    );
    const bisecting = { ...settings, bisectBatchOnFunctionError: true, retryAttempts: 0 };
    await settleBatch(batchOf(1, 2, 3), bisecting, h.ports);
    expect(h.calls).toEqual([[1, 2, 3], [2, 3], [2], [3]]);
    expect(h.discarded.map((d) => d.records)).toEqual([[2]]);
  });

  it('discards records older than the maximum record age without invoking', async () => {
    const h = harness(() => ok);
    const old = NOW - 2 * 3600 * 1000;
    await settleBatch([record(1, old), record(2, old), record(3)], settings, h.ports);
    expect(h.discarded).toEqual([
      expect.objectContaining({ records: [1, 2], condition: 'RecordAgeExceeded', invokeCount: 0 }),
    ]);
    expect(h.calls).toEqual([[3]]);
    expect(h.checkpoints).toEqual([2, 3]);
  });

  it('retries forever with retryAttempts -1 (until the poller stops)', async () => {
    const h = harness(() => failing(), 20);
    const forever = { ...settings, retryAttempts: -1 };
    await expect(settleBatch(batchOf(1, 2), forever, h.ports)).resolves.toBe(false);
    expect(h.calls).toHaveLength(20);
    expect(h.discarded).toEqual([]);
    expect(h.checkpoints).toEqual([]);
    expect(Math.max(...h.pauses)).toBe(1_000);
  });
});
