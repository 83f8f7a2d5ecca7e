/**
 * Durations (`15s`, `2m`, `1h30m`, `250ms`) and sizes (`512MiB`, `10MB`, `4096`) as written in
 * profiles. The JSON Schema carries the same grammar as a regular expression (exported here so
 * both use one definition); these functions turn a string that matched into a number.
 */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB|T|TB|TiB)?$';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  K: 1024,
  KiB: 1024,
  KB: 1000,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  MB: 1000 ** 2,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
  GB: 1000 ** 3,
  T: 1024 ** 4,
  TiB: 1024 ** 4,
  TB: 1000 ** 4,
};

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$/.exec(text);
  if (!m || !new RegExp(SIZE_PATTERN).test(text)) return undefined;
  const unit = m[2] === '' || m[2] === undefined ? 'B' : m[2];
  const factor = SIZE_UNITS[unit];
  return factor === undefined ? undefined : Math.floor(Number(m[1]) * factor);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
