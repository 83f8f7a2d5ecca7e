/**
 * Where each key and value of a TOML document stands (1-based line and column), keyed by JSON
 * pointer (`/mounts/0/local`) — the form ajv reports. smol-toml gives positions only for syntax
 * errors, so this small scanner walks the text a second time. It assumes the document already
 * parsed; on anything unexpected it stops and returns what it found so far.
 */
export interface Span {
  readonly line: number;
  readonly column: number;
}

export interface Located {
  key?: Span;
  value?: Span;
}

export type LocationMap = ReadonlyMap<string, Located>;

export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function locateToml(text: string): LocationMap {
  return scan(text).found;
}

/** The dotted key last defined on `line` (1-based), e.g. the duplicate in a redefinition error. */
export function keyDefinedOn(text: string, line: number): string[] | undefined {
  let last: (string | number)[] | undefined;
  for (const [path, span] of scan(text).order) if (span.line === line) last = path;
  return last?.map(String);
}

function scan(text: string): TomlLocator {
  const scanner = new TomlLocator(text);
  try {
    scanner.document();
  } catch {
    // Partial result: a located error is still better than none.
  }
  return scanner;
}

type Path = (string | number)[];
interface KeyPart {
  name: string;
  at: number;
}

const BARE_KEY = /[A-Za-z0-9_-]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  t: '\t',
  n: '\n',
  f: '\f',
  r: '\r',
  e: '\x1b',
  '"': '"',
  '\\': '\\',
};

class TomlLocator {
  readonly found = new Map<string, Located>();
  /** Every key as it is met, duplicates included. */
  readonly order: [Path, Span][] = [];
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly tableArrays = new Map<string, number>();

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  document(): void {
    let table: Path = [];
    for (;;) {
      this.skip(true);
      if (this.pos >= this.text.length) return;
      if (this.text.startsWith('[[', this.pos)) table = this.header(true);
      else if (this.peek() === '[') table = this.header(false);
      else this.keyValue(table);
    }
  }

  /** `[a.b]` or `[[a.b]]`: the path of the table the following lines fill. */
  private header(isArray: boolean): Path {
    const start = this.pos;
    this.pos += isArray ? 2 : 1;
    this.skip(false);
    const parts = this.key();
    this.pos += isArray ? 2 : 1;
    const path: Path = [];
    for (const [i, part] of parts.entries()) {
      path.push(part.name);
      const ptr = pointer(path);
      const last = i === parts.length - 1;
      if (last && isArray) {
        const index = this.tableArrays.get(ptr) ?? 0;
        this.tableArrays.set(ptr, index + 1);
        this.record(path, part.at, start);
        path.push(index);
        this.record(path, part.at, start);
      } else {
        this.record(path, part.at, start);
        const open = this.tableArrays.get(ptr);
        if (!last && open !== undefined) path.push(open - 1);
      }
    }
    return path;
  }

  private keyValue(table: Path): void {
    const parts = this.key();
    this.skip(false);
    if (this.peek() !== '=') throw new Error('expected =');
    this.pos++;
    this.skip(false);
    const path = [...table];
    for (const part of parts) {
      path.push(part.name);
      this.record(path, part.at, undefined);
    }
    this.value(path);
  }

  private value(path: Path): void {
    const ptr = pointer(path);
    const entry = this.found.get(ptr) ?? {};
    entry.value ??= this.span(this.pos);
    entry.key ??= entry.value;
    this.found.set(ptr, entry);
    const c = this.peek();
    if (this.text.startsWith('"""', this.pos)) this.multiline('"');
    else if (this.text.startsWith("'''", this.pos)) this.multiline("'");
    else if (c === '"' || c === "'") this.string();
    else if (c === '[') this.array(path);
    else if (c === '{') this.inlineTable(path);
    else {
      while (this.pos < this.text.length && !',]}\n#\r'.includes(this.text[this.pos] ?? '')) this.pos++;
    }
  }

  private array(path: Path): void {
    this.pos++;
    for (let index = 0; ; index++) {
      this.skip(true);
      if (this.peek() === ']' || this.pos >= this.text.length) break;
      this.value([...path, index]);
      this.skip(true);
      if (this.peek() === ',') this.pos++;
    }
    this.pos++;
  }

  private inlineTable(path: Path): void {
    this.pos++;
    for (;;) {
      this.skip(false);
      if (this.peek() === '}' || this.pos >= this.text.length) break;
      this.keyValue(path);
      this.skip(false);
      if (this.peek() === ',') this.pos++;
    }
    this.pos++;
  }

  /** A dotted key: bare, "basic" and 'literal' parts separated by dots. */
  private key(): KeyPart[] {
    const parts: KeyPart[] = [];
    for (;;) {
      this.skip(false);
      const at = this.pos;
      const c = this.peek();
      let name: string;
      if (c === '"' || c === "'") {
        name = this.string();
      } else {
        while (BARE_KEY.test(this.peek())) this.pos++;
        name = this.text.slice(at, this.pos);
        if (name === '') throw new Error('expected key');
      }
      parts.push({ name, at });
      this.skip(false);
      if (this.peek() !== '.') return parts;
      this.pos++;
    }
  }

  /** A one-line string at pos; returns its decoded content. */
  private string(): string {
    const quote = this.peek();
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++] ?? '';
      if (c === quote) return out;
      if (c === '\\' && quote === '"') out += this.escape();
      else out += c;
    }
    return out;
  }

  private escape(): string {
    const c = this.text[this.pos++] ?? '';
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) return simple;
    const width = c === 'u' ? 4 : c === 'U' ? 8 : c === 'x' ? 2 : 0;
    const code = Number.parseInt(this.text.slice(this.pos, this.pos + width), 16);
    this.pos += width;
    return Number.isNaN(code) ? '' : String.fromCodePoint(code);
  }

  private multiline(quote: string): void {
    this.pos += 3;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\' && quote === '"') {
        this.pos += 2;
      } else if (this.text.startsWith(quote.repeat(3), this.pos)) {
        // Up to two quotes may end the content right before the closing delimiter.
        let run = 0;
        while (this.text[this.pos + run] === quote) run++;
        this.pos += Math.min(run, 5);
        return;
      } else {
        this.pos++;
      }
    }
  }

  /** Skip blanks and comments; across newlines only when `newlines`. */
  private skip(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (newlines && (c === '\n' || c === '\r')) this.pos++;
      else if (c === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private record(path: Path, keyAt: number, valueAt: number | undefined): void {
    const ptr = pointer(path);
    const entry = this.found.get(ptr) ?? {};
    const key = this.span(keyAt);
    this.order.push([[...path], key]);
    entry.key ??= key;
    if (valueAt !== undefined) entry.value ??= this.span(valueAt);
    this.found.set(ptr, entry);
  }

  span(offset: number): Span {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }
}
