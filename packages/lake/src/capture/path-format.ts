import { type CaptureToken, capturePathFormatProblems, ValidationError } from '@hubcap/shared';

/** What a Capture blob name says about its file. */
export interface CaptureBlobName {
  partitionId: string;
  /** Start of the file's window (UTC), from the name's time tokens. */
  time: number;
}

/** A path format bound to one hub: where to list, and how to read a blob name. */
export interface CaptureLayout {
  /**
   * Listing prefix: the format's literal text before its first token. Namespace and hub are not part
   * of it: listings are case-sensitive, and Azure's names are not.
   */
  listPrefix: string;
  parse(blobName: string): CaptureBlobName | null;
}

const TOKEN = /\{([A-Za-z]+)\}/g;
const escaped = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const DIGITS: Partial<Record<CaptureToken, number>> = {
  Year: 4,
  Month: 2,
  Day: 2,
  Hour: 2,
  Minute: 2,
  Second: 2,
};

/**
 * Binds Capture's archive name format to a namespace (its first label) and hub. Capture appends `.avro`
 * to the last segment; namespace and hub are compared without case, as Azure treats them.
 */
export function captureLayout(format: string, namespace: string, hub: string): CaptureLayout {
  const problems = capturePathFormatProblems(format);
  if (problems.length > 0) throw new ValidationError('the Capture path format', problems);
  const fixed: Partial<Record<CaptureToken, string>> = { Namespace: namespace, EventHub: hub };
  const order: CaptureToken[] = [];
  let pattern = '';
  let last = 0;
  for (const match of format.matchAll(TOKEN)) {
    const token = match[1] as CaptureToken;
    const literal = format.slice(last, match.index);
    last = match.index + match[0].length;
    pattern += escaped(literal);
    order.push(token);
    const digits = DIGITS[token];
    pattern += digits ? `(\\d{${digits}})` : '([^/]+)';
  }
  pattern += `${escaped(format.slice(last))}\\.avro`;
  const regex = new RegExp(`^${pattern}$`);
  return {
    listPrefix: format.slice(0, format.indexOf('{')),
    parse(blobName) {
      const m = regex.exec(blobName);
      if (!m) return null;
      const value = Object.fromEntries(order.map((token, i) => [token, m[i + 1]!])) as Record<
        CaptureToken,
        string
      >;
      for (const token of ['Namespace', 'EventHub'] as const)
        if (value[token].toLowerCase() !== fixed[token]!.toLowerCase()) return null;
      const n = (token: CaptureToken) => Number(value[token]);
      const time = Date.UTC(n('Year'), n('Month') - 1, n('Day'), n('Hour'), n('Minute'), n('Second'));
      return Number.isNaN(time) ? null : { partitionId: value.PartitionId, time };
    },
  };
}
