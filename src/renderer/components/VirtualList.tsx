import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type HTMLAttributes, type ReactElement, type ReactNode, type UIEvent } from 'react';

export interface VirtualListProps<T> {
  /** Rows in the list, loaded or not. */
  count: number;
  /** The row at an index, or undefined while it loads (a blank row of the same height shows). */
  itemAt: (index: number) => T | undefined;
  /** The rows in the DOM or about to be (first inclusive, last exclusive; lookahead included) changed: load what is missing. */
  onRange?: (first: number, last: number) => void;
  /** Fixed row height in px (every row the same: the list is O(visible) whatever its length). */
  rowHeight: number;
  /** Keep it the same function while the rows' look does not change (useCallback): a row renders again only when its item, index or this changes. */
  renderRow: (item: T, index: number) => ReactNode;
  getKey: (item: T, index: number) => string;
  /** Attributes of each row's own element (role, aria-selected, handlers, data-*); stable as `renderRow`. */
  rowProps?: RowPropsOf<T>;
  /** Rows rendered beyond the visible ones on each side, in the same frame as a scroll. */
  overscan?: number;
  /**
   * Rows added beyond the overscan on each side a few per frame (`ROWS_PER_FRAME`) after a
   * scroll, so that the next wheel tick finds its rows already in the DOM instead of building
   * them all in its frame. 0: none.
   */
  lookahead?: number;
  /** Height used before the container is measured (and in jsdom, which has no layout). */
  initialHeight?: number;
  className?: string;
  /** Rendered above the rows, inside the scroller (sticky header). */
  header?: ReactNode;
  /** Scroll this index into view when it changes. */
  scrollToIndex?: number | null;
  role?: string;
  ariaLabel?: string;
  ariaRowCount?: number;
}

type RowPropsOf<T> = (item: T, index: number) => HTMLAttributes<HTMLDivElement> & Record<`data-${string}`, string | undefined>;

interface RowSlotProps<T> {
  item: T;
  index: number;
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  rowProps?: RowPropsOf<T>;
}

/** One row, rendered again only when its props change: a scroll renders the rows it brings in, not the window. */
const RowSlot = memo(function RowSlot({ item, index, rowHeight, renderRow, rowProps }: RowSlotProps<unknown>) {
  const props = rowProps?.(item, index) ?? {};
  return (
    <div {...props} className={`vrow ${props.className ?? ''}`} style={{ position: 'absolute', top: index * rowHeight, left: 0, right: 0, height: rowHeight }}>
      {renderRow(item, index)}
    </div>
  );
}) as <T>(props: RowSlotProps<T>) => ReactElement;

/** Rows a frame adds on each side while the list grows its lookahead (see `lookahead`). */
export const ROWS_PER_FRAME = 8;

interface Range {
  first: number;
  last: number;
}

const sameRange = (a: Range, b: Range) => a.first === b.first && a.last === b.last;

/** `from` moved toward `to`: rows beyond `to` leave at once (removing them costs little), new rows come at most `step` per side. */
function growToward(from: Range, to: Range, step: number): Range {
  return { first: from.first > to.first ? Math.max(to.first, from.first - step) : to.first, last: from.last < to.last ? Math.min(to.last, from.last + step) : to.last };
}

/**
 * A windowed list: only the rows in view (plus `overscan`) are in the DOM, positioned in a
 * spacer as tall as all rows, so 100,000 tracks scroll like 30.
 */
export function VirtualList<T>({ count, itemAt, onRange, rowHeight, renderRow, getKey, rowProps, overscan = 8, lookahead = 0, initialHeight = 600, className, header, scrollToIndex, role, ariaLabel, ariaRowCount }: VirtualListProps<T>) {
  const ref = useRef<HTMLDivElement>(null);
  // The first row in view, not the pixel offset: scrolling within a row renders nothing.
  const [topRow, setTopRow] = useState(0);
  const [height, setHeight] = useState(initialHeight);
  const headerRef = useRef<HTMLDivElement>(null);
  const [headerHeight, setHeaderHeight] = useState(0);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      if (el.clientHeight > 0) setHeight(el.clientHeight);
      setHeaderHeight(headerRef.current?.offsetHeight ?? 0);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el || scrollToIndex === null || scrollToIndex === undefined || scrollToIndex < 0) return;
    const top = scrollToIndex * rowHeight;
    const viewTop = el.scrollTop;
    const viewBottom = viewTop + el.clientHeight - headerHeight;
    if (top < viewTop) el.scrollTop = top;
    else if (top + rowHeight > viewBottom) el.scrollTop = top + rowHeight - (el.clientHeight - headerHeight);
  }, [scrollToIndex, rowHeight, headerHeight]);

  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => setTopRow(Math.floor(e.currentTarget.scrollTop / rowHeight)), [rowHeight]);

  const visible = Math.ceil(height / rowHeight) + 1;
  // `needed`: the rows this frame must show. `wanted`: those plus the lookahead. `grown`: the
  // rows built so far; kept while they hold the needed ones, else the frame builds just those.
  const needed = { first: Math.max(0, topRow - overscan), last: Math.min(count, topRow + visible + overscan) };
  const wanted = { first: Math.max(0, needed.first - lookahead), last: Math.min(count, needed.last + lookahead) };
  const [grown, setGrown] = useState<Range>(needed);
  const holds = grown.first <= needed.first && grown.last >= needed.last;
  const shown = holds ? { first: Math.max(grown.first, wanted.first), last: Math.min(grown.last, wanted.last) } : needed;
  // Remember the rows shown, so that the next scroll knows which exist (React renders again at once, before committing).
  if (!sameRange(grown, shown)) setGrown(shown);
  const { first, last } = shown;
  useEffect(() => {
    if (first === wanted.first && last === wanted.last) return;
    const frame = requestAnimationFrame(() => setGrown(growToward({ first, last }, wanted, ROWS_PER_FRAME)));
    return () => cancelAnimationFrame(frame);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `wanted` is its two numbers
  }, [first, last, wanted.first, wanted.last]);
  useEffect(() => {
    onRange?.(wanted.first, wanted.last);
  }, [onRange, wanted.first, wanted.last]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = itemAt(i);
    if (item === undefined) {
      rows.push(<div key={`pending-${i}`} className="vrow pending" aria-busy="true" style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }} />);
      continue;
    }
    rows.push(<RowSlot key={getKey(item, i)} item={item} index={i} rowHeight={rowHeight} renderRow={renderRow} rowProps={rowProps} />);
  }

  return (
    <div ref={ref} className={`vlist ${className ?? ''}`} onScroll={onScroll} role={role} aria-label={ariaLabel} aria-rowcount={ariaRowCount} data-testid="vlist">
      {header && (
        <div ref={headerRef} className="vlist-header">
          {header}
        </div>
      )}
      <div className="vlist-body" role="rowgroup" style={{ position: 'relative', height: count * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
