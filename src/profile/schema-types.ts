/**
 * The TypeScript type of a profile is computed from the JSON Schema object itself (schema.ts),
 * so the two cannot drift: add a key to the schema and the type has it; rename it and every use
 * stops compiling. Only the schema keywords the profile schema uses are understood here.
 *
 * Two readings of one schema:
 * - 'input': what a file may contain — only `required` keys are mandatory;
 * - 'resolved': after the built-in defaults layer — keys with a `default` are present too.
 */
export type SchemaMode = 'input' | 'resolved';

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;

type HasDefault<S> = S extends { readonly default: unknown } ? true : false;

type PresentKeys<P, S, M extends SchemaMode> = {
  [K in keyof P]: K extends RequiredKeys<S> ? K : M extends 'resolved' ? (HasDefault<P[K]> extends true ? K : never) : never;
}[keyof P];

type ObjectOf<P, S, M extends SchemaMode> = Simplify<
  { -readonly [K in PresentKeys<P, S, M>]: FromSchema<P[K], M> } & {
    -readonly [K in Exclude<keyof P, PresentKeys<P, S, M>>]?: FromSchema<P[K], M>;
  }
>;

/** One JSON type name; distributes over a union of names (`type: ['string', 'array']`). */
type FromTypeName<N, S, M extends SchemaMode> = N extends 'string'
  ? string
  : N extends 'integer' | 'number'
    ? number
    : N extends 'boolean'
      ? boolean
      : N extends 'array'
        ? S extends { readonly items: infer I }
          ? FromSchema<I, M>[]
          : unknown[]
        : N extends 'object'
          ? S extends { readonly properties: infer P }
            ? ObjectOf<P, S, M>
            : S extends { readonly additionalProperties: infer A extends object }
              ? Record<string, FromSchema<A, M>>
              : Record<string, unknown>
          : never;

export type FromSchema<S, M extends SchemaMode = 'input'> = S extends {
  readonly enum: readonly (infer E)[];
}
  ? E
  : S extends { readonly type: infer T }
    ? T extends readonly (infer U)[]
      ? FromTypeName<U, S, M>
      : FromTypeName<T, S, M>
    : unknown;

/** The subset of JSON Schema (draft-07) that profile schemas are written in. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly title?: string;
  readonly description?: string;
  readonly markdownDescription?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly minLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
}
