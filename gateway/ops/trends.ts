/**
 * Trends: per metric, the least-squares slope over a window of chart points
 * and, where the metric has a limit, when it crosses it at that slope
 * ("L1 reaches l1MaxSizeMb (256 MB) in about 3 days"). A straight line over
 * the last day is a forecast an operator can check by eye on the chart next
 * to it; it says nothing about next week's traffic, and says so by only
 * forecasting inside the horizon.
 */

export interface TrendInput {
  readonly metric: string;
  readonly unit: string;
  /** [t ms, value] oldest first. */
  readonly points: readonly (readonly [number, number])[];
  /** The bound it must stay under (or over, for `falling` metrics), and its name. */
  readonly limit?: { readonly value: number; readonly name: string; readonly direction: 'above' | 'below' };
}

export interface Trend {
  readonly metric: string;
  readonly unit: string;
  readonly current: number;
  /** Change per hour at the fitted slope. */
  readonly slopePerHour: number;
  readonly windowHours: number;
  readonly points: number;
  readonly limit?: TrendInput['limit'];
  /** When the fitted line crosses the limit (ms since the epoch), if it heads there within the horizon. */
  readonly crossesAt?: number;
  readonly message: string;
}

/** Forecasts further out than this are not made. */
export const HORIZON_MS = 30 * 86_400_000;
/** A slope over less history than this is noise (a burst, a warm-up), not a trend. */
export const MIN_SPAN_MS = 15 * 60_000;
const HOUR = 3_600_000;

export function linearFit(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  const x0 = points[0]![0];
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) {
    const dx = x - x0;
    sx += dx; sy += y; sxx += dx * dx; sxy += dx * y;
  }
  const den = n * sxx - sx * sx;
  if (den === 0) return undefined;
  const slope = (n * sxy - sx * sy) / den;
  return { slope, intercept: (sy - slope * sx) / n - slope * x0 };
}

export function humanDuration(ms: number): string {
  if (ms < 2 * HOUR) return `about ${Math.max(1, Math.round(ms / 60_000))} minutes`;
  if (ms < 48 * HOUR) return `about ${Math.round(ms / HOUR)} hours`;
  return `about ${Math.round(ms / (24 * HOUR))} days`;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(1) : x.toPrecision(2));

export function trendOf(input: TrendInput, now: number): Trend | undefined {
  const fit = linearFit(input.points);
  if (!fit) return undefined;
  const first = input.points[0]![0];
  const last = input.points[input.points.length - 1]!;
  if (last[0] - first < MIN_SPAN_MS) return undefined;
  const current = last[1];
  const slopePerHour = fit.slope * HOUR;
  const base = { metric: input.metric, unit: input.unit, current, slopePerHour, windowHours: (last[0] - first) / HOUR, points: input.points.length, limit: input.limit };
  const rising = `${slopePerHour >= 0 ? '+' : ''}${fmt(slopePerHour)} ${input.unit}/h`;
  const lim = input.limit;
  if (!lim) return { ...base, message: `${input.metric}: ${fmt(current)} ${input.unit}, ${rising}` };
  const over = lim.direction === 'above' ? current >= lim.value : current <= lim.value;
  if (over) return { ...base, crossesAt: now, message: `${input.metric} is past ${lim.name} (${fmt(lim.value)} ${input.unit}) now: ${fmt(current)} ${input.unit}` };
  const heading = lim.direction === 'above' ? fit.slope > 0 : fit.slope < 0;
  // From the fitted line at `now`, so one noisy last point does not move the forecast.
  const fitted = fit.intercept + fit.slope * now;
  const eta = heading ? (lim.value - fitted) / fit.slope : Infinity;
  if (!heading || eta > HORIZON_MS) {
    return { ...base, message: `${input.metric}: ${fmt(current)} ${input.unit}, ${rising}; does not reach ${lim.name} (${fmt(lim.value)} ${input.unit}) within 30 days at this slope` };
  }
  const crossesAt = now + Math.max(0, eta);
  return { ...base, crossesAt, message: `${input.metric} reaches ${lim.name} (${fmt(lim.value)} ${input.unit}) in ${humanDuration(crossesAt - now)} at ${rising}` };
}
