/** Every subcommand, in the order help lists them: the main job first. */
import type { Command } from './command.js';
import { completionCommand } from './commands/completion.js';
import { configCommand } from './commands/config.js';
import { doctorCommand } from './commands/doctor.js';
import { execCommand } from './commands/exec.js';
import { forwardCommand } from './commands/forward.js';
import { initCommand } from './commands/init.js';
import { logCommand } from './commands/log.js';
import { mcpCommand } from './commands/mcp.js';
import { mountCommand } from './commands/mount.js';
import { schemaCommand } from './commands/schema.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';

export const COMMANDS: readonly Command[] = [
  upCommand,
  validateCommand,
  execCommand,
  configCommand,
  schemaCommand,
  mountCommand,
  forwardCommand,
  logCommand,
  mcpCommand,
  doctorCommand,
  initCommand,
  completionCommand,
];
