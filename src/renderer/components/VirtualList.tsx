import { useCallback, useEffect, useLayoutEffect, useRef, useState, type HTMLAttributes, type ReactNode, type UIEvent } from 'react';

export interface VirtualListProps<T> {
  /** Rows in the list, loaded or not. */
  count: number;
  /** The row at an index, or undefined while it loads (a blank row of the same height shows). */
  itemAt: (index: number) => T | undefined;
  /** The rows in the DOM changed (first inclusive, last exclusive): load what is missing. */
  onRange?: (first: number, last: number) => void;
  /** Fixed row height in px (every row the same: the list is O(visible) whatever its length). */
  rowHeight: number;
  renderRow: (item: T, index: number) => ReactNode;
  getKey: (item: T, index: number) => string;
  /** Attributes of each row's own element (role, aria-selected, handlers, data-*). */
  rowProps?: (item: T, index: number) => HTMLAttributes<HTMLDivElement> & Record<`data-${string}`, string | undefined>;
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

/**
 * A windowed list: only the rows in view (plus `overscan`) are in the DOM, positioned in a
 * spacer as tall as all rows, so 100,000 tracks scroll like 30.
 */
export function VirtualList<T>({ count, itemAt, onRange, rowHeight, renderRow, getKey, rowProps, overscan = 6, initialHeight = 600, className, header, scrollToIndex, role, ariaLabel, ariaRowCount }: VirtualListProps<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
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

  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => setScrollTop(e.currentTarget.scrollTop), []);

  const visible = Math.ceil(height / rowHeight) + 1;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.floor(scrollTop / rowHeight) + visible + overscan);
  useEffect(() => {
    onRange?.(first, last);
  }, [onRange, first, last]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = itemAt(i);
    if (item === undefined) {
      rows.push(<div key={`pending-${i}`} className="vrow pending" aria-busy="true" style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }} />);
      continue;
    }
    const props = rowProps?.(item, i) ?? {};
    rows.push(
      <div key={getKey(item, i)} {...props} className={`vrow ${props.className ?? ''}`} style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }}>
        {renderRow(item, i)}
      </div>,
    );
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
