/** What an agent client runs over (the agent's stdio, however it reaches us) and how it waits. */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { NetAddress } from '../../protocol/net-frames.js';
import type { NetListener } from '../../transport/transport.js';

export interface AgentTransport {
  /** The agent's stdout. */
  readonly input: Readable;
  /** The agent's stdin. */
  readonly output: Writable;
  /** Ends the transport (kills the agent / closes the channel). */
  close(): Promise<void>;
  /** Words for messages: "ssh builder@build01", "local agent". */
  readonly description: string;
}

export interface AgentClientOptions {
  /** How long the agent may take to say Hello. */
  readonly startTimeoutMs?: number;
  /** Deadline of each file operation and query. */
  readonly opTimeoutMs?: number;
  readonly onLog?: (level: string, message: string) => void;
  /** Forwarding done by the transport itself (sshd): used instead of the agent's sockets. */
  readonly net?: {
    connectTo(to: NetAddress): Promise<Duplex>;
    listenOn(at: NetAddress, onConnection: (c: Duplex) => void): Promise<NetListener>;
  };
}
