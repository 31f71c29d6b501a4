'use client';

import { type Measurement, recommendScaling, type ScalingAdvice } from '@hubcap/shared';
import { useFormContext, useWatch } from 'react-hook-form';
import { SizingAdvice } from '../sizing-advice.tsx';
import { Card } from '../ui.tsx';
import type { Draft } from './draft.ts';
import { TextField } from './fields.tsx';

/** How the agent runs: replicas, resources and how often it reports, with what the topic's rates call for. */
export function AgentSection({ measurement }: { measurement: Measurement }) {
  return (
    <Card title="Agent">
      <div className="grid gap-4 md:grid-cols-4">
        <TextField name="scaling.replicas" label="Replicas" type="number" />
        <TextField name="scaling.cpu" label="CPU" />
        <TextField name="scaling.memory" label="Memory" />
        <TextField name="reporting.intervalSeconds" label="Report every (s)" type="number" />
      </div>
      <div className="mt-4">
        <FormSizing measurement={measurement} />
      </div>
    </Card>
  );
}

/** The recommendation for the format being chosen; nothing while the format itself is invalid. */
function FormSizing({ measurement }: { measurement: Measurement }) {
  const { setValue } = useFormContext<Draft>();
  const [format, draft] = useWatch<Draft, ['format', 'scaling']>({ name: ['format', 'scaling'] });
  const scaling = {
    replicas: Number(draft?.replicas ?? 1),
    cpu: draft?.cpu ?? '',
    memory: draft?.memory ?? '',
  };
  let advice: ScalingAdvice;
  try {
    advice = recommendScaling(format, measurement.rates, scaling.replicas);
  } catch {
    return null;
  }
  const apply = () => {
    const options = { shouldDirty: true, shouldValidate: true };
    setValue('scaling.cpu', advice.cpu, options);
    setValue('scaling.memory', advice.memory, options);
    if (advice.replicas > scaling.replicas) setValue('scaling.replicas', advice.replicas, options);
  };
  return <SizingAdvice advice={advice} measurement={measurement} scaling={scaling} onApply={apply} />;
}
