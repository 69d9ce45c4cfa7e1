/**
 * A file name made safe to create on every OS from text we do not control (an upload's name, a
 * track's title): each run of separators, control or reserved characters becomes `_`, leading dots
 * and spaces go (no hidden files, no `..`), and trailing ones too (Windows drops them), the length is capped with a short extension kept, and
 * an empty result becomes `fallback`.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\\/:*?"<>|\u0000-\u001f\u007f]+/g;

export function safeFileName(text: string | null | undefined, fallback: string, maxLength = 120): string {
  let clean = (text ?? '').replace(UNSAFE, '_').replace(/^[.\s]+|[.\s]+$/g, '');
  if (clean.length > maxLength) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
    clean = clean.slice(0, maxLength - ext.length).trimEnd() + ext;
  }
  return clean || fallback;
}
