export { type CheckpointTarget, seedCheckpoints } from './checkpoints.ts';
export { CAPTURE_USAGE, runCaptureCommand } from './cli.ts';
export { type CaptureSource, capturePlan, continuityReport, type HubcapLanding } from './cutover.ts';
export { landedRanges } from './landed.ts';
export { captureLayout } from './path-format.ts';
export { CaptureFileError, readCaptureFile } from './read-file.ts';
export { StorageUnreachableError } from './scan.ts';
