/**
 * Layers merged low to high: tables merge key by key, everything else (arrays included) is
 * replaced whole. Each node of the result remembers which layer set it.
 */
import type { Layer, Origin } from './diagnostics.js';
import { isPlainTable } from './interpolate.js';
import { pointer } from './toml-locate.js';

export interface Merged {
  readonly data: Record<string, unknown>;
  readonly origins: Map<string, Origin>;
}

export function mergeLayers(layers: readonly Layer[]): Merged {
  // Null prototypes throughout: a TOML key named __proto__ is just a key.
  const data = Object.create(null) as Record<string, unknown>;
  const origins = new Map<string, Origin>();
  for (const layer of layers) mergeTable(data, layer.data, [], layer, origins);
  return { data, origins };
}

function originAt(layer: Layer, path: readonly (string | number)[]): Origin {
  const src = layer.origin;
  if (src.kind !== 'file') return src;
  const ptr = pointer(path);
  const loc = src.locations.get(ptr);
  const env = layer.envUsed.get(ptr);
  return {
    kind: 'file',
    file: src.file,
    ...(loc?.key !== undefined ? { key: loc.key } : {}),
    ...(loc?.value !== undefined ? { value: loc.value } : {}),
    ...(env !== undefined ? { env } : {}),
  };
}

function mergeTable(
  into: Record<string, unknown>,
  from: Record<string, unknown>,
  path: (string | number)[],
  layer: Layer,
  origins: Map<string, Origin>,
): void {
  if (path.length > 0) origins.set(pointer(path), originAt(layer, path));
  for (const [key, value] of Object.entries(from)) {
    const childPath = [...path, key];
    const existing = into[key];
    if (isPlainTable(value) && isPlainTable(existing)) {
      mergeTable(existing, value, childPath, layer, origins);
      continue;
    }
    forgetBelow(origins, pointer(childPath));
    into[key] = copy(value, childPath, layer, origins);
  }
}

/** A deep copy of a replaced value, recording the origin of every node in it. */
function copy(value: unknown, path: (string | number)[], layer: Layer, origins: Map<string, Origin>): unknown {
  origins.set(pointer(path), originAt(layer, path));
  if (Array.isArray(value)) return value.map((v, i) => copy(v, [...path, i], layer, origins));
  if (isPlainTable(value)) {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = copy(v, [...path, k], layer, origins);
    return out;
  }
  return value;
}

function forgetBelow(origins: Map<string, Origin>, ptr: string): void {
  for (const key of origins.keys()) if (key === ptr || key.startsWith(`${ptr}/`)) origins.delete(key);
}
