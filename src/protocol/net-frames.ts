/**
 * The frames of forwarded connections (ports and Unix sockets through the agent). A connection
 * is a stream id like a process's: its bytes go as Data with s=0 towards the remote socket and
 * s=1 from it, under the same windows and Acks, and each direction ends with its Eof; an Error
 * with the id ends it at once (refused, reset). Ids the client picks count up from 1; ids of
 * connections a remote listener accepted are the agent's, from ACCEPTED_BASE up.
 */
export const NET_T = {
  Connect: 18,
  Opened: 19,
  Listen: 20,
  Listening: 21,
  Accepted: 22,
  Unlisten: 23,
} as const;

/** Where a forward ends or listens: a TCP port (host as the remote resolves it) or a Unix socket path. */
export type NetAddress = { readonly host: string; readonly port: number } | { readonly path: string };

/** The first id the agent gives an accepted connection: client ids never get this high. */
export const ACCEPTED_BASE = 2 ** 31;

/** Open a connection to `to` (client → agent): answered by Opened {id}, or Error {id}. */
export interface ConnectFrame {
  readonly t: typeof NET_T.Connect;
  readonly id: number;
  readonly to: NetAddress;
}

export interface OpenedFrame {
  readonly t: typeof NET_T.Opened;
  readonly id: number;
}

/** Listen at `at` (client → agent): answered by Listening {id, port}, or Error {id}. */
export interface ListenFrame {
  readonly t: typeof NET_T.Listen;
  readonly id: number;
  readonly at: NetAddress;
}

/** The listener is up; `port` is the one bound (port 0 asked for any), 0 for a socket path. */
export interface ListeningFrame {
  readonly t: typeof NET_T.Listening;
  readonly id: number;
  readonly port: number;
}

/** Listener `listener` accepted a connection, stream `id` from now on (agent → client). */
export interface AcceptedFrame {
  readonly t: typeof NET_T.Accepted;
  readonly id: number;
  readonly listener: number;
}

/** Close listener `id` (client → agent); its accepted connections go on. No answer. */
export interface UnlistenFrame {
  readonly t: typeof NET_T.Unlisten;
  readonly id: number;
}

export type NetFrame = ConnectFrame | OpenedFrame | ListenFrame | ListeningFrame | AcceptedFrame | UnlistenFrame;
