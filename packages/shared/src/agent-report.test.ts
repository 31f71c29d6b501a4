import { describe, expect, it } from 'vitest';
import { AgentReport } from './agent-report.ts';
import { describeIssues } from './validation.ts';

const position = { sequenceNumber: 41, offset: '8800', enqueuedTime: '2026-03-07T09:05:02.123Z' };
const report = {
  agentId: 'orders-7f9c-abcde',
  topic: 'orders',
  agentVersion: '0.1.0',
  sentAt: '2026-03-07T09:05:10.000Z',
  startedAt: '2026-03-07T09:00:00.000Z',
  ready: true,
  partitions: [
    {
      partitionId: '0',
      lastEnqueued: { ...position, sequenceNumber: 99 },
      lastReceived: position,
      lastCheckpointed: null,
      lagEvents: 99,
      lagSeconds: 8,
      eventsPerSecond: 120.5,
      bytesPerSecond: 120500,
    },
  ],
  eventsPerSecond: 120.5,
  bytesPerSecond: 120500,
  eventsWritten: 0,
  bytesWritten: 0,
  filesWritten: 0,
  deadLettered: 0,
  errors: [{ at: '2026-03-07T09:05:09.000Z', kind: 'sink', message: '503 from storage', retryable: true }],
};

describe('AgentReport', () => {
  it('accepts a well-formed report', () => {
    expect(AgentReport.parse(report)).toEqual(report);
  });

  it('accepts optional dead letters by reason and schema versions', () => {
    const withSchema = {
      ...report,
      deadLettered: 2,
      deadLetteredByReason: { 'not-json': 2 },
      schemaVersions: [
        {
          fingerprint: '0123456789abcdef0123456789abcdef',
          fields: [
            { path: 'id', type: 'BIGINT' },
            { path: 'user', type: 'STRUCT' },
            { path: 'user.name', type: 'VARCHAR' },
          ],
          firstSeenAt: '2026-03-07T09:05:02.000Z',
          path: 'raw/orders/0/2026/03/07/09/05/02/0-00000000000000000000-00000000000000000041.parquet',
          partitionId: '0',
        },
      ],
    };
    expect(AgentReport.parse(withSchema)).toEqual(withSchema);
  });

  it('names the bad fields of a malformed report', () => {
    const bad = {
      ...report,
      sentAt: 'yesterday',
      partitions: [
        { ...report.partitions[0], lagEvents: -1, lastReceived: { ...position, sequenceNumber: 1.5 } },
      ],
      errors: Array.from({ length: 51 }, () => report.errors[0]),
    };
    const result = AgentReport.safeParse(bad);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!)).toEqual([
      'sentAt: must be an ISO 8601 UTC time',
      'partitions[0].lastReceived.sequenceNumber: must be a whole number',
      'partitions[0].lagEvents: must not be negative',
      'errors: at most 50 errors per report',
    ]);
  });
});
