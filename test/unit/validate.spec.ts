import { checkMessage, checkTopic } from '../../lib/producer/validate';

describe('message validation', () => {
  it('accepts every documented shape', () => {
    const fine = [
      { topic: 't', value: 'v' },
      { topic: 't', value: Buffer.from('v'), key: Buffer.from('k') },
      { topic: 't', value: null, key: null, partition: 0 },
      { topic: 't', value: 'v', partition: -1, timestamp: Date.now() },
      { topic: 't', value: 'v', timestamp: new Date() },
      { topic: 't', value: 'v', headers: { a: 'b', c: Buffer.from('d'), e: ['f', 'g'], n: null } },
      { topic: 't', value: 'v', headers: [['a', 'b'], ['a', Buffer.from('c')]] },
    ];
    for (const m of fine) expect(checkMessage(m, undefined)).toBeUndefined();
  });

  it.each([
    [null, /must be an object/],
    [{ topic: 5, value: 'v' }, /topic must be a string/],
    [{ topic: '', value: 'v' }, /invalid topic name/],
    [{ topic: 'has space', value: 'v' }, /invalid topic name/],
    [{ topic: '..', value: 'v' }, /invalid topic name/],
    [{ topic: 'x'.repeat(250), value: 'v' }, /invalid topic name/],
    [{ topic: 't', value: 42 }, /value must be a string, a Buffer or null, got 42/],
    [{ topic: 't', value: {} }, /value must be/],
    [{ topic: 't', value: 'v', key: 1 }, /key must be/],
    [{ topic: 't', value: 'v', partition: 1.5 }, /partition must be an integer/],
    [{ topic: 't', value: 'v', partition: -2 }, /partition must be an integer/],
    [{ topic: 't', value: 'v', partition: '0' }, /partition must be an integer/],
    [{ topic: 't', value: 'v', timestamp: -1 }, /timestamp must be/],
    [{ topic: 't', value: 'v', timestamp: 'now' }, /timestamp must be/],
    [{ topic: 't', value: 'v', timestamp: new Date('nope') }, /timestamp must be/],
    [{ topic: 't', value: 'v', headers: 'a=b' }, /headers must be an object/],
    [{ topic: 't', value: 'v', headers: { a: 1 } }, /header 'a' must be/],
    [{ topic: 't', value: 'v', headers: [['a']] }, /each header pair/],
  ])('rejects %p with a typed error', (message, text) => {
    const error = checkMessage(message, undefined);
    expect(error?.name).toBe('KafkaFdError');
    expect(error?.code).toBe('ERR__INVALID_ARG');
    expect(error?.message).toMatch(text);
  });

  it('checks the topic name only when it changes', () => {
    expect(checkTopic('orders.v1_x-y')).toBeUndefined();
    // The cache trusts a topic that passed before, so an invalid one passed as "last" is not re-checked.
    expect(checkMessage({ topic: 'bad topic', value: 'v' }, 'bad topic')).toBeUndefined();
    expect(checkMessage({ topic: 'bad topic', value: 'v' }, 'other')).toBeDefined();
  });
});
