export { reapOrphans, waitForRecordedAgents } from './processes.ts';
export { LocalRunner, type LocalRunnerOptions } from './runner.ts';
