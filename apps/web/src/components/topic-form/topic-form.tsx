'use client';

import type { AppRouter } from '@hubcap/api';
import type { Measurement } from '@hubcap/shared';
import { useMutation } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import type { Route } from 'next';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormProvider, type Path, useForm, useWatch } from 'react-hook-form';
import type { LocalServices } from '@/server/local-services.ts';
import { useTRPC } from '@/trpc/client.tsx';
import { Button, Card } from '../ui.tsx';
import { useSourceConflict } from '../use-source-conflict.ts';
import { AgentSection } from './agent-section.tsx';
import { DestinationSection } from './destination-section.tsx';
import { countErrors, type Draft, draftResolver, NEW_TOPIC } from './draft.ts';
import { TextField } from './fields.tsx';
import { FilesSection } from './files-section.tsx';
import { LocalServicesFill } from './local-services.tsx';
import {
  ConfigChanges,
  type PreviewResult,
  PreviewResults,
  type TestResult,
  TestResults,
} from './results.tsx';
import { SourceSection } from './source-section.tsx';

type Saved = inferRouterOutputs<AppRouter>['topic']['update'];

/**
 * Onboards a topic or edits one: the TopicConfig of @hubcap/shared as a form, checked with the same
 * schema as the procedures before anything is sent. An edit starts with every secret blank (kept).
 */
export function TopicForm({
  mode,
  initial = NEW_TOPIC,
  storedSecrets = [],
  localServices = null,
  measurement = { rates: null, problem: null },
}: {
  mode: 'create' | 'edit';
  initial?: Draft;
  storedSecrets?: string[];
  /** Only on the local platform: what "Use the local services" fills in. */
  localServices?: LocalServices | null;
  /** The topic's measured peak rates (edit); a new topic has none. */
  measurement?: Measurement;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const form = useForm<Draft>({ defaultValues: initial, resolver: draftResolver(storedSecrets) });
  const [formError, setFormError] = useState<string | null>(null);
  const [test, setTest] = useState<TestResult | null>(null);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [saved, setSaved] = useState<Saved | null>(null);
  const name = mode === 'edit' ? initial.topic : undefined;
  const source = useWatch({ control: form.control, name: 'source' });
  const sourceTaken = useSourceConflict(source, name);

  /** Server errors: per field when the server names fields, otherwise one line above the buttons. */
  const onServerError = (error: { message: string; data?: unknown }) => {
    const fieldErrors = (error.data as { fieldErrors?: Record<string, string> } | undefined)?.fieldErrors;
    if (fieldErrors && Object.keys(fieldErrors).length > 0) {
      for (const [path, message] of Object.entries(fieldErrors))
        form.setError(path.replace(/^config\./, '') as Path<Draft>, { type: 'server', message });
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

  /** Checks the draft first (nothing goes to the server while a field is wrong), then runs `send`. */
  const checked = (send: (config: Draft) => void) =>
    form.handleSubmit(
      (config) => {
        setFormError(null);
        send(config);
      },
      (errors) => setFormError(`Fix the ${countErrors(errors)} highlighted field(s).`),
    );

  const submit = checked((config) => {
    if (mode === 'create') create.mutate({ config });
    else update.mutate({ name: name!, config });
  });

  const busy = create.isPending || update.isPending;
  return (
    <FormProvider {...form}>
      <form
        noValidate
        className="space-y-6"
        onSubmit={(e) => {
          setSaved(null);
          void submit(e);
        }}
      >
        {localServices && <LocalServicesFill local={localServices} />}

        <Card title="Topic">
          <div className="grid gap-4 md:grid-cols-2">
            <TextField
              name="topic"
              label="Name"
              disabled={mode === 'edit'}
              help="Unique; lower-case letters, digits and dashes. Names the agent's Kubernetes objects and files."
            />
          </div>
        </Card>
        <SourceSection
          initialNamespace={initial.source.fullyQualifiedNamespace}
          storedSecrets={storedSecrets}
          sourceTaken={sourceTaken}
        />
        <DestinationSection storedSecrets={storedSecrets} />
        <FilesSection />
        <AgentSection measurement={measurement} />

        {formError && (
          <p
            role="alert"
            data-testid="form-error"
            className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
          >
            {formError}
          </p>
        )}
        {saved && <SavedNote saved={saved} />}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={busy}>
            {busy ? 'Saving…' : mode === 'create' ? 'Create topic' : 'Save new version'}
          </Button>
          <DraftAction
            label="Test connection"
            busyLabel="Testing…"
            pending={testConnection.isPending}
            onClick={() => {
              setTest(null);
              void checked((config) => testConnection.mutate({ config, name }))();
            }}
          />
          <DraftAction
            label="Preview events"
            busyLabel="Reading events…"
            pending={previewEvents.isPending}
            onClick={() => {
              setPreview(null);
              void checked((config) => previewEvents.mutate({ config, name }))();
            }}
          />
        </div>
        {test && <TestResults result={test} />}
        {preview && <PreviewResults result={preview} />}
      </form>
    </FormProvider>
  );
}

/** A check of the draft on the server that saves nothing (test connection, preview). */
function DraftAction(props: { label: string; busyLabel: string; pending: boolean; onClick: () => void }) {
  return (
    <Button variant="secondary" disabled={props.pending} onClick={props.onClick}>
      {props.pending ? props.busyLabel : props.label}
    </Button>
  );
}

function SavedNote({ saved }: { saved: Saved }) {
  return (
    <div data-testid="saved" className="rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm">
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
  );
}
