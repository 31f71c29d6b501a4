import { describe, expect, it } from 'vitest';
import { appRouter } from './root.ts';

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { output?: unknown } }>;

describe('the router', () => {
  it('declares what each procedure returns (an output schema)', () => {
    const undeclared = Object.keys(procedures).filter((path) => !procedures[path]!._def.output);
    expect(undeclared).toEqual([]);
  });
});
