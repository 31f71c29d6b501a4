import 'server-only';
import { refreshDeployments, startReconcile } from '@hubcap/api';
import { LocalRunner } from '@hubcap/deployer/local';
import { env } from '../env.ts';
import { services } from './services.ts';

const log = (line: string) => services().log.info(line);

/**
 * Runs once when the server starts: stops agents a killed predecessor left behind, stops local
 * agents with the server, and starts re-applying every recorded deployment (reporting drift) in the
 * background: the server answers at once, however slow the cluster is; the fleet page shows progress.
 */
export async function startDeployments(): Promise<void> {
  const { deployer } = services();
  if (!deployer) return;
  if (deployer instanceof LocalRunner) {
    await deployer.reapOrphans(log);
    // Next exits right after its own SIGTERM handling: tell every agent to drain now. Agents whose
    // server died without a signal notice their closed stdin and stop by themselves.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => deployer.signalAll());
    process.on('exit', () => deployer.signalAll());
  }
  followDeployments();
  if (!env().HUBCAP_RECONCILE_ON_START) return;
  void startReconcile(services(), log).then((results) => {
    const drifted = results.filter((r) => r.drift.length).length;
    const failed = results.filter((r) => r.outcome === 'failed').length;
    if (results.length)
      log(`reconciled ${results.length} deployment(s): ${drifted} drifted, ${failed} failed`);
  });
}

/** How often the recorded status of every deployment is read again from the deployer. */
const FOLLOW_INTERVAL_MS = 10_000;

/** Keeps recorded deployment status current (see refreshDeployments); errors are logged, never thrown. */
function followDeployments(): void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await refreshDeployments(services());
    } catch (error) {
      log(`deployment status refresh failed: ${(error as Error).message}`);
    } finally {
      running = false;
    }
  }, FOLLOW_INTERVAL_MS);
  timer.unref();
}
