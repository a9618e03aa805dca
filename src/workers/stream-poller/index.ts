/** The local stand-in for Lambda's DynamoDB stream event source mapping. */
export {
  type StreamHandler,
  StreamPoller,
  type StreamPollerLogger,
  type StreamPollerOptions,
} from './stream-poller';
export { createDynamoDbStreamsClient } from './streams-client';
export type { OnFailureMessage } from './failure-file';
