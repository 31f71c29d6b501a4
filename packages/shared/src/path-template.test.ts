import { describe, expect, it } from 'vitest';
import {
  namespaceName,
  PATH_PRESETS,
  parseSegmentFileName,
  renderPath,
  segmentFileName,
  splitTemplate,
  templateProblems,
  timeBoundary,
  timeBucket,
} from './path-template.ts';

const ctx = {
  namespace: 'contoso',
  hub: 'orders',
  topic: 'orders-eu',
  partition: '3',
  time: new Date('2026-03-07T09:05:02.123Z'),
};

describe('path templates', () => {
  it('renders the Capture layout from the event time in UTC', () => {
    expect(renderPath(PATH_PRESETS.capture, ctx)).toBe('contoso/orders/3/2026/03/07/09/05/02');
  });

  it('renders the Hive layout', () => {
    expect(renderPath(PATH_PRESETS.hive, ctx)).toBe('topic=orders-eu/date=2026-03-07/hour=09');
  });

  it('finds the coarsest boundary a file must not cross', () => {
    expect(timeBoundary(PATH_PRESETS.capture)).toBe('hour');
    expect(timeBoundary('{topic}/{yyyy}-{MM}-{dd}')).toBe('day');
    expect(timeBoundary('{topic}/{yyyy}')).toBe('year');
    expect(timeBoundary('{topic}/{partition}')).toBe('none');
  });

  it('puts events of one hour in one bucket and the next hour in another', () => {
    const bucket = (iso: string) => timeBucket('hour', new Date(iso));
    expect(bucket('2026-03-07T09:00:00.000Z')).toBe(bucket('2026-03-07T09:59:59.999Z'));
    expect(bucket('2026-03-07T10:00:00.000Z')).toBeGreaterThan(bucket('2026-03-07T09:59:59.999Z'));
    expect(timeBucket('day', new Date('2026-12-31T23:59:59Z'))).toBe(Date.UTC(2026, 11, 31));
  });

  it('explains what is wrong with a template', () => {
    expect(templateProblems(PATH_PRESETS.capture)).toEqual([]);
    expect(templateProblems('/{hub}//x y/{Hour}')).toEqual([
      'must not start or end with "/"',
      'must not contain empty path segments ("//")',
      'unknown variable {Hour}; use one of {namespace}, {hub}, {topic}, {partition}, {yyyy}, {MM}, {dd}, {HH}, {mm}, {ss}',
      'may contain only letters, digits, "=", ".", "_", "-" and "/" outside variables',
    ]);
    expect(templateProblems('{hub')).toEqual(['has an unmatched "{" or "}"']);
  });

  it('derives the namespace name from the fully-qualified namespace', () => {
    expect(namespaceName('contoso.servicebus.windows.net')).toBe('contoso');
    expect(namespaceName('localhost:5672')).toBe('localhost');
    expect(namespaceName('127.0.0.1:5672')).toBe('127.0.0.1');
  });

  it('names segment files so they sort in event order and parse back', () => {
    const name = segmentFileName('12', 42, 1041, '.ndjson.gz');
    expect(name).toBe('12-00000000000000000042-00000000000000001041.ndjson.gz');
    expect(parseSegmentFileName(name)).toEqual({
      start: '',
      partition: '12',
      firstSequence: 42,
      lastSequence: 1041,
      extension: '.ndjson.gz',
    });
    expect(segmentFileName('0', 9, 9, '.avro') < segmentFileName('0', 10, 10, '.avro')).toBe(true);
    expect(parseSegmentFileName('notes.txt')).toBeNull();
    const capture = segmentFileName('3', 7, 9, '.avro', '05');
    expect(capture).toBe('05-3-00000000000000000007-00000000000000000009.avro');
    expect(parseSegmentFileName(capture)).toMatchObject({ start: '05', partition: '3', firstSequence: 7 });
  });

  it("puts a last {ss} segment in the file name, as Capture's layout does", () => {
    expect(splitTemplate(PATH_PRESETS.capture)).toEqual({
      folder: '{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}',
      fileStart: '{ss}',
    });
    expect(splitTemplate('{ss}')).toEqual({ folder: '', fileStart: '{ss}' });
    expect(splitTemplate(PATH_PRESETS.hive)).toEqual({ folder: PATH_PRESETS.hive, fileStart: null });
    expect(splitTemplate('x/{ss}/y')).toEqual({ folder: 'x/{ss}/y', fileStart: null });
  });
});
