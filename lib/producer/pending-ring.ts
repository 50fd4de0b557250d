/**
 * Who waits for which message, indexed by message id: a ring of parallel arrays, grown when an id would
 * land on a slot still taken. No Map entry and no object per message: the promise path stores the
 * promise's resolve/reject, a batch stores its shared record, `produceAsync` stores only the topic.
 */
export class PendingRing<Owner> {
  private ids: Float64Array;
  private owners: Array<Owner | undefined>;
  private rejects: Array<((e: unknown) => void) | undefined>;
  private topics: Array<string | undefined>;
  private size = 0;

  constructor(capacity = 1024) {
    this.ids = new Float64Array(capacity);
    this.owners = new Array(capacity).fill(undefined);
    this.rejects = new Array(capacity).fill(undefined);
    this.topics = new Array(capacity).fill(undefined);
  }

  /** Messages waiting for their report. */
  get count(): number {
    return this.size;
  }

  put(id: number, topic: string, owner: Owner | undefined, reject: ((e: unknown) => void) | undefined): void {
    let slot = id % this.ids.length;
    if (this.ids[slot] !== 0) {
      this.grow();
      slot = id % this.ids.length;
    }
    this.ids[slot] = id;
    this.owners[slot] = owner;
    this.rejects[slot] = reject;
    this.topics[slot] = topic;
    this.size++;
  }

  /** The slot holding `id`, or -1. Read it with owner/reject/topic, then free it with release(). */
  find(id: number): number {
    const slot = id % this.ids.length;
    return this.ids[slot] === id ? slot : -1;
  }

  owner(slot: number): Owner | undefined {
    return this.owners[slot];
  }

  reject(slot: number): ((e: unknown) => void) | undefined {
    return this.rejects[slot];
  }

  topic(slot: number): string | undefined {
    return this.topics[slot];
  }

  release(slot: number): void {
    this.ids[slot] = 0;
    this.owners[slot] = undefined;
    this.rejects[slot] = undefined;
    this.topics[slot] = undefined;
    this.size--;
  }

  /** Every id still waiting (for close: fail what never got a report). */
  waitingIds(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== 0) out.push(this.ids[i]);
    return out.sort((a, b) => a - b);
  }

  private grow(): void {
    // Doubling until every live id has a slot of its own: ids in flight are a contiguous-ish window, so
    // this ends as soon as the ring is larger than that window.
    let capacity = this.ids.length * 2;
    for (;;) {
      const ids = new Float64Array(capacity);
      let clash = false;
      for (let i = 0; i < this.ids.length && !clash; i++) {
        const id = this.ids[i];
        if (id !== 0) {
          if (ids[id % capacity] !== 0) clash = true;
          else ids[id % capacity] = id;
        }
      }
      if (clash) {
        capacity *= 2;
        continue;
      }
      const owners = new Array<Owner | undefined>(capacity).fill(undefined);
      const rejects = new Array<((e: unknown) => void) | undefined>(capacity).fill(undefined);
      const topics = new Array<string | undefined>(capacity).fill(undefined);
      for (let i = 0; i < this.ids.length; i++) {
        const id = this.ids[i];
        if (id === 0) continue;
        const slot = id % capacity;
        owners[slot] = this.owners[i];
        rejects[slot] = this.rejects[i];
        topics[slot] = this.topics[i];
      }
      this.ids = ids;
      this.owners = owners;
      this.rejects = rejects;
      this.topics = topics;
      return;
    }
  }
}
