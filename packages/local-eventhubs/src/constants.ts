/** Shared access key name used when none is configured (the same name Azure gives the namespace root key). */
export const DEFAULT_KEY_NAME = 'RootManageSharedAccessKey';

/**
 * Fixed development key, published on purpose (like Azurite's well-known account key).
 * Never use it for anything but local development and tests.
 */
export const DEV_SHARED_ACCESS_KEY = 'SGVicGNhcExvY2FsRGV2S2V5Tm90QVNlY3JldDAwMDA=';

/** Standard tier limit: the largest message (or batch envelope) a sender link accepts. */
export const MAX_MESSAGE_SIZE = 1024 * 1024;

export const DEFAULT_CONSUMER_GROUP = '$Default';

/** Message format of the batch envelope sent by `EventHubProducerClient.sendBatch`. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** Described-type code of `apache.org:selector-filter:string`. */
export const SELECTOR_FILTER_CODE = 0x468c00000004n;

/** The service allows at most 5 concurrent receivers per partition and consumer group. */
export const MAX_RECEIVERS_PER_PARTITION = 5;
