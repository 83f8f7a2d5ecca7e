/**
 * The built-in defaults layer, read off the schema's `default` keywords: the schema is the one
 * place a default is written, and `mproxy config` shows each as coming from "default".
 */
import type { JsonSchema } from './schema-types.js';
import type { Layer } from './diagnostics.js';
import { profileSchema } from './schema.js';

function defaultsOf(schema: JsonSchema): unknown {
  const own = schema.default;
  if (schema.properties === undefined) return structuredClone(own);
  const table = Object.create(null) as Record<string, unknown>;
  for (const [key, child] of Object.entries(schema.properties)) {
    const value = defaultsOf(child);
    if (value !== undefined) table[key] = value;
  }
  return own === undefined && Object.keys(table).length === 0 ? undefined : table;
}

/** What an entry of an array of tables ([[mounts]], [[forwards]]) holds where it says nothing: the layer above cannot know the entries. */
export function itemDefaults(key: 'mounts' | 'forwards'): Record<string, unknown> {
  const items = profileSchema.properties?.[key]?.items;
  const table = items === undefined ? undefined : defaultsOf(items);
  return (table ?? {}) as Record<string, unknown>;
}

export function defaultsLayer(): Layer {
  return {
    origin: { kind: 'default' },
    data: (defaultsOf(profileSchema) ?? {}) as Record<string, unknown>,
    envUsed: new Map(),
  };
}
