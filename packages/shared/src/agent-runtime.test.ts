import { describe, expect, it } from 'vitest';
import { agentMemoryBudget, agentNodeOptions, agentProcessEnv, memoryBytes } from './agent-runtime.ts';

describe('agent runtime', () => {
  it('reads Kubernetes memory quantities', () => {
    expect(memoryBytes('512Mi')).toBe(512 * 2 ** 20);
    expect(memoryBytes('1Gi')).toBe(2 ** 30);
    expect(memoryBytes('300M')).toBe(300e6);
    expect(memoryBytes('1048576')).toBe(2 ** 20);
    expect(() => memoryBytes('lots')).toThrow(/not a memory quantity/);
  });

  it('sizes the V8 heap from the memory limit', () => {
    expect(agentNodeOptions('256Mi')).toBe('--max-semi-space-size=8 --max-old-space-size=160');
    expect(agentNodeOptions('1Gi')).toBe('--max-semi-space-size=8 --max-old-space-size=640');
    expect(agentNodeOptions('64Mi')).toBe('--max-semi-space-size=8 --max-old-space-size=64');
    expect(agentMemoryBudget('512Mi', 'avro').duckdbMemoryLimit).toBeNull();
  });

  it('gives a Parquet agent’s DuckDB a quarter of the limit and its heap 3/8, so both fit', () => {
    expect(agentMemoryBudget('512Mi', 'parquet')).toEqual({
      nodeOptions: '--max-semi-space-size=8 --max-old-space-size=192',
      duckdbMemoryLimit: '128MiB',
    });
    expect(agentMemoryBudget('2Gi', 'parquet').duckdbMemoryLimit).toBe('512MiB');
    expect(agentMemoryBudget('128Mi', 'parquet').duckdbMemoryLimit).toBe('64MiB');
  });

  it('gives the agent process its heap limits and two malloc arenas', () => {
    expect(agentProcessEnv('256Mi', 'avro')).toEqual({
      NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=160',
      MALLOC_ARENA_MAX: '2',
    });
  });
});
