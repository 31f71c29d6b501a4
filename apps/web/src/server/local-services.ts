import 'server-only';
import { env } from '../env.ts';

export interface LocalServices {
  eventHubsConnectionString: string;
  storageConnectionString: string;
  eventHub: string;
  consumerGroup: string;
}

/** The local platform's emulators (`npm start`), or null on a real deployment. */
export function localServices(): LocalServices | null {
  const e = env();
  if (!e.HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING || !e.HUBCAP_LOCAL_STORAGE_CONNECTION_STRING) return null;
  return {
    eventHubsConnectionString: e.HUBCAP_LOCAL_EVENTHUBS_CONNECTION_STRING,
    storageConnectionString: e.HUBCAP_LOCAL_STORAGE_CONNECTION_STRING,
    eventHub: e.HUBCAP_LOCAL_EVENT_HUB,
    consumerGroup: e.HUBCAP_LOCAL_CONSUMER_GROUP,
  };
}
