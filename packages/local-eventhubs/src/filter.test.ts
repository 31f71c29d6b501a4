import { describe, expect, it } from 'vitest';
import { FilterError, parseSelectorFilter } from './filter.ts';

describe('parseSelectorFilter', () => {
  it('parses the clauses the SDK builds', () => {
    expect(parseSelectorFilter("amqp.annotation.x-opt-offset > '-1'")).toEqual({
      kind: 'offset',
      offset: '-1',
      inclusive: false,
    });
    expect(parseSelectorFilter("amqp.annotation.x-opt-offset > '@latest'")).toEqual({
      kind: 'offset',
      offset: '@latest',
      inclusive: false,
    });
    expect(parseSelectorFilter("amqp.annotation.x-opt-offset >= '1234'")).toEqual({
      kind: 'offset',
      offset: '1234',
      inclusive: true,
    });
    expect(parseSelectorFilter("amqp.annotation.x-opt-sequence-number > '41'")).toEqual({
      kind: 'sequence-number',
      sequenceNumber: 41,
      inclusive: false,
    });
    expect(parseSelectorFilter("amqp.annotation.x-opt-enqueued-time > '1700000000000'")).toEqual({
      kind: 'enqueued-time',
      enqueuedTime: 1700000000000,
      inclusive: false,
    });
  });

  it('accepts unquoted numbers and any letter case', () => {
    expect(parseSelectorFilter('AMQP.ANNOTATION.X-OPT-SEQUENCE-NUMBER >= 7')).toEqual({
      kind: 'sequence-number',
      sequenceNumber: 7,
      inclusive: true,
    });
  });

  it.each([
    "amqp.annotation.x-opt-enqueued-time > 'NaN'",
    "amqp.annotation.x-opt-offset > 'garbage'",
    "amqp.annotation.x-opt-sequence-number > '1.5'",
    "amqp.annotation.x-opt-sequence-number < '5'",
    "amqp.annotation.x-opt-partition-key = 'a'",
    "amqp.annotation.x-opt-offset > '1' OR 1=1",
    "amqp.annotation.x-opt-sequence-number > '99999999999999999999'",
    '',
  ])('rejects %j', (expr) => {
    expect(() => parseSelectorFilter(expr)).toThrow(FilterError);
  });
});
