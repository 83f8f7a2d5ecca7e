/**
 * The inodes the kernel knows of one mount: node id ↔ (parent, name), so a path is always its
 * parents' names (a rename moves one node; its subtree follows), plus the lookup count the
 * kernel holds. A node is dropped when the kernel forgets its last lookup and no known child
 * needs it for its path, so memory follows the kernel's own inode cache. Node ids are never
 * reused (generation 0 is enough). One node per name: two hard links are two nodes showing
 * the same st_ino; `sameFile` finds the other names of a file so a write through one drops
 * what is cached of the others.
 */
import type { WireStat } from '../protocol/file-ops.js';

export const ROOT_INO = 1;

export interface FsNode {
  readonly ino: number;
  parent: FsNode | undefined;
  name: string;
  lookups: number;
  /** The remote's attributes as last known, and until when they may be trusted (ms). */
  attr: WireStat | undefined;
  attrUntil: number;
  /** Directories: children known by name. */
  children: Map<string, FsNode> | undefined;
  /** Directories: the last full listing (name → attributes), trusted until `listingUntil`. */
  listing: Map<string, WireStat> | undefined;
  listingUntil: number;
  /** Directories: its subdirectories were listed ahead of a walk (once per listing). */
  walked: boolean;
  /** Unlinked or replaced on the remote: kept only until the kernel forgets it. */
  detached: boolean;
}

function makeNode(ino: number, parent: FsNode | undefined, name: string): FsNode {
  return {
    ino,
    parent,
    name,
    lookups: 0,
    attr: undefined,
    attrUntil: 0,
    children: undefined,
    listing: undefined,
    listingUntil: 0,
    walked: false,
    detached: false,
  };
}

export class NodeTable {
  readonly root: FsNode = makeNode(ROOT_INO, undefined, '');
  private readonly byIno = new Map<number, FsNode>([[ROOT_INO, this.root]]);
  private nextIno = ROOT_INO + 1;

  get size(): number {
    return this.byIno.size;
  }

  get(ino: number): FsNode | undefined {
    return this.byIno.get(ino);
  }

  /** The node at `path` ("/a/b", as path() names it), if it is known. */
  atPath(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    for (const name of path.split('/')) if (name !== '') node = node?.children?.get(name);
    return node;
  }

  child(parent: FsNode, name: string): FsNode | undefined {
    return parent.children?.get(name);
  }

  /** The path inside the mount: "/" for the root, "/a/b" below it. */
  path(node: FsNode): string {
    if (node.parent === undefined) return '/';
    const parts: string[] = [];
    for (let n: FsNode | undefined = node; n?.parent !== undefined; n = n.parent) parts.push(n.name);
    return `/${parts.reverse().join('/')}`;
  }

  /** The path of `name` in the directory `parent`. */
  childPath(parent: FsNode, name: string): string {
    const path = this.path(parent);
    return path === '/' ? `/${name}` : `${path}/${name}`;
  }

  /**
   * The node named `name` in `parent` for a file with attributes `st`, made if new. A name now
   * holding another file (another st_ino or type) gets a new node: the kernel must not mix
   * the old inode's cache with the new file.
   */
  ensure(parent: FsNode, name: string, st: WireStat): FsNode {
    const known = parent.children?.get(name);
    if (known !== undefined) {
      const old = known.attr;
      const replaced = old !== undefined && st.ino !== 0 && (old.ino !== st.ino || (old.mode & 0o170000) !== (st.mode & 0o170000));
      if (!replaced) return known;
      this.detach(parent, name);
    }
    const node = makeNode(this.nextIno++, parent, name);
    (parent.children ??= new Map()).set(name, node);
    this.byIno.set(node.ino, node);
    return node;
  }

  /** `parent/name` is gone (unlinked, or replaced by a rename): its node lives on unnamed until forgotten. */
  detach(parent: FsNode, name: string): FsNode | undefined {
    const node = parent.children?.get(name);
    if (node === undefined) return undefined;
    parent.children?.delete(name);
    node.detached = true;
    this.dropIfUnused(node);
    return node;
  }

  /** Moves `parent/name` to `newParent/newName`; what was there is detached. */
  rename(parent: FsNode, name: string, newParent: FsNode, newName: string): void {
    const node = parent.children?.get(name);
    this.detach(newParent, newName);
    if (node === undefined) return;
    parent.children?.delete(name);
    node.parent = newParent;
    node.name = newName;
    (newParent.children ??= new Map()).set(newName, node);
  }

  /** The kernel forgot `n` lookups of `ino`. */
  forget(ino: number, n: number): FsNode | undefined {
    const node = this.byIno.get(ino);
    if (node === undefined || node === this.root) return undefined;
    node.lookups = Math.max(0, node.lookups - n);
    return this.dropIfUnused(node) ? node : undefined;
  }

  /** Drops a node nobody needs (no lookups, no known children), then its parents if that frees them. */
  dropIfUnused(node: FsNode): boolean {
    let dropped = false;
    for (let n: FsNode | undefined = node; n !== undefined && n !== this.root; ) {
      if (n.lookups > 0 || (n.children !== undefined && n.children.size > 0)) break;
      this.byIno.delete(n.ino);
      const parent: FsNode | undefined = n.parent;
      if (parent !== undefined && parent.children?.get(n.name) === n) parent.children.delete(n.name);
      dropped ||= n === node;
      n = parent;
    }
    return dropped;
  }

  /** Other live names of the file `node` shows (hard links), where the remote gives real inode numbers. */
  sameFile(node: FsNode): FsNode[] {
    const st = node.attr;
    if (st === undefined || st.ino === 0 || st.nlink < 2) return [];
    const out: FsNode[] = [];
    for (const other of this.byIno.values()) if (other !== node && other.attr?.ino === st.ino && other.attr.dev === st.dev) out.push(other);
    return out;
  }
}
