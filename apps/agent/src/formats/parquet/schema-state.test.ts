import { describe, expect, it } from 'vitest';
import {
  BIGINT,
  describeFields,
  merge,
  newStruct,
  observeRow,
  type StructType,
} from '../../pipeline/json-schema.ts';
import { parseState, SchemaStateError, SchemaStateVersionError, serializeState } from './schema-state.ts';

const meta = { topic: 't', fingerprint: 'f', updatedAt: new Date(0), updatedBy: 'a' };

describe('stored schema state', () => {
  it('round-trips every kind of type, keeping field order and the merge lattice', () => {
    const root = newStruct();
    observeRow(
      root,
      { z: 1, a: 'x', n: null, l: [1.5], m: { 'content-type': 'json' }, s: { b: true, c: { d: [] } } },
      new Set(),
    );
    const { root: back, state } = parseState(serializeState(root, meta), 'state');
    expect(describeFields(back)).toEqual(describeFields(root));
    expect([...back.fields.keys()]).toEqual(['z', 'a', 'n', 'l', 'm', 's']);
    expect(state.topic).toBe('t');
    // Scalars come back as the lattice's singletons: merging still widens.
    expect(back.fields.get('z')).toBe(BIGINT);
    const widened = merge(
      back,
      (() => {
        const r: StructType = newStruct();
        observeRow(r, { z: 2.5 }, new Set());
        return r;
      })(),
    ) as StructType;
    expect(describeFields(widened).find((f) => f.path === 'z')?.type).toBe('DOUBLE');
  });

  it('tells a document from a newer agent (higher formatVersion) apart from a damaged one', () => {
    const good = JSON.parse(serializeState(newStruct(), meta));
    // Whatever else a newer version changed, the version number is what decides.
    const newer = JSON.stringify({ formatVersion: 2, columns: { id: 'bigint' } });
    expect(() => parseState(newer, 'schema/t.json')).toThrow(SchemaStateVersionError);
    expect(() => parseState(newer, 'schema/t.json')).toThrow(
      /^schema\/t.json has formatVersion 2, written by a newer agent/,
    );
    expect(() => parseState(JSON.stringify({ ...good, formatVersion: 3 }), 'x')).not.toThrow(
      SchemaStateError,
    );
  });

  it('rejects a damaged document with every problem in plain words', () => {
    const bad = (text: string) => {
      try {
        parseState(text, 'schema/t.json');
      } catch (error) {
        expect(error).toBeInstanceOf(SchemaStateError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('{"formatVersion":1,')).toMatch(/^schema\/t.json is not JSON/);
    const good = JSON.parse(serializeState(newStruct(), meta));
    expect(bad(JSON.stringify({ ...good, formatVersion: 0 }))).toMatch(/formatVersion must be 1/);
    expect(bad(JSON.stringify({ ...good, formatVersion: '2' }))).toMatch(/formatVersion must be 1/);
    expect(bad(JSON.stringify({ ...good, fields: [{ name: 'a', type: { kind: 'int' } }] }))).toMatch(
      /fields\.0\.type/,
    );
    expect(
      bad(
        JSON.stringify({
          ...good,
          fields: [
            { name: 'Id', type: { kind: 'bigint' } },
            { name: 'id', type: { kind: 'string' } },
          ],
        }),
      ),
    ).toMatch(/"id" appears twice \(as "Id"\)/);
  });
});
