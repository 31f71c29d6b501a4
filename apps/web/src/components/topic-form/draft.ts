import {
  Batching,
  Format,
  fieldInfo,
  fieldPath,
  getPath,
  isKept,
  PathTemplate,
  Reporting,
  Scaling,
  TopicConfig,
  type TopicConfigInput,
} from '@hubcap/shared';
import { type FieldErrors, type Path, type Resolver, set } from 'react-hook-form';

/** What the form edits: a TopicConfig as a person writes it, checked with the procedures' schema. */
export type Draft = TopicConfigInput;
/** A field of the form, e.g. `source.auth.connectionString`: a typo is a type error. */
export type FieldName = Path<Draft>;

const defaultOf = <T>(name: FieldName) => fieldInfo(name).default as T;

export type DestinationKind = Draft['destination']['kind'];
export type AuthKind = Draft['source']['auth']['kind'];
export type FormatType = NonNullable<Draft['format']>['type'];

/** A destination of one kind, its defaults filled in. */
export function newDestination<K extends DestinationKind>(
  kind: K,
): Extract<Draft['destination'], { kind: K }> {
  const destination: Draft['destination'] =
    kind === 'localFolder'
      ? { kind, path: '' }
      : {
          kind: 'azureBlob',
          account: newAccount('connectionString'),
          container: '',
          prefix: defaultOf('destination.prefix'),
          checkpointContainer: defaultOf('destination.checkpointContainer'),
        };
  return destination as Extract<Draft['destination'], { kind: K }>;
}

/** Storage authentication of one kind, blank. */
export const newAccount = (kind: AuthKind) =>
  kind === 'connectionString' ? { kind, connectionString: '' } : { kind, accountUrl: '' };

/** A format of one type, with that type's defaults (e.g. Avro's codec). */
export const newFormat = (type: FormatType) => Format.parse({ type });

/**
 * A new topic's starting point: every default of the schema, visible in the form. The namespace comes
 * from the connection string; it is a field of its own only with workload identity.
 */
export const NEW_TOPIC: Draft = {
  topic: '',
  source: {
    eventHubName: '',
    consumerGroup: defaultOf('source.consumerGroup'),
    auth: { kind: 'connectionString', connectionString: '' },
    startPosition: defaultOf('source.startPosition'),
  },
  destination: newDestination('azureBlob'),
  pathTemplate: PathTemplate.parse(undefined),
  format: Format.parse(undefined),
  batching: Batching.parse({}),
  scaling: Scaling.parse({}),
  reporting: Reporting.parse({}),
};

/**
 * Checks a draft with TopicConfig, as the server will. A stored secret left blank is kept by the
 * server, so it is no error here. The draft itself is what the form sends: the server fills defaults.
 */
export function draftResolver(storedSecrets: readonly string[]): Resolver<Draft> {
  return (values) => {
    const result = TopicConfig.safeParse(values);
    const issues = (result.error?.issues ?? []).filter((issue) => {
      const path = fieldPath(issue.path);
      return !(storedSecrets.includes(path) && isKept(getPath(values, path)));
    });
    if (issues.length === 0) return { values, errors: {} };
    const errors: FieldErrors<Draft> = {};
    for (const issue of issues) {
      const path = fieldPath(issue.path);
      if (!getPath(errors, path)) set(errors, path, { type: issue.code, message: issue.message });
    }
    return { values: {}, errors };
  };
}

/** How many fields have an error. */
export function countErrors(errors: object): number {
  return Object.values(errors).reduce<number>(
    (n, error) =>
      n +
      (typeof error?.message === 'string' ? 1 : error && typeof error === 'object' ? countErrors(error) : 0),
    0,
  );
}
