'use client';

import type { AppRouter } from '@hubcap/api';
import { fieldPath, namespaceOfConnectionString, PATH_PRESETS, TopicConfig } from '@hubcap/shared';
import { useMutation } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import type { Route } from 'next';
import { useRouter } from 'next/navigation';
import { type ReactNode, useState } from 'react';
import type { LocalServices } from '@/server/local-services.ts';
import { useTRPC } from '@/trpc/client.tsx';
import { Badge, Button, Card } from './ui.tsx';
import { useSourceConflict } from './use-source-conflict.ts';

type Doc = Record<string, unknown>;
type Outputs = inferRouterOutputs<AppRouter>['topic'];

function getPath(doc: Doc, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Doc | undefined)?.[key], doc);
}

function setPath(doc: Doc, path: string, value: unknown): Doc {
  const next = structuredClone(doc);
  const keys = path.split('.');
  const last = keys.pop()!;
  let node = next;
  for (const key of keys) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Doc;
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
  return next;
}

/**
 * A new topic's starting point: every default of the schema, visible in the form. The namespace comes
 * from the connection string; it is a field of its own only with workload identity.
 */
export const NEW_TOPIC: Doc = {
  topic: '',
  source: {
    eventHubName: '',
    consumerGroup: '$Default',
    auth: { kind: 'connectionString', connectionString: '' },
    startPosition: 'earliest',
  },
  destination: {
    kind: 'azureBlob',
    account: { kind: 'connectionString', connectionString: '' },
    container: '',
    prefix: '',
    checkpointContainer: 'hubcap-checkpoints',
  },
  pathTemplate: PATH_PRESETS.capture,
  format: { type: 'ndjson', compression: 'gzip' },
  batching: { maxBytes: 134_217_728, maxEvents: 1_000_000, maxAgeSeconds: 300 },
  scaling: { replicas: 1, cpu: '250m', memory: '512Mi' },
  reporting: { intervalSeconds: 10 },
};

/** Stands in for a stored secret left blank (the server fills the real one in): valid for either kind. */
const STORED_SECRET = 'Endpoint=sb://stored.secret/;AccountName=stored-secret';

/** Client-side check with the same schema the server uses; stored secrets left blank count as present. */
function validate(draft: Doc, storedSecrets: string[]): Record<string, string> {
  let doc = draft;
  for (const field of storedSecrets) {
    if (getPath(doc, field) === '') doc = setPath(doc, field, STORED_SECRET);
  }
  const result = TopicConfig.safeParse(doc);
  const errors: Record<string, string> = {};
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = fieldPath(issue.path);
      errors[path] ??= issue.message;
    }
  }
  return errors;
}

interface FieldProps {
  path: string;
  label: string;
  help?: ReactNode;
  draft: Doc;
  errors: Record<string, string>;
  onChange: (path: string, value: unknown) => void;
}

function fieldId(path: string) {
  return `field-${path.replaceAll('.', '-')}`;
}

function FieldShell({
  path,
  label,
  help,
  errors,
  children,
}: Omit<FieldProps, 'draft' | 'onChange'> & { children: ReactNode }) {
  const error = errors[path];
  return (
    <div className="space-y-1" data-field={path}>
      <label htmlFor={fieldId(path)} className="block text-sm font-medium">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${fieldId(path)}-error`} role="alert" className="text-xs text-red-700" data-error-for={path}>
          {error}
        </p>
      ) : (
        help && <p className="text-xs text-slate-500">{help}</p>
      )}
    </div>
  );
}

const inputClass = (error: boolean) =>
  `block w-full rounded border px-3 py-1.5 text-sm ${error ? 'border-red-500 bg-red-50' : 'border-slate-300'}`;

function TextField(
  props: FieldProps & {
    type?: 'text' | 'password' | 'number';
    placeholder?: string;
    disabled?: boolean;
    /** An empty optional field is left out of the config instead of being an empty string. */
    optional?: boolean;
  },
) {
  const { path, draft, errors, onChange, type = 'text' } = props;
  const value = getPath(draft, path);
  return (
    <FieldShell {...props}>
      <input
        id={fieldId(path)}
        name={path}
        type={type}
        disabled={props.disabled}
        placeholder={props.placeholder}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        aria-invalid={!!errors[path]}
        aria-describedby={errors[path] ? `${fieldId(path)}-error` : undefined}
        value={value === undefined || value === null ? '' : String(value)}
        onChange={(e) => {
          const raw = e.target.value;
          onChange(
            path,
            raw === '' && (type === 'number' || props.optional)
              ? undefined
              : type === 'number'
                ? Number(raw)
                : raw,
          );
        }}
        className={inputClass(!!errors[path])}
      />
    </FieldShell>
  );
}

function SelectField(
  props: FieldProps & { options: { value: string; label: string }[]; onSelect?: (v: string) => void },
) {
  const { path, draft, errors, onChange, options } = props;
  return (
    <FieldShell {...props}>
      <select
        id={fieldId(path)}
        name={path}
        value={String(getPath(draft, path) ?? '')}
        onChange={(e) => (props.onSelect ? props.onSelect(e.target.value) : onChange(path, e.target.value))}
        className={inputClass(!!errors[path])}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

type TestResult = Outputs['testConnection'];
type PreviewResult = Outputs['preview'];

export function TopicForm({
  mode,
  initial,
  storedSecrets = [],
  localServices = null,
}: {
  mode: 'create' | 'edit';
  initial: Doc;
  storedSecrets?: string[];
  /** Only on the local platform: what "Use the local services" fills in. */
  localServices?: LocalServices | null;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const [draft, setDraft] = useState<Doc>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [test, setTest] = useState<TestResult | null>(null);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [saved, setSaved] = useState<Outputs['update'] | null>(null);
  const name = mode === 'edit' ? String(initial.topic) : undefined;
  const sourceTaken = useSourceConflict(draft.source, name);

  const onChange = (path: string, value: unknown) => {
    setDraft((d) => setPath(d, path, value));
    setErrors(({ [path]: _, ...rest }) => rest);
  };

  /** Several fields at once, e.g. an authentication kind with the fields that come with it. */
  const onChangeAll = (values: Record<string, unknown>) => {
    setDraft((d) => Object.entries(values).reduce((doc, [path, value]) => setPath(doc, path, value), d));
    setErrors((errs) =>
      Object.fromEntries(
        Object.entries(errs).filter(
          ([k]) => !Object.keys(values).some((p) => k === p || k.startsWith(`${p}.`)),
        ),
      ),
    );
  };

  /** The local platform's emulators, a hub and consumer group of their own, and a container. */
  const fillLocalServices = (local: LocalServices) =>
    onChangeAll({
      'source.auth': { kind: 'connectionString', connectionString: local.eventHubsConnectionString },
      'source.fullyQualifiedNamespace': undefined,
      'source.eventHubName': local.eventHub,
      'source.consumerGroup': local.consumerGroup,
      destination: {
        ...structuredClone(NEW_TOPIC.destination as Doc),
        account: { kind: 'connectionString', connectionString: local.storageConnectionString },
        container: String(getPath(draft, 'destination.container') || 'lake'),
      },
    });

  /** Server errors: per field when the server names fields, otherwise one line above the buttons. */
  const onServerError = (error: { message: string; data?: unknown }) => {
    const fieldErrors = (error.data as { fieldErrors?: Record<string, string> } | undefined)?.fieldErrors;
    if (fieldErrors && Object.keys(fieldErrors).length > 0) {
      setErrors(
        Object.fromEntries(Object.entries(fieldErrors).map(([k, v]) => [k.replace(/^config\./, ''), v])),
      );
      setFormError('Some fields need attention.');
    } else setFormError(error.message);
  };

  const create = useMutation(
    trpc.topic.create.mutationOptions({
      onSuccess: (topic) => router.push(`/topics/${topic.name}` as Route),
      onError: onServerError,
    }),
  );
  const update = useMutation(
    trpc.topic.update.mutationOptions({
      onSuccess: (result) => {
        setSaved(result);
        router.refresh();
      },
      onError: onServerError,
    }),
  );
  const testConnection = useMutation(
    trpc.topic.testConnection.mutationOptions({ onSuccess: setTest, onError: onServerError }),
  );
  const previewEvents = useMutation(
    trpc.topic.preview.mutationOptions({ onSuccess: setPreview, onError: onServerError }),
  );

  /** Validates locally first: nothing goes to the server while a field is wrong. */
  const checked = (): boolean => {
    const found = validate(draft, storedSecrets);
    setErrors(found);
    setFormError(
      Object.keys(found).length ? `Fix the ${Object.keys(found).length} highlighted field(s).` : null,
    );
    if (Object.keys(found).length) {
      document.getElementById(fieldId(Object.keys(found)[0]!))?.focus();
      return false;
    }
    return true;
  };

  const submit = () => {
    setSaved(null);
    if (!checked()) return;
    if (mode === 'create') create.mutate({ config: draft });
    else update.mutate({ name: name!, config: draft });
  };

  const f = {
    draft,
    errors: sourceTaken ? { 'source.consumerGroup': sourceTaken, ...errors } : errors,
    onChange,
  };
  const sourceAuth = String(getPath(draft, 'source.auth.kind'));
  const destKind = String(getPath(draft, 'destination.kind'));
  const accountKind = String(getPath(draft, 'destination.account.kind'));
  const formatType = String(getPath(draft, 'format.type'));
  const registry = getPath(draft, 'format.schemaRegistry') !== undefined;
  const sourceSecret = String(getPath(draft, 'source.auth.connectionString') ?? '');
  const namespace =
    namespaceOfConnectionString(sourceSecret) ??
    (sourceSecret === '' && storedSecrets.includes('source.auth.connectionString')
      ? String(getPath(initial, 'source.fullyQualifiedNamespace') ?? '')
      : null);
  const secretHelp = (field: string, help: string) =>
    storedSecrets.includes(field)
      ? `A secret is stored (never shown). Leave empty to keep it, or type a new one. ${help}`
      : help;

  const busy = create.isPending || update.isPending;
  return (
    <form
      noValidate
      className="space-y-6"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {localServices && (
        <div
          className="flex flex-wrap items-center gap-3 rounded border border-sky-200 bg-sky-50 px-4 py-3 text-sm"
          data-testid="local-services"
        >
          <span className="min-w-0 flex-1">
            This server runs the local platform (<code>npm start</code>): fill in its Event Hubs and storage
            emulators, the hub "{localServices.eventHub}" with consumer group "{localServices.consumerGroup}"
            and a container.
          </span>
          <Button variant="secondary" onClick={() => fillLocalServices(localServices)}>
            Use the local services
          </Button>
        </div>
      )}

      <Card title="Topic">
        <div className="grid gap-4 md:grid-cols-2">
          <TextField
            {...f}
            path="topic"
            label="Name"
            disabled={mode === 'edit'}
            help="Unique; lower-case letters, digits and dashes. Names the agent's Kubernetes objects and files."
          />
        </div>
      </Card>

      <Card title="Source: Event Hubs">
        <div className="grid gap-4 md:grid-cols-2">
          {sourceAuth === 'connectionString' ? (
            <div className="space-y-1" data-field="source.fullyQualifiedNamespace">
              <span className="block text-sm font-medium">Namespace</span>
              <p className="py-1.5 text-sm break-all" data-testid="derived-namespace">
                {namespace || '—'}
              </p>
              <p className="text-xs text-slate-500">Taken from the connection string (its Endpoint).</p>
            </div>
          ) : (
            <TextField
              {...f}
              path="source.fullyQualifiedNamespace"
              label="Namespace"
              placeholder="myns.servicebus.windows.net"
              help="Fully-qualified Event Hubs namespace."
            />
          )}
          <TextField
            {...f}
            path="source.eventHubName"
            label="Event hub"
            help="The event hub (topic) to consume."
          />
          <TextField
            {...f}
            path="source.consumerGroup"
            label="Consumer group"
            help="Give Hubcap its own consumer group; $Default is shared with others."
          />
          <SelectField
            {...f}
            path="source.startPosition"
            label="Start position"
            options={[
              { value: 'earliest', label: 'earliest — everything the hub still retains' },
              { value: 'latest', label: 'latest — only new events' },
            ]}
            help="Where to start on partitions that have no checkpoint yet."
          />
          <SelectField
            {...f}
            path="source.auth.kind"
            label="Authentication"
            options={[
              { value: 'connectionString', label: 'Connection string' },
              { value: 'workloadIdentity', label: 'Workload identity (managed identity)' },
            ]}
            onSelect={(kind) =>
              onChangeAll(
                kind === 'connectionString'
                  ? {
                      'source.auth': { kind, connectionString: '' },
                      'source.fullyQualifiedNamespace': undefined,
                    }
                  : {
                      'source.auth': { kind },
                      'source.fullyQualifiedNamespace': String(
                        getPath(initial, 'source.fullyQualifiedNamespace') ?? '',
                      ),
                    },
              )
            }
            help="How the agent signs in to Event Hubs."
          />
          {sourceAuth === 'connectionString' ? (
            <TextField
              {...f}
              path="source.auth.connectionString"
              label="Connection string"
              type="password"
              placeholder={
                storedSecrets.includes('source.auth.connectionString')
                  ? '•••••••• stored'
                  : 'Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…'
              }
              help={secretHelp(
                'source.auth.connectionString',
                'Needs Listen rights. Encrypted at rest, never shown again.',
              )}
            />
          ) : (
            <TextField
              {...f}
              path="source.auth.clientId"
              label="Client id (optional)"
              help="Managed identity client id; default: the pod's workload identity."
            />
          )}
        </div>
      </Card>

      <Card title="Destination">
        <div className="grid gap-4 md:grid-cols-2">
          <SelectField
            {...f}
            path="destination.kind"
            label="Kind"
            options={[
              { value: 'azureBlob', label: 'Azure Blob Storage / ADLS Gen2' },
              { value: 'localFolder', label: 'Local folder (development)' },
            ]}
            onSelect={(kind) =>
              onChange(
                'destination',
                kind === 'azureBlob'
                  ? structuredClone(NEW_TOPIC.destination)
                  : { kind: 'localFolder', path: '' },
              )
            }
          />
          {destKind === 'localFolder' ? (
            <TextField
              {...f}
              path="destination.path"
              label="Folder"
              help="Folder the files are written to, on the agent's machine."
            />
          ) : (
            <>
              <SelectField
                {...f}
                path="destination.account.kind"
                label="Storage authentication"
                options={[
                  { value: 'connectionString', label: 'Connection string' },
                  { value: 'workloadIdentity', label: 'Workload identity (managed identity)' },
                ]}
                onSelect={(kind) =>
                  onChange(
                    'destination.account',
                    kind === 'connectionString' ? { kind, connectionString: '' } : { kind, accountUrl: '' },
                  )
                }
              />
              {accountKind === 'connectionString' ? (
                <TextField
                  {...f}
                  path="destination.account.connectionString"
                  label="Storage connection string"
                  type="password"
                  placeholder={
                    storedSecrets.includes('destination.account.connectionString')
                      ? '•••••••• stored'
                      : 'DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…'
                  }
                  help={secretHelp(
                    'destination.account.connectionString',
                    'Encrypted at rest, never shown again.',
                  )}
                />
              ) : (
                <>
                  <TextField
                    {...f}
                    path="destination.account.accountUrl"
                    label="Account URL"
                    placeholder="https://acct.blob.core.windows.net"
                    help="Blob endpoint of the storage account."
                  />
                  <TextField {...f} path="destination.account.clientId" label="Client id (optional)" />
                </>
              )}
              <TextField
                {...f}
                path="destination.container"
                label="Container"
                help="Where the files land; 3–63 lower-case letters, digits and dashes."
              />
              <TextField
                {...f}
                path="destination.prefix"
                label="Prefix (optional)"
                help='Folder inside the container, e.g. "raw/events".'
              />
              <TextField
                {...f}
                path="destination.checkpointContainer"
                label="Checkpoint container"
                help="Partition ownership and checkpoints (same account)."
              />
            </>
          )}
        </div>
      </Card>

      <Card title="Files">
        <div className="grid gap-4 md:grid-cols-2">
          <div className="md:col-span-2">
            <TextField
              {...f}
              path="pathTemplate"
              label="Path template"
              help={
                <>
                  Variables: {'{namespace} {hub} {topic} {partition} {yyyy} {MM} {dd} {HH} {mm} {ss}'}.{' '}
                  <button
                    type="button"
                    className="underline"
                    onClick={() => onChange('pathTemplate', PATH_PRESETS.capture)}
                  >
                    Capture layout
                  </button>{' '}
                  ·{' '}
                  <button
                    type="button"
                    className="underline"
                    onClick={() => onChange('pathTemplate', PATH_PRESETS.hive)}
                  >
                    Hive layout
                  </button>
                </>
              }
            />
          </div>
          <SelectField
            {...f}
            path="format.type"
            label="Format"
            options={[
              { value: 'ndjson', label: 'NDJSON (raw bodies, one per line)' },
              { value: 'avro', label: 'Avro (Event Hubs Capture schema)' },
              { value: 'parquet', label: 'Parquet (schema inferred)' },
            ]}
            onSelect={(type) =>
              onChange(
                'format',
                type === 'ndjson'
                  ? { type, compression: 'gzip' }
                  : type === 'avro'
                    ? { type, codec: 'deflate' }
                    : { type, compression: 'zstd' },
              )
            }
          />
          {formatType === 'avro' ? (
            <SelectField
              {...f}
              path="format.codec"
              label="Avro codec"
              options={['deflate', 'null'].map((v) => ({ value: v, label: v }))}
              help="Capture writes deflate."
            />
          ) : (
            <SelectField
              {...f}
              path="format.compression"
              label="Compression"
              options={(formatType === 'ndjson'
                ? ['gzip', 'zstd', 'none']
                : ['zstd', 'snappy', 'gzip', 'none']
              ).map((v) => ({ value: v, label: v }))}
            />
          )}
          {formatType === 'parquet' && (
            <div className="space-y-4 md:col-span-2">
              <label className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  id={fieldId('format.schemaRegistry')}
                  name="format.schemaRegistry"
                  checked={registry}
                  onChange={(e) =>
                    onChange(
                      'format.schemaRegistry',
                      e.target.checked ? { fullyQualifiedNamespace: '' } : undefined,
                    )
                  }
                />
                Events are Avro via Azure Schema Registry (content type avro/binary+&lt;schema id&gt;)
              </label>
              {registry && (
                <div className="grid gap-4 md:grid-cols-2">
                  <TextField
                    {...f}
                    path="format.schemaRegistry.fullyQualifiedNamespace"
                    label="Schema Registry namespace"
                    placeholder="myns.servicebus.windows.net"
                    help="Event Hubs namespace hosting the registry. The agent's identity needs the Schema Registry Reader role."
                  />
                  <TextField
                    {...f}
                    optional
                    path="format.schemaRegistry.groupName"
                    label="Schema group (optional)"
                    help="Only accept schemas of this group; others become dead letters."
                  />
                  <TextField
                    {...f}
                    optional
                    path="format.schemaRegistry.clientId"
                    label="Client id (optional)"
                    help="Managed identity client id; default: the pod's workload identity."
                  />
                </div>
              )}
            </div>
          )}
          <TextField
            {...f}
            path="batching.maxBytes"
            label="Max file size (bytes)"
            type="number"
            help="Flush a file at this uncompressed size; 1 MiB – 4 GiB. Default 128 MiB."
          />
          <TextField
            {...f}
            path="batching.maxEvents"
            label="Max events per file"
            type="number"
            help="Default 1,000,000."
          />
          <TextField
            {...f}
            path="batching.maxAgeSeconds"
            label="Max file age (seconds)"
            type="number"
            help="Flush this long after a file's first event; 1–3600. Default 300. The first file after the agent starts comes within 10 s."
          />
        </div>
      </Card>

      <Card title="Agent">
        <div className="grid gap-4 md:grid-cols-4">
          <TextField
            {...f}
            path="scaling.replicas"
            label="Replicas"
            type="number"
            help="0–32; replicas share the partitions."
          />
          <TextField {...f} path="scaling.cpu" label="CPU" help='Per replica, e.g. "250m" or "1".' />
          <TextField {...f} path="scaling.memory" label="Memory" help='Per replica, e.g. "512Mi" or "1Gi".' />
          <TextField
            {...f}
            path="reporting.intervalSeconds"
            label="Report every (s)"
            type="number"
            help="1–300 seconds."
          />
        </div>
      </Card>

      {formError && (
        <p
          role="alert"
          data-testid="form-error"
          className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
        >
          {formError}
        </p>
      )}
      {saved && (
        <div
          data-testid="saved"
          className="rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm"
        >
          {saved.unchanged ? (
            'Nothing changed; no new version.'
          ) : (
            <>
              Saved as version {saved.version}.
              <ConfigChanges changes={saved.changes} secretsChanged={saved.secretsChanged} />
              {saved.rollout && (
                <p
                  data-testid="rollout"
                  className={saved.rollout.outcome === 'failed' ? 'mt-1 text-red-700' : 'mt-1'}
                >
                  {saved.rollout.message}
                </p>
              )}
            </>
          )}
        </div>
      )}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={busy}>
          {busy ? 'Saving…' : mode === 'create' ? 'Create topic' : 'Save new version'}
        </Button>
        <Button
          variant="secondary"
          disabled={testConnection.isPending}
          onClick={() => {
            setTest(null);
            if (checked()) testConnection.mutate({ config: draft, name });
          }}
        >
          {testConnection.isPending ? 'Testing…' : 'Test connection'}
        </Button>
        <Button
          variant="secondary"
          disabled={previewEvents.isPending}
          onClick={() => {
            setPreview(null);
            if (checked()) previewEvents.mutate({ config: draft, name });
          }}
        >
          {previewEvents.isPending ? 'Reading events…' : 'Preview events'}
        </Button>
      </div>
      {test && <TestResults result={test} />}
      {preview && <PreviewResults result={preview} />}
    </form>
  );
}

export function ConfigChanges({
  changes,
  secretsChanged,
}: {
  changes: { path: string; before?: unknown; after?: unknown }[];
  secretsChanged: string[];
}) {
  const show = (v: unknown) =>
    v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  return (
    <ul className="mt-1 space-y-0.5 font-mono text-xs" data-testid="config-diff">
      {changes.map((c) => (
        <li key={c.path}>
          <span className="text-slate-600">{c.path}</span>:{' '}
          <span className="text-red-700 line-through">{show(c.before)}</span> →{' '}
          <span className="text-emerald-700">{show(c.after)}</span>
        </li>
      ))}
      {secretsChanged.map((s) => (
        <li key={s}>
          <span className="text-slate-600">{s}</span>: secret replaced
        </li>
      ))}
    </ul>
  );
}

function TestResults({ result }: { result: TestResult }) {
  return (
    <Card
      title={
        <>Test connection {result.ok ? <Badge tone="ok">passed</Badge> : <Badge tone="fail">failed</Badge>}</>
      }
    >
      <ul className="space-y-2 text-sm" data-testid="test-results">
        {result.checks.map((c) => (
          <li key={c.name} className="flex gap-3">
            <Badge tone={c.state} />
            <span className="font-medium">{c.name}</span>
            <span className="text-slate-600">{c.detail}</span>
          </li>
        ))}
      </ul>
      {result.partitions.length > 0 && (
        <table className="mt-4 w-full text-sm">
          <thead>
            <tr className="text-left text-slate-500">
              <th className="px-2 py-1">Partition</th>
              <th className="px-2 py-1 text-right">First sequence</th>
              <th className="px-2 py-1 text-right">Last sequence</th>
              <th className="px-2 py-1">Last enqueued</th>
            </tr>
          </thead>
          <tbody>
            {result.partitions.map((p) => (
              <tr key={p.partitionId} className="border-t border-slate-100">
                <td className="px-2 py-1">{p.partitionId}</td>
                <td className="px-2 py-1 text-right tabular-nums">{p.beginningSequenceNumber}</td>
                <td className="px-2 py-1 text-right tabular-nums">
                  {p.isEmpty ? 'empty' : p.lastEnqueuedSequenceNumber}
                </td>
                <td className="px-2 py-1">{p.lastEnqueuedAt ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function PreviewResults({ result }: { result: PreviewResult }) {
  return (
    <Card title={`Preview: the latest ${result.events.length} events`}>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-1">
          <h3 className="mb-2 text-sm font-semibold">Inferred fields</h3>
          <table className="w-full text-xs" data-testid="inferred-fields">
            <tbody>
              {result.fields.map((field) => (
                <tr key={field.path} className="border-t border-slate-100">
                  <td className="px-2 py-1 font-mono">{field.path}</td>
                  <td className="px-2 py-1 text-slate-600">{field.types.join(' | ')}</td>
                  <td className="px-2 py-1 text-right text-slate-500">
                    {field.seen}/{result.events.length}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="space-y-3 lg:col-span-2" data-testid="preview-events">
          {result.events.map((e) => (
            <details
              key={`${e.partitionId}-${e.sequenceNumber}`}
              className="rounded border border-slate-200"
              open={false}
            >
              <summary className="cursor-pointer px-3 py-1.5 text-xs text-slate-600">
                partition {e.partitionId} · #{e.sequenceNumber} · {e.enqueuedAt}{' '}
                {e.isJson ? '' : '· not JSON'}
              </summary>
              <pre className="overflow-x-auto bg-slate-50 p-3 text-xs">{e.text}</pre>
            </details>
          ))}
        </div>
      </div>
    </Card>
  );
}
