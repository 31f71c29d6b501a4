export * from './agent-report.ts';
export * from './agent-runtime.ts';
export { type FieldInfo, fieldInfo } from './config-reference.ts';
export * from './endpoints.ts';
export * from './path-template.ts';
export * from './secrets.ts';
export * from './source-key.ts';
export * from './topic-config.ts';
export * from './validation.ts';
