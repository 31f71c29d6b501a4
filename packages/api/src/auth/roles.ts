import type { Role } from '@hubcap/db';

/** Least to most: each role may do everything the ones before it may. */
export const ROLES = ['viewer', 'editor', 'admin'] as const satisfies readonly Role[];

/** Whether someone with `role` may do what needs `required`. */
export const hasRole = (role: Role, required: Role): boolean =>
  ROLES.indexOf(role) >= ROLES.indexOf(required);
