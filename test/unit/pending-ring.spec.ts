import { PendingRing } from '../../lib/producer/pending-ring';

describe('PendingRing', () => {
  it('finds each id once and frees its slot', () => {
    const ring = new PendingRing<string>(4);
    ring.put(1, 'a', 'one', undefined);
    ring.put(2, 'b', 'two', undefined);
    const slot = ring.find(2);
    expect(ring.owner(slot)).toBe('two');
    expect(ring.topic(slot)).toBe('b');
    ring.release(slot);
    expect(ring.find(2)).toBe(-1);
    expect(ring.count).toBe(1);
  });

  it('grows when ids in flight outnumber its slots, keeping every entry', () => {
    const ring = new PendingRing<number>(4);
    for (let id = 1; id <= 1000; id++) ring.put(id, 't', id * 10, undefined);
    expect(ring.count).toBe(1000);
    // Out of order, as partitions ack independently.
    for (let id = 1000; id >= 1; id -= 2) {
      const slot = ring.find(id);
      expect(ring.owner(slot)).toBe(id * 10);
      ring.release(slot);
    }
    expect(ring.count).toBe(500);
    expect(ring.waitingIds()).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i + 1));
  });

  it('handles a long-stuck id among later ones', () => {
    const ring = new PendingRing<number>(8);
    ring.put(1, 't', 1, undefined);
    for (let id = 2; id < 5000; id++) {
      ring.put(id, 't', id, undefined);
      ring.release(ring.find(id));
    }
    expect(ring.owner(ring.find(1))).toBe(1);
  });
});
