/** The local stand-in for Lambda's DynamoDB stream event source mapping. */
export {
  type StreamHandler,
  StreamPoller,
  type StreamPollerLogger,
  type StreamPollerOptions,
} from './stream-poller';
export type { OnFailureMessage } from './failure-file';
