import type { CollectionWriter } from './collection';
import type { DjEntry } from './entries';

// eslint-disable-next-line no-control-regex
const oneLine = (text: string) => text.replace(/[\u0000-\u001f]+/g, ' ').trim();

/** An extended M3U playlist in UTF-8 (`.m3u8`): absolute paths, one #EXTINF line per track. */
export function m3uWriter(): CollectionWriter {
  return {
    begin: () => '#EXTM3U\n',
    entry: (e: DjEntry) => {
      const seconds = e.duration === null ? -1 : Math.round(e.duration);
      const name = oneLine(e.track.artist ? `${e.track.artist} - ${e.track.title}` : e.track.title);
      return `#EXTINF:${seconds},${name}\n${e.path}\n`;
    },
    end: () => [],
  };
}
