export * from './capture/index.ts';
