export * from './manifests.ts';
export * from './names.ts';
export * from './types.ts';
