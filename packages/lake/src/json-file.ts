import { describeIssues } from '@hubcap/shared';
import type { z } from 'zod';

/**
 * A small JSON file verify reads (a manifest, a marker) checked against its schema, or why it cannot be
 * read: hostile content ends here as a sentence, never a crash.
 */
export function parseJsonFile<T>(
  bytes: Buffer,
  schema: z.ZodType<T>,
  noun: string,
  maxMiB: number,
): T | string {
  if (bytes.byteLength > maxMiB * 1024 * 1024) return `is larger than ${maxMiB} MiB`;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return `is not UTF-8 JSON (${(error as Error).message})`;
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? parsed.data
    : `is not ${noun}: ${describeIssues(parsed.error).slice(0, 5).join('; ')}`;
}
