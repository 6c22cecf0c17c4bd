/**
 * `/metrics` of a gateway run with `--workers`: Prometheus scrapes one port
 * and whichever worker takes the connection answers, so the answer must be
 * the whole gateway's. The worker asks its primary over the cluster IPC
 * channel; the primary gathers every worker's registry with prom-client's
 * AggregatorRegistry (counters, histograms and gauges summed across workers)
 * and hands the text back. A worker that cannot get the aggregate in time
 * answers with its own metrics rather than nothing.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'teddy:metrics-request';
const RESPONSE = 'teddy:metrics';
const TIMEOUT_MS = 5000;

interface MetricsRequest {
  event: typeof REQUEST;
  rid: string;
}
interface MetricsResponse {
  event: typeof RESPONSE;
  rid: string;
  text?: string;
  error?: string;
}

/** In the primary: answers the workers' requests for the aggregate. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, m: MetricsRequest) => {
    if (m?.event !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ event: RESPONSE, rid: m.rid, text } satisfies MetricsResponse),
      (err: Error) => worker.send({ event: RESPONSE, rid: m.rid, error: err.message } satisfies MetricsResponse),
    );
  });
}

/** In a worker: offers `registry` to the primary's aggregation and returns how to read the aggregate. */
export function workerMetricsText(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's listener for the primary's collection requests.
  new AggregatorRegistry();
  const waiting = new Map<string, (m: MetricsResponse) => void>();
  process.on('message', (m: MetricsResponse) => {
    if (m?.event === RESPONSE) waiting.get(m.rid)?.(m);
  });
  return () =>
    new Promise((resolve) => {
      const rid = randomUUID();
      const own = (): void => void registry.metrics().then(resolve);
      const timer = setTimeout(() => {
        waiting.delete(rid);
        own();
      }, TIMEOUT_MS);
      waiting.set(rid, (m) => {
        clearTimeout(timer);
        waiting.delete(rid);
        if (m.text !== undefined) resolve(m.text);
        else own();
      });
      process.send?.({ event: REQUEST, rid } satisfies MetricsRequest);
    });
}
