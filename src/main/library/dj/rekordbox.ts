import { extname } from 'node:path';
import { appVersion } from '../../paths';
import type { CollectionWriter } from './collection';
import type { DjEntry } from './entries';
import { standardKey } from './keys';
import { attrs, fixed } from './xml';

const KINDS: Record<string, string> = {
  '.mp3': 'MP3 File', '.wav': 'WAV File', '.aif': 'AIFF File', '.aiff': 'AIFF File', '.flac': 'FLAC File', '.m4a': 'M4A File', '.mp4': 'M4A File', '.ogg': 'OGG File',
};

/**
 * `file://localhost/` + the path, every segment percent-encoded (UTF-8), a drive letter kept:
 * what rekordbox writes in `Location` ("file://localhost/C:/Music/My%20Track.mp3").
 */
export function rekordboxLocation(path: string, platform: NodeJS.Platform = process.platform): string {
  const slashed = platform === 'win32' ? path.replace(/\\/g, '/') : path;
  const segments = slashed.split('/').map((segment, i) => (i === 0 && /^[A-Za-z]:$/.test(segment) ? segment : encodeURIComponent(segment)));
  const joined = segments.join('/');
  return `file://localhost${joined.startsWith('/') ? '' : '/'}${joined}`;
}

/** rekordbox's XML collection format (DJ_PLAYLISTS 1.0.0): COLLECTION of TRACK, one playlist of the selection. */
export function rekordboxWriter(playlistName: string): CollectionWriter {
  return {
    begin: (count) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n` +
      `  <PRODUCT ${attrs({ Name: 'Sound Forge Alchemy', Version: appVersion(), Company: 'Sound Forge Alchemy' })}/>\n` +
      `  <COLLECTION Entries="${count}">\n`,
    entry: (e: DjEntry, index: number) => {
      const track = attrs({
        TrackID: index,
        Name: e.track.title,
        Artist: e.track.artist ?? '',
        Album: e.track.album ?? '',
        Kind: KINDS[extname(e.path).toLowerCase()] ?? 'Audio File',
        TotalTime: e.duration === null ? null : Math.round(e.duration),
        AverageBpm: fixed(e.bpm, 2),
        SampleRate: e.track.sampleRate,
        Tonality: e.key ? standardKey(e.key) : null,
        Location: rekordboxLocation(e.path),
      });
      if (!e.markers.length) return `    <TRACK ${track}/>\n`;
      const tempos = e.markers.map((m) => `      <TEMPO ${attrs({ Inizio: fixed(m.start, 3), Bpm: fixed(m.bpm, 2), Metro: `${m.beatsPerBar}/4`, Battito: m.beatInBar })}/>\n`);
      return `    <TRACK ${track}>\n${tempos.join('')}    </TRACK>\n`;
    },
    end(count: number) {
      const lines = [`  </COLLECTION>\n  <PLAYLISTS>\n    <NODE Type="0" Name="ROOT" Count="1">\n`];
      lines.push(`      <NODE ${attrs({ Name: playlistName, Type: 1, KeyType: 0, Entries: count })}>\n`);
      for (let i = 1; i <= count; i++) lines.push(`        <TRACK Key="${i}"/>\n`);
      lines.push('      </NODE>\n    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n');
      return lines;
    },
  };
}
