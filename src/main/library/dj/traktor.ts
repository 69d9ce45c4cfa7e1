import { randomUUID } from 'node:crypto';
import type { CollectionWriter } from './collection';
import type { DjEntry } from './entries';
import { openKey, traktorKeyValue } from './keys';
import { attrs, fixed } from './xml';

/** The volume Traktor files a path under on macOS when it is not on an external `/Volumes/NAME`. */
export const MAC_STARTUP_VOLUME = 'Macintosh HD';

/**
 * Traktor's split of a path: VOLUME ("C:", a macOS volume name), DIR with every folder followed
 * by "/:" ("/:Music/:House/:"), FILE. Its playlists refer to a track by VOLUME + DIR + FILE.
 */
export function traktorLocation(path: string, platform: NodeJS.Platform = process.platform): { volume: string; dir: string; file: string; key: string } {
  let parts = (platform === 'win32' ? path.replace(/\\/g, '/') : path).split('/');
  let volume = '';
  if (platform === 'win32' && /^[A-Za-z]:$/.test(parts[0] ?? '')) volume = parts.shift()!;
  else if (parts[0] === '') {
    parts = parts.slice(1);
    const first: string | undefined = parts[0];
    if (platform === 'darwin' && first === 'Volumes' && parts.length > 2) {
      volume = parts[1]!;
      parts = parts.slice(2);
    } else if (platform === 'darwin') volume = MAC_STARTUP_VOLUME;
  }
  const file = parts.pop() ?? '';
  const dir = `/:${parts.map((p) => `${p}/:`).join('')}`;
  return { volume, dir, file, key: `${volume}${dir}${file}` };
}

/** Traktor's NML collection (VERSION 19): COLLECTION of ENTRY, one playlist of the selection. */
export function traktorWriter(playlistName: string, now = new Date()): CollectionWriter {
  const keys: string[] = [];
  const date = `${now.getFullYear()}/${now.getMonth() + 1}/${now.getDate()}`;
  const time = now.getHours() * 3600 + now.getMinutes() * 60 + now.getSeconds();
  return {
    begin: (count) =>
      `<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>\n` +
      `<MUSICFOLDERS></MUSICFOLDERS>\n<COLLECTION ENTRIES="${count}">\n`,
    entry: (e: DjEntry) => {
      const loc = traktorLocation(e.path);
      keys.push(loc.key);
      const parts = [
        `<ENTRY ${attrs({ MODIFIED_DATE: date, MODIFIED_TIME: time, TITLE: e.track.title, ARTIST: e.track.artist })}>`,
        `<LOCATION ${attrs({ DIR: loc.dir, FILE: loc.file, VOLUME: loc.volume, VOLUMEID: loc.volume })}></LOCATION>`,
        e.track.album ? `<ALBUM ${attrs({ TITLE: e.track.album })}></ALBUM>` : '',
        `<INFO ${attrs({
          KEY: e.key ? openKey(e.key) : null,
          PLAYTIME: e.duration === null ? null : Math.round(e.duration),
          PLAYTIME_FLOAT: e.duration === null ? null : fixed(e.duration, 6),
          IMPORT_DATE: date,
        })}></INFO>`,
        `<TEMPO ${attrs({ BPM: fixed(e.bpm, 6), BPM_QUALITY: fixed(100, 6) })}></TEMPO>`,
      ];
      const keyValue = e.key ? traktorKeyValue(e.key) : null;
      if (keyValue !== null) parts.push(`<MUSICAL_KEY VALUE="${keyValue}"></MUSICAL_KEY>`);
      // The beat grid: an AutoGrid cue (TYPE 4) at the first downbeat, START in milliseconds.
      if (e.grid) {
        parts.push(`<CUE_V2 ${attrs({ NAME: 'AutoGrid', DISPL_ORDER: 0, TYPE: 4, START: fixed(e.grid.start * 1000, 6), LEN: fixed(0, 6), REPEATS: -1, HOTCUE: 0 })}></CUE_V2>`);
      }
      return `${parts.filter(Boolean).join('\n')}\n</ENTRY>\n`;
    },
    end(count) {
      const lines = [
        `</COLLECTION>\n<SETS ENTRIES="0"></SETS>\n<PLAYLISTS><NODE TYPE="FOLDER" NAME="$ROOT"><SUBNODES COUNT="1">\n`,
        `<NODE ${attrs({ TYPE: 'PLAYLIST', NAME: playlistName })}><PLAYLIST ${attrs({ ENTRIES: count, TYPE: 'LIST', UUID: randomUUID().replace(/-/g, '') })}>\n`,
      ];
      for (const key of keys) lines.push(`<ENTRY><PRIMARYKEY ${attrs({ TYPE: 'TRACK', KEY: key })}></PRIMARYKEY></ENTRY>\n`);
      lines.push('</PLAYLIST></NODE>\n</SUBNODES></NODE></PLAYLISTS>\n</NML>\n');
      return lines;
    },
  };
}
