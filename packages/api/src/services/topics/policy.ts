import { isAbsolute, relative, resolve, sep } from 'node:path';
import { type TopicConfig, topicEndpointProblems } from '@hubcap/shared';
import type { SecurityPolicy } from '../../context.ts';
import { AppError, type FieldErrors } from '../../errors.ts';

/**
 * What the operator's policy refuses in a valid config: endpoints outside Azure that the operator has
 * not allowed (the server would connect there on a user's behalf), and local-folder destinations unless
 * enabled and inside the configured root (the server would create folders and files there).
 */
export function policyProblems(
  config: TopicConfig,
  policy: SecurityPolicy,
): { field: string; message: string }[] {
  const problems = topicEndpointProblems(config, policy.allowedEndpoints);
  const { destination } = config;
  if (destination.kind === 'localFolder') {
    const root = policy.localFolderRoot;
    if (!root) {
      problems.push({
        field: 'destination.kind',
        message:
          'local folders are a development feature this server does not enable (HUBCAP_LOCAL_FOLDER_ROOT); use Azure Blob Storage',
      });
    } else if (!insideRoot(destination.path, root)) {
      problems.push({
        field: 'destination.path',
        message: `must be an absolute path inside ${resolve(root)}`,
      });
    }
  }
  return problems;
}

function insideRoot(path: string, root: string): boolean {
  if (!isAbsolute(path)) return false;
  const rel = relative(resolve(root), resolve(path));
  return rel.split(sep)[0] !== '..' && !isAbsolute(rel);
}

/** Throws the policy's problems as field errors (the first per field), so forms show each next to its field. */
export function assertPolicy(config: TopicConfig, policy: SecurityPolicy): void {
  const problems = policyProblems(config, policy);
  if (problems.length === 0) return;
  const fieldErrors: FieldErrors = {};
  for (const { field, message } of problems) fieldErrors[field] ??= message;
  throw AppError.invalid(fieldErrors);
}
