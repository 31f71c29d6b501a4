'use client';

import { Card } from '../ui.tsx';
import { TextField } from './fields.tsx';

/** How the agent runs: replicas, resources and how often it reports. */
export function AgentSection() {
  return (
    <Card title="Agent">
      <div className="grid gap-4 md:grid-cols-4">
        <TextField name="scaling.replicas" label="Replicas" type="number" />
        <TextField name="scaling.cpu" label="CPU" />
        <TextField name="scaling.memory" label="Memory" />
        <TextField name="reporting.intervalSeconds" label="Report every (s)" type="number" />
      </div>
    </Card>
  );
}
