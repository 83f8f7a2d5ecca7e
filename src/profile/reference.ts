/**
 * The profile reference in Markdown, generated from the schema so the README cannot drift from
 * it (a test compares the README's reference section with this output).
 */
import { profileSchema } from './schema.js';
import type { JsonSchema } from './schema-types.js';

export function schemaReference(): string {
  const rows: string[] = ['| key | type | default | meaning |', '|---|---|---|---|'];
  walk(profileSchema, '', rows);
  return `${rows.join('\n')}\n`;
}

function walk(schema: JsonSchema, prefix: string, rows: string[]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const isTable = child.properties !== undefined;
    const itemTables = child.items?.properties !== undefined;
    if (!isTable || prefix === '') {
      const shown = itemTables ? `[[${path}]]` : isTable ? `[${path}]` : `\`${path}\``;
      rows.push(`| ${shown} | ${typeOf(child)} | ${defaultOf(child)} | ${escapeCell(child.description ?? '')} |`);
    }
    if (isTable) walk(child, path, rows);
    if (itemTables && child.items !== undefined) walk(child.items, `${path}[]`, rows);
  }
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum !== undefined) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const types = typeof schema.type === 'string' ? [schema.type] : [...(schema.type ?? [])];
  return types
    .map((t) => {
      if (t === 'array') return schema.items?.properties !== undefined ? 'array of tables' : `array of ${typeOf(schema.items ?? {})}`;
      if (t === 'object') return 'table';
      if (t === 'string' && schema.title !== undefined && schema.title !== 'path') return schema.title;
      return t;
    })
    .join(' or ');
}

function defaultOf(schema: JsonSchema): string {
  if (schema.default === undefined || schema.properties !== undefined) return '';
  return `\`${escapeCell(JSON.stringify(schema.default).replace(/","/g, '", "'))}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
