/**
 * The two pattern languages of profiles, compiled once and shared by the validator and the
 * parts that match with them (env filter, command rules, recording redaction).
 *
 * - Name patterns (env keep/remove, recording.redact): a glob (`LC_*`, `AWS_?`, `[A-Z]*`) or a
 *   `/regex/` matched against the variable name.
 * - Command patterns (local_commands, remote_commands): a bare name matches the basename,
 *   `/abs/path` the exact path, `/regex/` the full path.
 */
export type Compiled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly hint: string };

export function isRegexPattern(pattern: string): boolean {
  return pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/');
}

export function compileRegex(pattern: string): Compiled<RegExp> {
  const body = pattern.slice(1, -1);
  if (body === '') return { ok: false, reason: 'empty regular expression `//`', hint: 'write /REGEX/ with something between the slashes' };
  try {
    return { ok: true, value: new RegExp(body) };
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
    return {
      ok: false,
      reason: `invalid regular expression: ${reason}`,
      hint: 'patterns between slashes are JavaScript regular expressions; escape / and other special characters with \\',
    };
  }
}

/** A glob to an anchored RegExp: `*` any run, `?` one character, `[…]` / `[!…]` a class. */
export function compileGlob(glob: string): Compiled<RegExp> {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0)
        return {
          ok: false,
          reason: `unclosed \`[\` at character ${i + 1} of the glob`,
          hint: 'close the character class with ], or write \\[ for a literal bracket',
        };
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      out += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i] ?? '');
    } else if (c === ']') {
      return { ok: false, reason: `\`]\` at character ${i + 1} closes no \`[\``, hint: 'write \\] for a literal bracket' };
    } else out += escapeRegex(c);
  }
  return { ok: true, value: new RegExp(`${out}$`) };
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A name pattern: glob or /regex/. */
/**
 * A name pattern: glob or /regex/. `ignoreCase` for patterns that keep secrets in (env.remove,
 * recording.redact): `github_token` is as secret as `GITHUB_TOKEN`.
 */
export function compileNamePattern(pattern: string, options: { readonly ignoreCase?: boolean } = {}): Compiled<(name: string) => boolean> {
  const compiled = isRegexPattern(pattern) ? compileRegex(pattern) : compileGlob(pattern);
  if (!compiled.ok) return compiled;
  const re = options.ignoreCase === true ? new RegExp(compiled.value.source, `${compiled.value.flags}i`) : compiled.value;
  return { ok: true, value: (name) => re.test(name) };
}

/** A command pattern: basename, /abs/path or /regex/; matched against a resolved absolute path. */
export function compileCommandPattern(pattern: string): Compiled<(path: string) => boolean> {
  if (isRegexPattern(pattern)) {
    const compiled = compileRegex(pattern);
    if (!compiled.ok) return compiled;
    const re = compiled.value;
    return { ok: true, value: (path) => re.test(path) };
  }
  if (pattern.startsWith('/')) return { ok: true, value: (path) => path === pattern };
  if (pattern.includes('/')) {
    return {
      ok: false,
      reason: `\`${pattern}\` has a slash but is neither an absolute path nor a /regex/`,
      hint:
        `write a bare name (\`${pattern.split('/').filter(Boolean).pop() ?? pattern}\`), an absolute path ` +
        `(\`/${pattern.replace(/\/+$/, '')}\`), or a /regex/`,
    };
  }
  return { ok: true, value: (path) => path.slice(path.lastIndexOf('/') + 1) === pattern };
}
