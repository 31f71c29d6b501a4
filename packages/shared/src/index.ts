export * from './agent-report.ts';
export * from './agent-runtime.ts';
export * from './capture-cutover.ts';
export * from './endpoints.ts';
export * from './path-template.ts';
export * from './source-key.ts';
export * from './topic-config.ts';
export * from './validation.ts';
