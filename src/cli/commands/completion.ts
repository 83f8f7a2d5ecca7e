/** `mproxy completion bash|zsh|fish`: a completion script for commands, their options and profile names. */
import { MproxyError } from '../../util/errors.js';
import type { Command } from '../command.js';

/** Shell code listing the profile names of the nearest `.mproxy/` (and `local`), one per line. */
const PROFILES_SH =
  `d=$PWD; while [ "$d" != / ] && [ ! -d "$d/.mproxy" ]; do d=\${d%/*}; [ -z "$d" ] && d=/; done
    if [ -d "$d/.mproxy" ]; then for f in "$d"/.mproxy/*.toml; do [ -e "$f" ] || continue; f=\${f##*/}; ` +
  `case $f in *.local.toml) ;; *) echo "\${f%.toml}";; esac; done; fi
    echo local`;

function optionsOf(cmd: Command): string[] {
  return [
    ...Object.entries(cmd.options).map(([name, o]) => `--${name}${'short' in o && typeof o.short === 'string' ? ` -${o.short}` : ''}`),
    '--help',
  ]
    .join(' ')
    .split(' ');
}

function bash(commands: readonly Command[]): string {
  const cases = commands.map((c) => `    ${c.name}) opts="${optionsOf(c).join(' ')}";;`).join('\n');
  return `# mproxy completion for bash: eval "$(mproxy completion bash)"
_mproxy_profiles() {
    ${PROFILES_SH}
}
_mproxy() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} opts="" i
  for ((i = 2; i < COMP_CWORD; i++)); do [ "\${COMP_WORDS[i]}" = -- ] && return 0; done
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur")); return 0
  fi
  case $cmd in
${cases}
  esac
  case $cur in
    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur"));;
    *) COMPREPLY=($(compgen -W "$(_mproxy_profiles)" -- "$cur") $(compgen -f -- "$cur"));;
  esac
}
complete -o filenames -F _mproxy mproxy
`;
}

function zsh(commands: readonly Command[]): string {
  return `# mproxy completion for zsh: eval "$(mproxy completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash(commands).split('\n').slice(1).join('\n')}`;
}

function fish(commands: readonly Command[]): string {
  const lines = [
    '# mproxy completion for fish: mproxy completion fish | source',
    `function __mproxy_profiles; sh -c '${PROFILES_SH.replace(/'/g, "\\'")}'; end`,
    'complete -c mproxy -f',
    ...commands.map((c) => `complete -c mproxy -n __fish_use_subcommand -a ${c.name} -d ${JSON.stringify(c.summary)}`),
    ...commands.flatMap((c) =>
      Object.entries(c.options).map(
        ([name, o]) =>
          `complete -c mproxy -n "__fish_seen_subcommand_from ${c.name}" -l ` +
          `${name}${o.description !== undefined ? ` -d ${JSON.stringify(o.description)}` : ''}${o.type === 'string' ? ' -r' : ''}`,
      ),
    ),
    `complete -c mproxy -n "not __fish_use_subcommand; and not __fish_seen_subcommand_from schema completion" -a "(__mproxy_profiles)"`,
  ];
  return `${lines.join('\n')}\n`;
}

export const completionCommand: Command = {
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  usage: 'mproxy completion bash|zsh|fish',
  details: [
    'Completes commands, their options, and profile names from the nearest .mproxy/ (and local).',
    '  bash: eval "$(mproxy completion bash)"   (in ~/.bashrc)',
    '  zsh:  eval "$(mproxy completion zsh)"    (in ~/.zshrc)',
    '  fish: mproxy completion fish > ~/.config/fish/completions/mproxy.fish',
  ],
  options: {},
  failureExit: 1,
  async run(args, io) {
    const shell = args.positionals[0];
    if (args.positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish')) {
      throw new MproxyError('E_USAGE', 'completion takes one shell: bash, zsh or fish', { hint: 'eval "$(mproxy completion bash)"' });
    }
    const { COMMANDS } = await import('../registry.js');
    io.stdout(shell === 'bash' ? bash(COMMANDS) : shell === 'zsh' ? zsh(COMMANDS) : fish(COMMANDS));
    return 0;
  },
};
