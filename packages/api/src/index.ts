export { finishOidc, OIDC_COOKIE, type OidcConfig, startOidc } from './auth/oidc.ts';
export { hasRole, ROLES } from './auth/roles.ts';
export { SecretBox } from './auth/secret-box.ts';
export { SESSION_COOKIE, sessionCookie, userForSession } from './auth/sessions.ts';
export { ensureAdmin } from './bootstrap.ts';
export {
  type ApiContext,
  type ApiServices,
  createContext,
  readCookie,
  type SecurityPolicy,
  type SessionUser,
} from './context.ts';
export { AppError } from './errors.ts';
export { handleApiRequest, MAX_BATCH_SIZE } from './http.ts';
export { type AppRouter, appRouter } from './root.ts';
export {
  type ReconcileProgress,
  type ReconcileResult,
  reconcileDeployments,
  reconcileProgress,
  refreshDeployments,
  startReconcile,
} from './services/deployments/deployments.ts';
export { runMaintenance, startMaintenance } from './services/maintenance.ts';
export { evaluateAlerts } from './services/telemetry/alerts.ts';
export { pruneMetrics, rollupMinutes } from './services/telemetry/metrics.ts';
export { webhookPoster } from './services/telemetry/webhook.ts';
export { createTopic, issueAgentToken, updateTopic } from './services/topics/topics.ts';
