export { DEFAULT_KEY_NAME, DEV_SHARED_ACCESS_KEY, MAX_MESSAGE_SIZE } from './constants.ts';
export { parseSelectorFilter, type StartPosition } from './filter.ts';
export type { Retention } from './partition-log.ts';
export type {
  ApiGatewayEvent,
  Rng,
  SampleEvent,
  SampleEventOptions,
  SampleTraffic,
  SampleTrafficOptions,
} from './sample-traffic.ts';
export { createRng, sampleEvent, startSampleTraffic } from './sample-traffic.ts';
export { createSasToken, validateSasToken } from './sas.ts';
export type { HubOptions, LocalEventHubs, LocalEventHubsOptions } from './server.ts';
export { startLocalEventHubs } from './server.ts';
