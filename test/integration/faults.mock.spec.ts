// Broker faults from librdkafka's mock cluster under an idempotent stream: every message acked once, and
// the topic, read back by an independent consumer (kcat), holds each message once, in order per partition.
import { MockCluster, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { checkReadback, streamMessages, watchRetries } from '../support/stream';

// Kafka's error codes, as the mock cluster injects them into Produce (API key 0) responses.
const PRODUCE = 0;
const NOT_LEADER_OR_FOLLOWER = 6;
const REQUEST_TIMED_OUT = 7;

describe('faults on the mock cluster', () => {
  it('100,000 idempotent messages from 5 producers survive a broker down/up, request errors and leader moves', async () => {
    const mock = MockCluster.start({ brokers: 3 });
    mock.createTopic('faults', 6, 3);
    const producers = Array.from({ length: 5 }, () => new Producer({
      kafka: { 'bootstrap.servers': mock.bootstrapServers, 'enable.idempotence': true, 'message.timeout.ms': 120000, 'statistics.interval.ms': 500 },
    }));
    const retries = watchRetries(producers);
    try {
      const done: string[] = [];
      const fault = (at: number, sent: number, what: string, act: () => void): void => {
        if (sent >= at && !done.includes(what)) {
          done.push(what);
          act();
        }
      };
      const outcome = await streamMessages(producers, 'faults', 20000, async (sent) => {
        fault(15000, sent, 'request errors', () => mock.pushRequestErrors(PRODUCE, [NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT]));
        fault(30000, sent, 'leaders moved', () => {
          for (let partition = 0; partition < 6; partition++) mock.setPartitionLeader('faults', partition, 1 + ((partition + 1) % 3));
        });
        fault(50000, sent, 'broker 2 down', () => mock.brokerDown(2));
        if (sent >= 65000 && !done.includes('broker 2 up')) {
          await new Promise((r) => setTimeout(r, 1000));
          fault(65000, sent, 'broker 2 up', () => mock.brokerUp(2));
        }
        fault(80000, sent, 'more request errors', () => mock.pushRequestErrors(PRODUCE, [REQUEST_TIMED_OUT, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER]));
      });
      expect(done).toHaveLength(5);
      expect(outcome.failures).toEqual([]);
      expect(outcome.delivered).toBe(100000);
      const read = await consumeAll('faults', 100000, 60000, mock.bootstrapServers);
      expect(checkReadback(read, 5, 20000)).toEqual({ read: 100000, missing: 0, duplicates: 0, outOfOrder: 0 });
      // The faults were felt: librdkafka transmitted messages again after the failed requests.
      await new Promise((r) => setTimeout(r, 600));
      expect(retries.transmitted()).toBeGreaterThan(100000);
      process.stdout.write(`faults.mock: ${JSON.stringify({ delivered: outcome.delivered, ms: outcome.ms, failures: outcome.failures.length,
        retriedRequests: retries.retriedRequests(), retransmitted: retries.transmitted() - 100000, read: read.length })}\n`);
    } finally {
      await Promise.all(producers.map((p) => p.close({ timeoutMs: 5000 })));
      await mock.close();
    }
  }, 240000);
});
