export { SecretBox } from './auth/secret-box.ts';
export { SESSION_COOKIE, userForSession } from './auth/sessions.ts';
export { ensureAdmin } from './bootstrap.ts';
export { type ApiContext, type ApiServices, createContext, readCookie, type SessionUser } from './context.ts';
export { AppError } from './errors.ts';
export { type AppRouter, appRouter } from './root.ts';
export { createTopic, issueAgentToken, listTopics } from './services/topics.ts';
