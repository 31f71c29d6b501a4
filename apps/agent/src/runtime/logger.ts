// The agent logs in the control plane's shape (service, version, ISO time, censored secrets).
export { createLogger, type Logger, scrubSecrets } from '@hubcap/log';
