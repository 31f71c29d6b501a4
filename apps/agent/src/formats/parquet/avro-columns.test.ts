import { describe, expect, it } from 'vitest';
import { describeFields, duckType } from '../../pipeline/json-schema.ts';
import { avroRowSchema, avroToJson, parseAvroSchema } from './avro-columns.ts';

const columns = (schema: unknown) => {
  const row = avroRowSchema(parseAvroSchema(JSON.stringify(schema)));
  return row && Object.fromEntries([...row.fields].map(([name, t]) => [name, duckType(t)]));
};

describe('Avro schema → column types', () => {
  it('maps primitives, logical types, unions, collections and nested records', () => {
    expect(
      columns({
        type: 'record',
        name: 'R',
        fields: [
          { name: 'i', type: 'int' },
          { name: 'f', type: 'float' },
          { name: 'b', type: 'boolean' },
          { name: 'opt', type: ['null', 'long'] },
          { name: 'num', type: ['int', 'double'] },
          { name: 'mixed', type: ['null', 'string', 'long'] },
          { name: 'd', type: { type: 'int', logicalType: 'date' } },
          { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
          { name: 'fx', type: { type: 'fixed', name: 'F', size: 2 } },
          { name: 'l', type: { type: 'array', items: { type: 'map', values: 'float' } } },
          { name: 'n', type: 'null' },
        ],
      }),
    ).toEqual({
      i: 'BIGINT',
      f: 'DOUBLE',
      b: 'BOOLEAN',
      opt: 'BIGINT',
      num: 'VARCHAR', // avsc wraps int|double values ({"double": 1.5}): kept as JSON text
      mixed: 'VARCHAR',
      d: 'BIGINT',
      ts: 'VARCHAR',
      fx: 'VARCHAR',
      l: 'MAP(VARCHAR, DOUBLE)[]',
      n: null,
    });
  });

  it('keeps JSON text where avsc wraps a union or a record refers to itself', () => {
    const row = avroRowSchema(
      parseAvroSchema(
        JSON.stringify({
          type: 'record',
          name: 'Node',
          fields: [
            {
              name: 'either',
              type: [
                { type: 'record', name: 'A', fields: [] },
                { type: 'record', name: 'B', fields: [] },
              ],
            },
            { name: 'next', type: ['null', 'Node'] },
          ],
        }),
      ),
    );
    expect(describeFields(row!)).toEqual([
      { path: 'either', type: 'VARCHAR' },
      { path: 'next', type: 'VARCHAR' },
    ]);
    expect(avroRowSchema(parseAvroSchema('"int"'))).toBeNull();
  });

  it('turns decoded values into plain JSON without losing any', () => {
    expect(
      avroToJson({
        b: Buffer.from('hi'),
        d: new Date(0),
        n: Number.NaN,
        big: 2n ** 70n,
        l: [1, null],
        m: { k: true },
      }),
    ).toEqual({
      b: 'aGk=',
      d: '1970-01-01T00:00:00.000Z',
      n: 'NaN',
      big: '1180591620717411303424',
      l: [1, null],
      m: { k: true },
    });
  });
});
