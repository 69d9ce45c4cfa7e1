import type { RequestParams } from '../../shared/contract';
import type { ListSortColumn } from '../../shared/listing';
import { compatibleKeys } from './camelot';

export type SortKey = ListSortColumn;
export interface SortSpec {
  key: SortKey;
  dir: 1 | -1;
}

export interface LibraryFilter {
  search: string;
  bpmMin: number | null;
  bpmMax: number | null;
  /** A Camelot code, e.g. "8A". */
  key: string | null;
  /** Show only tracks that mix with this track's key. */
  mixesWith: string | null;
}

export const EMPTY_FILTER: LibraryFilter = { search: '', bpmMin: null, bpmMax: null, key: null, mixesWith: null };

export function isFiltering(f: LibraryFilter): boolean {
  return !!f.search.trim() || f.bpmMin !== null || f.bpmMax !== null || !!f.key || !!f.mixesWith;
}

export type ListParams = NonNullable<RequestParams<'library.list'>>;

/**
 * What the engine sorts, filters and searches by for the table (paging aside). The key filter
 * and "mixes with" become one list of Camelot codes: the key, the keys that mix, or both at once.
 */
export function listParams(sort: SortSpec, f: LibraryFilter): ListParams {
  const params: ListParams = { sort: { column: sort.key, dir: sort.dir === 1 ? 'asc' : 'desc' } };
  const search = f.search.trim();
  if (search) params.search = search.slice(0, 500);
  // The engine takes 0-1000 BPM; a typed -5 or 5000 means "no bound" there anyway.
  if (f.bpmMin !== null) params.bpmMin = Math.min(1000, Math.max(0, f.bpmMin));
  if (f.bpmMax !== null) params.bpmMax = Math.min(1000, Math.max(0, f.bpmMax));
  if (f.key || f.mixesWith) {
    const mixing = f.mixesWith ? compatibleKeys(f.mixesWith) : null;
    params.keys = f.key ? (mixing && !mixing.includes(f.key) ? [] : [f.key]) : mixing;
  }
  return params;
}

/** Whether engine params narrow the library (anything beside the sort and the window). */
export function narrows(params: ListParams): boolean {
  return !!params.search || params.bpmMin != null || params.bpmMax != null || params.keys != null;
}

/** The row a shift-click extends from: its id, and its index in the table as it was sorted then. */
export interface SelectionAnchor {
  id: string;
  index: number;
}

/**
 * The selection after a click on row `index` (track `id`): plain click selects it alone,
 * ctrl/cmd toggles it, shift extends from the anchor over every row between, loaded or not:
 * `range` (first and last index) asks for their ids when `idAt` does not know them all.
 */
export function clickSelection(
  current: ReadonlySet<string>,
  anchor: SelectionAnchor | null,
  clicked: SelectionAnchor,
  idAt: (index: number) => string | undefined,
  mods: { shift: boolean; toggle: boolean },
): { selected: Set<string>; anchor: SelectionAnchor } | { range: [number, number]; keep: ReadonlySet<string> } {
  if (mods.shift && anchor) {
    const [lo, hi] = anchor.index < clicked.index ? [anchor.index, clicked.index] : [clicked.index, anchor.index];
    const keep = mods.toggle ? current : new Set<string>();
    const ids: string[] = [];
    for (let i = lo; i <= hi; i++) {
      const id = idAt(i);
      if (id === undefined) return { range: [lo, hi], keep };
      ids.push(id);
    }
    return { selected: new Set([...keep, ...ids]), anchor };
  }
  if (mods.toggle) {
    const selected = new Set(current);
    if (selected.has(clicked.id)) selected.delete(clicked.id);
    else selected.add(clicked.id);
    return { selected, anchor: clicked };
  }
  return { selected: new Set([clicked.id]), anchor: clicked };
}
