/**
 * Capacity planning from what the fleet measured: CPU per request and memory
 * per bear, hence how many requests per second and how many bears one
 * process takes before it runs out of a core (kept at 80 %) or of its memory
 * limit, and how many processes the fleet's load needs. The basis of every
 * figure is reported with it, so a wrong estimate can be traced to its input.
 */
import { linearFit } from './trends.js';
import type { Sample } from './sample.js';

export interface Capacity {
  readonly processes: number;
  readonly bears: number;
  readonly requestsPerSecond: number;
  /** CPU time per bear message, ms (idle work included, so an upper bound). */
  readonly cpuMsPerRequest: number | undefined;
  /** RSS per connected bear, MB: the slope of RSS against connected bears (undefined until bears varied). */
  readonly memoryPerBearMb: number | undefined;
  readonly perProcess: {
    readonly maxRequestsPerSecond: number | undefined;
    readonly maxBears: number | undefined;
    /** What binds first. */
    readonly limitedBy: 'cpu' | 'memory' | undefined;
  };
  /** Processes the current load needs at those limits. */
  readonly processesNeeded: number | undefined;
  readonly basis: readonly string[];
}

const MiB = 1048576;
/** Share of one core a process is planned to use. */
export const CPU_BUDGET = 0.8;

/**
 * `window` is the fleet over the capacity window; `timeline` its points (for memory per bear);
 * `memoryLimitMb` the per-process limit.
 */
export function planCapacity(window: Sample, timeline: readonly Sample[], memoryLimitMb: number): Capacity {
  const processes = Math.max(1, window.processes);
  const seconds = Math.max(1, window.dtMs) / 1000;
  const requestsPerSecond = window.requests / seconds;
  const bears = window.bears;
  const basis: string[] = [];
  const cpuMsPerRequest = window.requests > 0 ? window.cpuMs / window.requests : undefined;
  if (cpuMsPerRequest !== undefined) basis.push(`${window.cpuMs.toFixed(0)} ms CPU for ${window.requests} messages over ${(seconds / 60).toFixed(0)} min`);

  // RSS per bear, per process: the fleet's points divided by its process count.
  const perProcess = timeline.filter((s) => s.processes > 0).map((s) => [s.bears / s.processes, s.rssBytes / s.processes / MiB] as const);
  const bearsVary = perProcess.length >= 3 && Math.max(...perProcess.map((p) => p[0])) - Math.min(...perProcess.map((p) => p[0])) >= 10;
  const fit = bearsVary ? linearFit(perProcess) : undefined;
  let memoryPerBearMb: number | undefined;
  let baselineMb: number | undefined;
  if (fit && fit.slope > 0) {
    memoryPerBearMb = fit.slope;
    baselineMb = fit.intercept;
    basis.push(`memory per bear: slope of RSS against connected bears over ${perProcess.length} points`);
  } else {
    basis.push('memory per bear: not measured yet (connected bears must vary by 10 or more over the window to separate it from the baseline)');
  }

  const maxRequestsPerSecond = cpuMsPerRequest ? (CPU_BUDGET * 1000) / cpuMsPerRequest : undefined;
  const requestsPerBear = bears > 0 ? requestsPerSecond / bears : undefined;
  const bearsByCpu = maxRequestsPerSecond !== undefined && requestsPerBear ? maxRequestsPerSecond / requestsPerBear : undefined;
  const bearsByMemory = memoryPerBearMb && baselineMb !== undefined ? Math.max(0, memoryLimitMb - baselineMb) / memoryPerBearMb : undefined;
  const candidates = [['cpu', bearsByCpu], ['memory', bearsByMemory]].filter((c): c is ['cpu' | 'memory', number] => c[1] !== undefined);
  const binding = candidates.sort((a, b) => a[1] - b[1])[0];
  const maxBears = binding ? Math.floor(binding[1]) : undefined;
  if (binding) basis.push(`bears per process limited by ${binding[0]} (${CPU_BUDGET * 100} % of a core, ${memoryLimitMb} MB)`);
  const needed = [
    maxBears ? bears / maxBears : undefined,
    maxRequestsPerSecond ? requestsPerSecond / maxRequestsPerSecond : undefined,
  ].filter((x): x is number => x !== undefined);
  return {
    processes,
    bears,
    requestsPerSecond,
    cpuMsPerRequest,
    memoryPerBearMb,
    perProcess: { maxRequestsPerSecond, maxBears, limitedBy: binding?.[0] },
    processesNeeded: needed.length > 0 ? Math.max(1, Math.ceil(Math.max(...needed))) : undefined,
    basis,
  };
}
