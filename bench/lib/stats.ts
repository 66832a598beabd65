/** The q-quantile (0…1) of samples, sorting them in place. */
export function percentile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  samples.sort((a, b) => a - b);
  return samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
}

export const round = (value: number, digits = 1) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export const int = (value: number) => Math.round(value).toLocaleString("en");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
