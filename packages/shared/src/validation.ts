import type { z } from 'zod';

/** A value failed a schema; `problems` holds one plain-words line per problem, each naming its field. */
export class ValidationError extends Error {
  readonly problems: string[];

  constructor(subject: string, problems: string[]) {
    super(`${subject} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Dotted path of an issue, e.g. `source.auth.connectionString` or `partitions[2].lagEvents`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

/** One line per issue: `<field>: <what is wrong>`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${fieldPath([...issue.path, key])}: is not a known field`)
      : [`${fieldPath(issue.path)}: ${issue.message}`],
  );
}

/** Parses `input` or throws a ValidationError that names every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(subject, describeIssues(result.error));
  return result.data;
}
