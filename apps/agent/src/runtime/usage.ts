import { readFileSync } from 'node:fs';

/** This process's CPU time (user + system, every thread) and peak RSS so far. */
export function processUsage(): { cpuSeconds: number; maxRssBytes: number | undefined } {
  const usage = process.resourceUsage();
  return { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssBytes: peakRss() };
}

/** Peak RSS (VmHWM); ru_maxrss would include a forking parent's peak. */
function peakRss(): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
