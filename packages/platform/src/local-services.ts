import { TRIAL_CONSUMER_GROUP, TRIAL_HUB } from './demo-topic.ts';

/**
 * The hub the local platform offers for trying onboarding: its own hub and consumer group, so a new
 * topic never competes with the demo topic (which reads the hub "demo") for partitions.
 */
export const TRY_HUB = { name: TRIAL_HUB, consumerGroup: TRIAL_CONSUMER_GROUP } as const;

/**
 * What the web server needs for the form's "Use the local services" fill-in. These are development
 * credentials of local emulators (Azurite's well-known key), printed by the launcher as well.
 */
export function localServices(eventHubsConnectionString: string, storageConnectionString: string) {
  return {
    HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING: eventHubsConnectionString,
    HUBCAP_LOCAL_STORAGE_CONNECTION_STRING: storageConnectionString,
    HUBCAP_LOCAL_EVENT_HUB: TRY_HUB.name,
    HUBCAP_LOCAL_CONSUMER_GROUP: TRY_HUB.consumerGroup,
  };
}
