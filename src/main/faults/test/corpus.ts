/**
 * The hostile input corpus, generated into a folder: broken audio, lying headers, odd names,
 * symlink loops, a folder of thousands of files, duplicates, tags holding HTML. `expect` says
 * what `library.add` must answer for each input.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sineWav } from '../../../test/fixtures';
import { pythonEnvironment } from '../../sidecar/environment';

export const HTML_TITLE = '<img src=x onerror=alert(1)>';

export interface CorpusEntry {
  name: string;
  input: string;
  /** 'track': imported (a correct result); otherwise the error code(s) accepted. */
  expect: 'track' | 'duplicate' | string[];
}

/** The bundled ffmpeg (imageio-ffmpeg in the sidecar's venv). */
export function ffmpegExe(): string {
  const env = pythonEnvironment();
  const r = spawnSync(env.python, ['-c', 'import imageio_ffmpeg;print(imageio_ffmpeg.get_ffmpeg_exe())'], { encoding: 'utf8', cwd: repoRoot });
  if (r.status !== 0) throw new Error(`no bundled ffmpeg: ${r.stderr}`);
  return r.stdout.trim();
}

function ffmpeg(args: string[]): void {
  const r = spawnSync(ffmpegExe(), ['-nostdin', '-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

function truncate(src: string, dest: string, fraction: number): string {
  const data = readFileSync(src);
  writeFileSync(dest, data.subarray(0, Math.floor(data.length * fraction)));
  return dest;
}

function random(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function buildCorpus(dir: string, options: { manyFiles?: number } = {}): CorpusEntry[] {
  mkdirSync(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  const entries: CorpusEntry[] = [];
  const add = (name: string, input: string, expect: CorpusEntry['expect']) => entries.push({ name, input, expect });

  // Real audio to derive broken files from.
  const wav = p('source.wav');
  writeFileSync(wav, sineWav(4, { freq: 440 }));
  const mp3 = p('good.mp3');
  ffmpeg(['-i', wav, '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  const flac = p('good.flac');
  ffmpeg(['-i', wav, '-c:a', 'flac', flac]);

  writeFileSync(p('empty.mp3'), '');
  add('0-byte file', p('empty.mp3'), ['NOT_AUDIO']);
  writeFileSync(p('noise.wav'), random(64 * 1024, 7));
  add('random bytes named .wav', p('noise.wav'), ['NOT_AUDIO']);
  writeFileSync(p('noise.flac'), random(16 * 1024, 11));
  add('random bytes named .flac', p('noise.flac'), ['NOT_AUDIO']);
  writeFileSync(p('readme.mp3'), 'This is a text file, not an MP3.\n'.repeat(50));
  add('text file renamed .mp3', p('readme.mp3'), ['NOT_AUDIO']);
  add('truncated MP3 (40%)', truncate(mp3, p('truncated.mp3'), 0.4), 'track');
  add('truncated FLAC (40%)', truncate(flac, p('truncated.flac'), 0.4), 'track');
  add('truncated WAV (40%, header says more)', truncate(wav, p('truncated.wav'), 0.4), 'track');
  add('WAV header only', truncate(wav, p('header-only.wav'), 44 / readFileSync(wav).length), ['NOT_AUDIO']);

  // A WAV whose header claims hours of audio but holds 100 bytes.
  const liar = Buffer.from(sineWav(0.01).subarray(0, 144));
  liar.writeUInt32LE(0xfffffff0, 4);
  liar.writeUInt32LE(0xffffffd0, 40);
  writeFileSync(p('hours.wav'), liar);
  add('WAV header claiming hours, 100 bytes of data', p('hours.wav'), ['NOT_AUDIO', 'track']);
  writeFileSync(p('one-sample.wav'), sineWav(1 / 44_100, { channels: 1 }));
  add('1-sample WAV', p('one-sample.wav'), ['NOT_AUDIO', 'track']);

  // Names: each is a copy of distinct real audio (different content, so distinct tracks).
  const names = [
    'Ünïcødé 音楽 🎵 ñ.wav',
    'spaces  in   name .wav',
    `it's a "quoted" name.wav`,
    '$(touch sfa-pwned) `id`.wav',
    '-rf --help.wav',
    `${'x'.repeat(251)}.wav`,
    'semi;colon&amp|pipe>.wav',
    'new\nline.wav',
  ];
  names.forEach((name, i) => {
    writeFileSync(p(name), sineWav(1, { freq: 200 + 37 * i }));
    add(`file name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 12)}…(${name.length} chars)` : name)}`, p(name), 'track');
  });

  // Symlink loops: a folder containing a link to itself, and a link that points at itself.
  const loopDir = p('loop');
  mkdirSync(loopDir);
  writeFileSync(join(loopDir, 'in-loop.wav'), sineWav(1, { freq: 777 }));
  symlinkSync(loopDir, join(loopDir, 'again'));
  symlinkSync('self.wav', p('self.wav'));
  add('folder with a symlink loop', loopDir, 'track');
  add('symlink pointing at itself', p('self.wav'), ['FILE_NOT_FOUND', 'UNREADABLE', 'NOT_AUDIO']);

  // Duplicates: the same content twice under two names is one track.
  copyFileSync(mp3, p('dup-a.mp3'));
  copyFileSync(mp3, p('dup-b.mp3'));
  add('duplicate A', p('dup-a.mp3'), 'track');
  add('duplicate B (same content)', p('dup-b.mp3'), 'duplicate');

  // Tags holding HTML: stored and shown as text.
  ffmpeg(['-i', wav, '-metadata', `title=${HTML_TITLE}`, '-metadata', 'artist=<script>alert("x")</script>', '-c:a', 'libmp3lame', '-b:a', '96k', p('html-title.mp3')]);
  add('HTML in the title and artist tags', p('html-title.mp3'), 'track');

  // A folder with thousands of tiny non-audio files and a few audio ones.
  const many = p('many');
  mkdirSync(many);
  for (let i = 0; i < (options.manyFiles ?? 3000); i++) writeFileSync(join(many, `note-${i}.txt`), `n${i}`);
  for (let i = 0; i < 3; i++) writeFileSync(join(many, `tune-${i}.wav`), sineWav(0.5, { freq: 300 + 50 * i }));
  add('folder of 3,000 tiny files and 3 audio', many, 'track');
  return entries;
}
