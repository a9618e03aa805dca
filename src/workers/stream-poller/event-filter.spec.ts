import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../../../lambdas/stream-settings';
import { compileRecordFilter } from './event-filter';

const insert = {
  eventName: 'INSERT',
  dynamodb: { NewImage: { status: { S: 'NONE' }, passwordHash: { S: '$argon2id$…' } } },
};
const modify = { eventName: 'MODIFY', dynamodb: { NewImage: { status: { S: 'DONE' } } } };
const remove = { eventName: 'REMOVE', dynamodb: {} };

describe('compileRecordFilter', () => {
  it("lets the user-table trigger's settings pass INSERTs and the MODIFYs that open a mail request", () => {
    const filter = compileRecordFilter(USER_TABLE_TRIGGER_STREAM_SETTINGS.filterPatterns);
    const image = (attributes: object) => ({
      eventName: 'MODIFY',
      dynamodb: { NewImage: { username: { S: 'ann' }, ...attributes } },
    });
    const requested = image({ mailRequestId: { S: 'r1' } });
    const claimed = image({ mailRequestId: { S: 'r1' }, mailClaimId: { S: 'c1' } });
    const closed = image({ activationStatus: { S: 'MAIL_SENT' } });
    const removedWithRequest = { ...requested, eventName: 'REMOVE' };
    // An item of the Spring app copied into the table: no hash, a plaintext password.
    const legacyInsert = {
      eventName: 'INSERT',
      dynamodb: { NewImage: { username: { S: 'ann' }, password: { S: 'x' } } },
    };

    expect(
      [insert, requested, claimed, closed, modify, remove, removedWithRequest, legacyInsert].map(
        filter,
      ),
    ).toEqual([true, true, false, false, false, false, false, false]);
  });

  it('matches exists rules on leaves: present for true, absent for false', () => {
    const present = compileRecordFilter([
      JSON.stringify({ dynamodb: { NewImage: { status: { S: [{ exists: true }] } } } }),
    ]);
    const absent = compileRecordFilter([
      JSON.stringify({ dynamodb: { NewImage: { status: { S: [{ exists: false }] } } } }),
    ]);
    expect([insert, modify, remove].map(present)).toEqual([true, true, false]);
    expect([insert, modify, remove].map(absent)).toEqual([false, false, true]);
    // An object is not a leaf: `exists` on it does not match, as on AWS.
    const onObject = compileRecordFilter([
      JSON.stringify({ dynamodb: { NewImage: { status: [{ exists: true }] } } }),
    ]);
    expect(onObject(insert)).toBe(false);
  });

  it('matches nested keys against a list of exact values', () => {
    const filter = compileRecordFilter([
      JSON.stringify({ dynamodb: { NewImage: { status: { S: ['NONE', 'MAIL_SENT'] } } } }),
    ]);
    expect([insert, modify, remove].map(filter)).toEqual([true, false, false]);
  });

  it('needs every key of a pattern, and any one of several patterns', () => {
    const both = compileRecordFilter([
      JSON.stringify({
        eventName: ['MODIFY'],
        dynamodb: { NewImage: { status: { S: ['NONE'] } } },
      }),
    ]);
    expect([insert, modify].map(both)).toEqual([false, false]);
    const either = compileRecordFilter([
      JSON.stringify({ eventName: ['REMOVE'] }),
      JSON.stringify({ eventName: ['MODIFY'] }),
    ]);
    expect([insert, modify, remove].map(either)).toEqual([false, true, true]);
  });

  it('lets everything pass without patterns', () => {
    expect(compileRecordFilter([])(remove)).toBe(true);
  });

  it.each([
    ['not JSON', '{eventName: INSERT'],
    ['a content filter', JSON.stringify({ eventName: [{ prefix: 'INS' }] })],
    ['an exists rule that is not a boolean', JSON.stringify({ eventName: [{ exists: 'yes' }] })],
    ['an empty list', JSON.stringify({ eventName: [] })],
    ['a bare value', JSON.stringify({ eventName: 'INSERT' })],
    ['an empty pattern', '{}'],
  ])('refuses %s rather than matching it differently from AWS', (_, pattern) => {
    expect(() => compileRecordFilter([pattern])).toThrow(/pattern/i);
  });
});
