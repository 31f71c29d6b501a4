import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { AgentStatus } from './status.ts';

describe('metrics', () => {
  it('hubcap_ready follows the readiness /readyz answers', async () => {
    const status = new AgentStatus();
    const metrics = createMetrics(() => status.ready);
    const ready = () => metrics.registry.getSingleMetricAsString('hubcap_ready');
    expect(await ready()).toContain('hubcap_ready 0');
    status.setCheck('source', true);
    status.setCheck('sink', true);
    expect(await ready()).toContain('hubcap_ready 1');
    status.setFatal('sink', 'container missing');
    expect(await ready()).toContain('hubcap_ready 0');
  });
});
