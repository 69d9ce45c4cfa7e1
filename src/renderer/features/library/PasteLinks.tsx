import { useEffect } from 'react';
import { useActions } from '../../actions/context';
import { notify } from '../../actions/notices';

/** True when a paste belongs to a text field (that field handles it, not the window). */
export function isEditable(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (el as HTMLElement).isContentEditable;
}

/** Links pasted anywhere in the window (focus not in a text field) are added like the link box's. */
export function PasteLinks() {
  const actions = useActions();
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      if (isEditable(document.activeElement)) return;
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (!text.trim()) return;
      e.preventDefault();
      void actions.addLinks(text).then((rejected) => {
        if (rejected.length) notify('error', rejected.length === 1 ? 'Could not add the pasted link' : `Could not add ${rejected.length} pasted links`, rejected.slice(0, 8));
      });
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [actions]);
  return null;
}
