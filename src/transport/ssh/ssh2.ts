/** ssh2 is CommonJS: its named exports reach ESM only through the default import. */
import ssh2 from 'ssh2';

export const { Client, utils } = ssh2;
export type { Client as SshClient, ClientChannel, AnyAuthMethod, AuthHandlerMiddleware, ParsedKey, SFTPWrapper as SftpWrapper } from 'ssh2';
