import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type HTMLAttributes, type ReactElement, type ReactNode, type UIEvent } from 'react';

export interface VirtualListProps<T> {
  /** Rows in the list, loaded or not. */
  count: number;
  /** The row at an index, or undefined while it loads (a blank row of the same height shows). */
  itemAt: (index: number) => T | undefined;
  /** The rows in the DOM changed (first inclusive, last exclusive): load what is missing. */
  onRange?: (first: number, last: number) => void;
  /** Fixed row height in px (every row the same: the list is O(visible) whatever its length). */
  rowHeight: number;
  /** Keep it the same function while the rows' look does not change (useCallback): a row renders again only when its item, index or this changes. */
  renderRow: (item: T, index: number) => ReactNode;
  /** Attributes of each row's own element (role, aria-selected, handlers, data-*); stable as `renderRow`. */
  rowProps?: RowPropsOf<T>;
  /** Rows rendered beyond the visible ones on each side. */
  overscan?: number;
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

/**
 * A windowed list: only the rows in view (plus `overscan`) are in the DOM, positioned in a
 * spacer as tall as all rows, so 100,000 tracks scroll like 30.
 */
export function VirtualList<T>({ count, itemAt, onRange, rowHeight, renderRow, rowProps, overscan = 8, initialHeight = 600, className, header, scrollToIndex, role, ariaLabel, ariaRowCount }: VirtualListProps<T>) {
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
  const first = Math.max(0, topRow - overscan);
  const last = Math.min(count, topRow + visible + overscan);
  useEffect(() => {
    onRange?.(first, last);
  }, [onRange, first, last]);
  // Rows are keyed by slot (index modulo the largest window) and kept in slot order: a scroll
  // refills the slots its rows left with the rows it brings in (text, attributes and top change),
  // so no element is built and none moves in the DOM; a new search or sort refills them all alike.
  // Their DOM order is not their order on screen once scrolled (each has its top; the table
  // carries aria-rowindex).
  const slots = visible + 2 * overscan;
  const rows: ReactNode[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const i = first + ((((slot - first) % slots) + slots) % slots);
    if (i >= last) continue;
    const item = itemAt(i);
    if (item === undefined) {
      rows.push(<div key={slot} className="vrow pending" aria-busy="true" style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }} />);
      continue;
    }
    rows.push(<RowSlot key={slot} item={item} index={i} rowHeight={rowHeight} renderRow={renderRow} rowProps={rowProps} />);
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
