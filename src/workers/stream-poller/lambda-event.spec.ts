import type { _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import { toLambdaRecord } from './lambda-event';

const STREAM = {
  arn: 'arn:aws:dynamodb:ddblocal:000000000000:table/User/stream/2026-11-27T02:01:45.189',
  region: 'eu-west-1',
};

describe('toLambdaRecord', () => {
  const sdkRecord: SdkRecord = {
    eventID: '5bddc750-b64b-4b34-9b9b-0cc9adb47482',
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-11-27T02:01:00.000Z'),
      Keys: { username: { S: 'alice' } },
      NewImage: {
        username: { S: 'alice' },
        logins: { N: '0' },
        avatar: { B: Uint8Array.from([104, 105]) },
        keys: { BS: [Uint8Array.from([0xff])] },
        profile: { M: { tags: { L: [{ S: 'a' }, { NULL: true }, { BOOL: false }] } } },
        roles: { SS: ['user'] },
        scores: { NS: ['1', '2'] },
      },
      SequenceNumber: '000000000000000000001',
      SizeBytes: 21,
      StreamViewType: 'NEW_IMAGE',
    },
  };

  it("gives Lambda's event record: epoch seconds, base64 binaries, the stream's ARN and region", () => {
    const record = toLambdaRecord(sdkRecord, STREAM);
    expect(record).toEqual({
      eventID: '5bddc750-b64b-4b34-9b9b-0cc9adb47482',
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-11-27T02:01:00.000Z') / 1000,
        Keys: { username: { S: 'alice' } },
        NewImage: {
          username: { S: 'alice' },
          logins: { N: '0' },
          avatar: { B: 'aGk=' },
          keys: { BS: ['/w=='] },
          profile: { M: { tags: { L: [{ S: 'a' }, { NULL: true }, { BOOL: false }] } } },
          roles: { SS: ['user'] },
          scores: { NS: ['1', '2'] },
        },
        SequenceNumber: '000000000000000000001',
        SizeBytes: 21,
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: STREAM.arn,
    });
    // Survives JSON as it is: what a deployed handler receives is the same object.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    expect(Object.keys(record)).toEqual([
      'eventID',
      'eventName',
      'eventVersion',
      'eventSource',
      'awsRegion',
      'dynamodb',
      'eventSourceARN',
    ]);
  });
});
