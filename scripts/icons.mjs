#!/usr/bin/env node
/**
 * Renders the app icon: `resources/icon.svg` (the source) and `resources/icon.png` (512x512, what
 * electron-builder turns into .icns / .ico / Linux icon sizes). The drawing is a few shapes, so the
 * PNG is rasterised here (4x4 supersampling) and written with a tiny PNG encoder: no dependencies.
 * Run `node scripts/icons.mjs` after editing the shapes below; both files are committed.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIZE = 512;
/** Background: a rounded square. Foreground: five stem bars (drums, bass, other, vocals, guitar). */
const background = { x: 32, y: 32, w: 448, h: 448, r: 96, color: '#1b1f2a' };
const bars = [
  { x: 112, y: 196, w: 40, h: 120, color: '#ff6b6b' },
  { x: 176, y: 136, w: 40, h: 240, color: '#ffb84d' },
  { x: 240, y: 96, w: 40, h: 320, color: '#4dd4ff' },
  { x: 304, y: 156, w: 40, h: 200, color: '#7cff8a' },
  { x: 368, y: 216, w: 40, h: 80, color: '#c58bff' },
].map((b) => ({ ...b, r: 20 }));
const shapes = [background, ...bars];

export function svg() {
  const rect = (s) => `  <rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" rx="${s.r}" fill="${s.color}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">\n${shapes.map(rect).join('\n')}\n</svg>\n`;
}

const inside = (s, px, py) => {
  if (px < s.x || px > s.x + s.w || py < s.y || py > s.y + s.h) return false;
  const cx = Math.min(Math.max(px, s.x + s.r), s.x + s.w - s.r);
  const cy = Math.min(Math.max(py, s.y + s.r), s.y + s.h - s.r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= s.r ** 2;
};
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

export function png() {
  const SS = 4;
  const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE);
  const colors = shapes.map((s) => rgb(s.color));
  for (let y = 0; y < SIZE; y++) {
    raw[y * (SIZE * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < SIZE; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const px = x + (sx + 0.5) / SS;
          const py = y + (sy + 0.5) / SS;
          for (let i = shapes.length - 1; i >= 0; i--) {
            if (inside(shapes[i], px, py)) {
              const c = colors[i];
              acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255;
              break;
            }
          }
        }
      }
      const n = SS * SS;
      const alpha = acc[3] / n;
      const o = y * (SIZE * 4 + 1) + 1 + x * 4;
      // colour averaged over covered samples (no dark fringe), coverage as alpha
      const covered = acc[3] / 255 || 1;
      raw[o] = Math.round(acc[0] / covered);
      raw[o + 1] = Math.round(acc[1] / covered);
      raw[o + 2] = Math.round(acc[2] / covered);
      raw[o + 3] = Math.round(alpha);
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIZE, 0);
  ihdr.writeUInt32BE(SIZE, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(root, 'resources', 'icon.svg'), svg());
  writeFileSync(join(root, 'resources', 'icon.png'), png());
  process.stdout.write('wrote resources/icon.svg and resources/icon.png (512x512)\n');
}
