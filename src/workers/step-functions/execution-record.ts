/**
 * What the local service remembers about one execution, in the shape the API returns it
 * (the SDK's own model types), with times as epoch milliseconds so that records persist as
 * plain JSON.
 */
import type { ExecutionStatus, HistoryEvent } from '@aws-sdk/client-sfn';

export type HistoryEventRecord = Omit<HistoryEvent, 'timestamp' | 'id' | 'previousEventId'> & {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
};

/** The details of one history event, without its id, type and time. */
export type HistoryEventDetails = Omit<
  HistoryEventRecord,
  'id' | 'previousEventId' | 'timestamp' | 'type'
>;

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  /** The input exactly as StartExecution received it. */
  readonly input: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEventRecord[];
}

export function isRunning(record: ExecutionRecord): boolean {
  return record.status === 'RUNNING';
}
