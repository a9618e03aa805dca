import {
  INSERTS_ONLY_PATTERN,
  USER_TABLE_TRIGGER_STREAM_SETTINGS,
} from '../../../lambdas/stream-settings';
import { compileRecordFilter } from './event-filter';

const insert = { eventName: 'INSERT', dynamodb: { NewImage: { status: { S: 'NONE' } } } };
const modify = { eventName: 'MODIFY', dynamodb: { NewImage: { status: { S: 'DONE' } } } };
const remove = { eventName: 'REMOVE', dynamodb: {} };

describe('compileRecordFilter', () => {
  it("lets the user-table trigger's settings pass INSERT records only", () => {
    const filter = compileRecordFilter(USER_TABLE_TRIGGER_STREAM_SETTINGS.filterPatterns);
    expect([insert, modify, remove].map(filter)).toEqual([true, false, false]);
    expect(JSON.parse(INSERTS_ONLY_PATTERN)).toEqual({ eventName: ['INSERT'] });
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
    ['an empty list', JSON.stringify({ eventName: [] })],
    ['a bare value', JSON.stringify({ eventName: 'INSERT' })],
    ['an empty pattern', '{}'],
  ])('refuses %s rather than matching it differently from AWS', (_, pattern) => {
    expect(() => compileRecordFilter([pattern])).toThrow(/pattern/i);
  });
});
