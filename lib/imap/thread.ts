/**
 * THREAD algorithms (RFC 5256 3, 4): ORDEREDSUBJECT, REFERENCES, and REFS
 * (draft-ietf-morg-inthread as Dovecot 2.3 implements it: REFERENCES without the subject
 * merge of step 5, threads ordered by their latest message).
 *
 * ```abnf
 * thread-data   = "THREAD" [SP 1*thread-list]
 * thread-list   = "(" (thread-members / thread-nested) ")"
 * thread-members = nz-number *(SP nz-number) [SP thread-nested]
 * thread-nested = 2*thread-list
 * ```
 * Sans-IO: messages come in as plain records, threads go out as a tree of numbers (sequence
 * numbers or UIDs, as the caller numbers them). Loops over the tree use explicit stacks, so
 * a hostile References chain of any length cannot overflow the call stack.
 *
 * @module
 */

import { compareKeys } from "./sort.ts";

/** What threading reads of one message. */
export interface ThreadMessage {
  /** The number written in the response (sequence number or UID). */
  readonly id: number;
  /** Sequence number, for ties. */
  readonly seq: number;
  /** The sent date (or INTERNALDATE when there is none), ms. */
  readonly date: number;
  /** The base subject, case-folded (sort.ts `casemap`). */
  readonly subject: string;
  readonly replyOrForward: boolean;
  /** The message's own Message-ID (without `<>`), or null. */
  readonly messageId: string | null;
  /** Parent Message-IDs, oldest first: References, else In-Reply-To's first id. */
  readonly references: readonly string[];
}

/** A node of the answer: a message, or a dummy (`id` null) grouping its children. */
export interface ThreadNode {
  readonly id: number | null;
  readonly children: ThreadNode[];
}

/** ORDEREDSUBJECT (RFC 5256 3): by base subject, then sent date; threads by first date. */
export function orderedSubject(messages: readonly ThreadMessage[]): ThreadNode[] {
  const sorted = [...messages].sort((a, b) =>
    compareKeys(a.subject, b.subject) || a.date - b.date || a.seq - b.seq
  );
  const threads: Array<{ first: ThreadMessage; node: ThreadNode }> = [];
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j].subject === sorted[i].subject) j++;
    const children = sorted.slice(i + 1, j).map((m) => ({ id: m.id, children: [] }));
    threads.push({ first: sorted[i], node: { id: sorted[i].id, children } });
    i = j;
  }
  threads.sort((a, b) => a.first.date - b.first.date || a.first.seq - b.first.seq);
  return threads.map((thread) => thread.node);
}

/** A container of the REFERENCES algorithm (RFC 5256 4). */
interface Container {
  message: ThreadMessage | null;
  parent: Container | null;
  children: Container[];
  /** Sort date: the message's, or a dummy's first child's (step 6). */
  date: number;
  seq: number;
}

function container(message: ThreadMessage | null): Container {
  return {
    message,
    parent: null,
    children: [],
    date: message?.date ?? 0,
    seq: message?.seq ?? 0,
  };
}

/** Whether `ancestor` is `node` or one of its ancestors. */
function isAncestor(ancestor: Container, node: Container): boolean {
  for (let c: Container | null = node; c !== null; c = c.parent) if (c === ancestor) return true;
  return false;
}

function unlink(child: Container): void {
  const parent = child.parent;
  if (parent === null) return;
  const at = parent.children.indexOf(child);
  if (at >= 0) parent.children.splice(at, 1);
  child.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** Step 1: the containers linked by Message-ID and References; returns the root set. */
function linkContainers(messages: readonly ThreadMessage[]): Container[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const find = (id: string) => {
    let found = byId.get(id);
    if (found === undefined) {
      found = container(null);
      byId.set(id, found);
      all.push(found);
    }
    return found;
  };
  for (const message of messages) {
    // 1A: link the references as parent/child, oldest first, never changing a link and
    // never making a loop.
    let previous: Container | null = null;
    for (const ref of message.references) {
      const current = find(ref);
      // `current` has no parent, so only it can be an ancestor of `previous`, and only if
      // it has children: a new container is skipped without walking up (no quadratic
      // cost for a long References field of new ids).
      if (
        previous !== null && current.parent === null && current !== previous &&
        (current.children.length === 0 || !isAncestor(current, previous))
      ) link(previous, current);
      previous = current;
    }
    // 1B: the message's own container; a duplicate Message-ID counts as none.
    let own: Container;
    const existing = message.messageId === null ? undefined : byId.get(message.messageId);
    if (existing !== undefined && existing.message === null) {
      own = existing;
      own.message = message;
      own.date = message.date;
      own.seq = message.seq;
    } else {
      own = container(message);
      all.push(own);
      if (existing === undefined && message.messageId !== null) byId.set(message.messageId, own);
    }
    // The last reference is the parent, replacing one guessed from others' References.
    const last = previous;
    if (last !== null && (own === last || (own.children.length > 0 && isAncestor(own, last)))) {
      continue;
    }
    unlink(own);
    if (last !== null) link(last, own);
  }
  return all.filter((c) => c.parent === null);
}

/**
 * Step 4: dummies without children go; dummies with children are replaced by them, except
 * that more than one child is not promoted to the root set.
 */
function pruneDummies(roots: Container[], keepRoots: boolean): Container[] {
  // Walked backwards, so children are pruned before parents.
  const order = parentsFirst(roots);
  for (let i = order.length - 1; i >= 0; i--) {
    const c = order[i];
    c.children = promote(c.children, false, c);
  }
  return promote(roots, !keepRoots, null).filter((c) =>
    c.message !== null || c.children.length > 0
  );
}

/**
 * Every container of the trees under `roots`, each before its children (an explicit stack,
 * no recursion: a thread may be deep); read backwards, children come before their parent.
 */
function parentsFirst(roots: readonly Container[]): Container[] {
  const order: Container[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const c = stack.pop()!;
    order.push(c);
    stack.push(...c.children);
  }
  return order;
}

/**
 * The list with dummies replaced by their children; at the root (`atRoot`), a dummy with
 * several children stays; `null` parent means the root, where REFS keeps every dummy.
 */
function promote(list: Container[], atRoot: boolean, parent: Container | null): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    if (c.message !== null) out.push(c);
    else if (c.children.length === 0) continue;
    else if (parent === null && (!atRoot || c.children.length > 1)) out.push(c);
    else {
      for (const child of c.children) {
        child.parent = parent;
        out.push(child);
      }
    }
  }
  return out;
}

/** The message whose subject stands for a container: its own, or a dummy's first child's. */
function subjectMessage(c: Container): ThreadMessage | null {
  return c.message ?? c.children[0]?.message ?? null;
}

/** Step 5: roots with the same base subject are gathered. */
function mergeSubjects(roots: Container[]): Container[] {
  const table = new Map<string, Container>();
  for (const c of roots) {
    const m = subjectMessage(c);
    if (m === null || m.subject === "") continue;
    const old = table.get(m.subject);
    const oldMessage = old && subjectMessage(old);
    // A dummy replaces a message, a message that is no reply replaces a reply; a dummy in
    // the table stays (as Dovecot reads RFC 5256 5.B.iii).
    if (
      old === undefined ||
      (old.message !== null &&
        (c.message === null || (oldMessage!.replyOrForward && !m.replyOrForward)))
    ) table.set(m.subject, c);
  }
  const removed = new Set<Container>();
  const replaced = new Map<Container, Container>();
  for (const c of roots) {
    // Already placed under a new dummy as the table's container.
    if (c.parent !== null) continue;
    const m = subjectMessage(c);
    const found = m === null || m.subject === "" ? undefined : table.get(m.subject);
    if (found === undefined || found === c) continue;
    removed.add(c);
    if (found.message === null && c.message === null) {
      for (const child of c.children) link(found, child);
      c.children = [];
    } else if (found.message === null) link(found, c);
    else if (c.message !== null && !found.message.replyOrForward && c.message.replyOrForward) {
      link(found, c);
    } else {
      const dummy = container(null);
      link(dummy, found);
      link(dummy, c);
      table.set(m!.subject, dummy);
      replaced.set(found, dummy);
    }
  }
  return roots.map((c) => replaced.get(c) ?? c).filter((c) => !removed.has(c) && c.parent === null);
}

/** Step 6: siblings by date (a dummy by its first child's), then sequence number. */
function sortSiblings(roots: Container[], byLatest: boolean): Container[] {
  const order = parentsFirst(roots);
  const compare = (a: Container, b: Container) => a.date - b.date || a.seq - b.seq;
  // REFS: threads by their latest message; ties by the root's number, a dummy first.
  const byRoot = (a: Container, b: Container) => (a.message?.seq ?? 0) - (b.message?.seq ?? 0);
  const latest = new Map<Container, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const c = order[i];
    c.children.sort(compare);
    if (c.message === null && c.children.length > 0) {
      c.date = c.children[0].date;
      c.seq = c.children[0].seq;
    }
    if (byLatest) {
      let max = c.message?.date ?? -Infinity;
      for (const child of c.children) max = Math.max(max, latest.get(child)!);
      latest.set(c, max);
    }
  }
  if (!byLatest) return roots.sort(compare);
  return roots.sort((a, b) => latest.get(a)! - latest.get(b)! || byRoot(a, b));
}

function toNodes(roots: Container[]): ThreadNode[] {
  const convert = (c: Container): ThreadNode => ({ id: c.message?.id ?? null, children: [] });
  const out = roots.map(convert);
  const stack: Array<[Container, ThreadNode]> = roots.map((c, i) => [c, out[i]]);
  while (stack.length > 0) {
    const [c, node] = stack.pop()!;
    for (const child of c.children) {
      const n = convert(child);
      node.children.push(n);
      stack.push([child, n]);
    }
  }
  return out;
}

/**
 * REFERENCES (RFC 5256 4), or REFS with `refs`: no subject merge, and threads ordered by
 * their most recent message (as Dovecot's THREAD=REFS).
 */
export function referencesThreads(
  messages: readonly ThreadMessage[],
  refs = false,
): ThreadNode[] {
  let roots = pruneDummies(linkContainers(messages), refs);
  // Sorted before the subject merge too: a dummy's subject is its oldest child's.
  roots = sortSiblings(roots, refs);
  if (!refs) roots = sortSiblings(mergeSubjects(roots), false);
  // REFS keeps a dummy root with one child for ordering, and writes the child in its place
  // (Dovecot's writer).
  else roots = roots.map((c) => c.message === null && c.children.length === 1 ? c.children[0] : c);
  return toNodes(roots);
}

/**
 * The `thread-list`s of a THREAD response (without `THREAD`): a chain of single children is
 * written flat, a branch as one parenthesised list per child. `number` turns node ids into
 * the numbers written (UIDs into sequence numbers).
 *
 * @example
 * ```ts
 * formatThreads([{ id: 1, children: [{ id: 2, children: [] }, { id: 3, children: [] }] }]);
 * // "(1 (2)(3))"
 * ```
 */
export function formatThreads(
  threads: readonly ThreadNode[],
  number: (id: number) => number = (id) => id,
): string {
  let out = "";
  // Items are nodes to write, or closing text.
  const stack: Array<ThreadNode | string> = [];
  for (let i = threads.length - 1; i >= 0; i--) stack.push(")", threads[i], "(");
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === "string") {
      out += item;
      continue;
    }
    if (item.id !== null) out += number(item.id);
    const { children } = item;
    if (children.length === 0) continue;
    if (children.length === 1 && item.id !== null) {
      stack.push(children[0], " ");
      continue;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(")", children[i], "(");
    if (item.id !== null) stack.push(" ");
  }
  return out;
}
