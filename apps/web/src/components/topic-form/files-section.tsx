'use client';

import { fieldInfo, PATH_PRESETS } from '@hubcap/shared';
import { useWatch } from 'react-hook-form';
import { Card } from '../ui.tsx';
import { type Draft, type FormatType, newFormat } from './draft.ts';
import { fieldId, SelectField, TextField, useReplace } from './fields.tsx';

const FORMAT_LABELS: Record<FormatType, string> = {
  ndjson: 'NDJSON (raw bodies, one per line)',
  avro: 'Avro (Event Hubs Capture schema)',
  parquet: 'Parquet (schema inferred)',
};

/** Byte sizes as the schema's limits are set: 1 MiB, 128 MiB, 4 GiB. */
const binary = (n: number) => (n >= 2 ** 30 ? `${n / 2 ** 30} GiB` : `${n / 2 ** 20} MiB`);

/** The files: folder layout, format and when a file is flushed. */
export function FilesSection() {
  const replace = useReplace();
  const format = useWatch<Draft, 'format'>({ name: 'format' }) ?? newFormat('ndjson');
  const preset = (template: string) => (
    <button type="button" className="underline" onClick={() => replace('pathTemplate', template)}>
      {template === PATH_PRESETS.capture ? 'Capture layout' : 'Hive layout'}
    </button>
  );

  return (
    <Card title="Files">
      <div className="grid gap-4 md:grid-cols-2">
        <div className="md:col-span-2">
          <TextField
            name="pathTemplate"
            label="Path template"
            help={
              <>
                {fieldInfo('pathTemplate').description} {preset(PATH_PRESETS.capture)} ·{' '}
                {preset(PATH_PRESETS.hive)}
              </>
            }
          />
        </div>
        <SelectField
          name="format.type"
          label="Format"
          labels={FORMAT_LABELS}
          onSelect={(type) => replace('format', newFormat(type as FormatType))}
        />
        {format.type === 'avro' ? (
          <SelectField name="format.codec" label="Avro codec" />
        ) : (
          // One per format: each offers its own compressions.
          <SelectField key={format.type} name="format.compression" label="Compression" />
        )}
        {format.type === 'parquet' && <SchemaRegistryFields enabled={format.schemaRegistry !== undefined} />}
        <TextField name="batching.maxBytes" label="Max file size (bytes)" type="number" show={binary} />
        <TextField name="batching.maxEvents" label="Max events per file" type="number" />
        <TextField name="batching.maxAgeSeconds" label="Max file age (seconds)" type="number" />
      </div>
    </Card>
  );
}

function SchemaRegistryFields({ enabled }: { enabled: boolean }) {
  const replace = useReplace();
  return (
    <div className="space-y-4 md:col-span-2">
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          id={fieldId('format.schemaRegistry')}
          name="format.schemaRegistry"
          checked={enabled}
          onChange={(e) =>
            replace('format.schemaRegistry', e.target.checked ? { fullyQualifiedNamespace: '' } : undefined)
          }
        />
        Events are Avro via Azure Schema Registry (content type avro/binary+&lt;schema id&gt;)
      </label>
      {enabled && (
        <div className="grid gap-4 md:grid-cols-2">
          <TextField
            name="format.schemaRegistry.fullyQualifiedNamespace"
            label="Schema Registry namespace"
            placeholder="myns.servicebus.windows.net"
            help="Event Hubs namespace hosting the registry. The agent's identity needs the Schema Registry Reader role."
          />
          <TextField name="format.schemaRegistry.groupName" label="Schema group (optional)" optional />
          <TextField name="format.schemaRegistry.clientId" label="Client id (optional)" optional />
        </div>
      )}
    </div>
  );
}
