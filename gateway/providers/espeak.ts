/**
 * Speech from the espeak-ng command line (Debian package espeak-ng), when it
 * is installed: text goes in on stdin (never argv, which `ps` shows), a
 * 16-bit mono WAV comes out on stdout.
 */
import { spawn } from 'node:child_process';

export interface Pcm {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

/** True when `espeak-ng` runs. */
export function espeakAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('espeak-ng', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** `voice` is an espeak-ng voice name (e.g. `en-us+m3`), chosen by the caller from a fixed list. */
export function espeak(text: string, voice: string): Promise<Pcm> {
  return new Promise((resolve, reject) => {
    const child = spawn('espeak-ng', ['-v', voice, '--stdout'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`espeak-ng exited ${code}: ${stderr.trim().slice(0, 200)}`));
      try {
        resolve(parseWav(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    child.stdin.end(text);
  });
}

/** Parses a PCM16 mono RIFF/WAV. espeak-ng streams, so the data chunk's size may be a placeholder: read to the end. */
export function parseWav(wav: Buffer): Pcm {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file');
  }
  let sampleRate = 0;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('ascii', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      const format = wav.readUInt16LE(body);
      const channels = wav.readUInt16LE(body + 2);
      const bits = wav.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error('WAV is not 16-bit mono PCM');
      sampleRate = wav.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (!sampleRate) throw new Error('WAV data before fmt');
      const end = Math.min(wav.length, body + size);
      const bytes = wav.subarray(body, body + ((end - body) & ~1));
      const samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      return { samples, sampleRate };
    }
    at = body + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}
