/**
 * What Lambda hands a DynamoDB stream trigger, built from what the Streams API returns, so
 * that the handler run locally sees the very shapes it sees on AWS:
 *
 * - the SDK gives `ApproximateCreationDateTime` as a Date, Lambda as epoch seconds;
 * - the SDK gives binary attributes as bytes, Lambda's JSON as base64 text;
 * - GetRecords has no `eventSourceARN`, Lambda adds the stream's ARN;
 * - DynamoDB Local stamps `awsRegion: "ddblocal"`, Lambda the stream's region.
 */
import type {
  AttributeValue as SdkAttributeValue,
  _Record as SdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, StreamRecord } from 'aws-lambda';

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function toLambdaAttributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new Error(`Unknown attribute value type: ${Object.keys(value).join(', ')}`);
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]),
  );
}

/** One GetRecords record as the record of a Lambda `DynamoDBStreamEvent`, same key order. */
export function toLambdaRecord(
  record: SdkRecord,
  stream: { readonly arn: string; readonly region: string },
): DynamoDBRecord {
  const source = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {
    ...(source.ApproximateCreationDateTime && {
      ApproximateCreationDateTime: source.ApproximateCreationDateTime.getTime() / 1000,
    }),
    ...(source.Keys && { Keys: toLambdaImage(source.Keys) }),
    ...(source.NewImage && { NewImage: toLambdaImage(source.NewImage) }),
    ...(source.OldImage && { OldImage: toLambdaImage(source.OldImage) }),
    SequenceNumber: source.SequenceNumber,
    SizeBytes: source.SizeBytes,
    StreamViewType: source.StreamViewType,
  };
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: stream.region,
    dynamodb,
    eventSourceARN: stream.arn,
    // Present on TTL deletions only: `{type: "Service", principalId: "dynamodb.amazonaws.com"}`.
    ...(record.userIdentity && { userIdentity: { ...record.userIdentity } }),
  };
}
