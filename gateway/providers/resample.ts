/**
 * Sample-rate conversion for speech: each output sample is the mean of the
 * input samples it covers (a box low-pass, enough to keep aliasing out of
 * 8 kHz telephone-band speech) — no DSP dependency for a demo voice.
 */
export function resample(input: Int16Array, fromHz: number, toHz: number): Int16Array {
  if (fromHz === toHz) return input;
  const ratio = fromHz / toHz;
  const out = new Int16Array(Math.floor(input.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const start = Math.floor(i * ratio);
    const end = Math.max(start + 1, Math.min(input.length, Math.floor((i + 1) * ratio)));
    let sum = 0;
    for (let j = start; j < end; j++) sum += input[j]!;
    out[i] = Math.round(sum / (end - start));
  }
  return out;
}
