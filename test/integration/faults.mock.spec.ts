// Broker faults from librdkafka's mock cluster under an idempotent stream: every message acked once, and
// the topic, read back by an independent consumer (kcat), holds each message where its report said, in order
// per partition, save what the mock cluster itself cannot keep (below).
import { MockCluster, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { checkOffsets, checkReadback, streamMessages, watchRetries } from '../support/stream';

// Kafka's error codes, as the mock cluster injects them into Produce (API key 0) responses.
const PRODUCE = 0;
const NOT_LEADER_OR_FOLLOWER = 6;
const REQUEST_TIMED_OUT = 7;

/** The leader each partition is moved to mid-stream: brokers 2, 3, 1, 2, 3, 1. */
const leaderAfterMove = (partition: number): number => 1 + ((partition + 1) % 3);

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
          for (let partition = 0; partition < 6; partition++) mock.setPartitionLeader('faults', partition, leaderAfterMove(partition));
        });
        if (sent >= 50000 && !done.includes('broker 2 down')) {
          // Broker 2 holds its responses for 1 s before it goes down, so that requests it appended lose theirs.
          mock.setRtt(2, 1000);
          await new Promise((r) => setTimeout(r, 300));
          fault(50000, sent, 'broker 2 down', () => mock.brokerDown(2));
        }
        if (sent >= 65000 && !done.includes('broker 2 up')) {
          await new Promise((r) => setTimeout(r, 1000));
          fault(65000, sent, 'broker 2 up', () => {
            mock.setRtt(2, 0);
            mock.brokerUp(2);
          });
        }
        fault(80000, sent, 'more request errors', () => mock.pushRequestErrors(PRODUCE, [REQUEST_TIMED_OUT, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER]));
      });
      expect(done).toHaveLength(5);
      expect(outcome.failures).toEqual([]);
      expect(outcome.delivered).toBe(100000);
      // kcat reads until the log holds at least what was reported with an offset (the rest: below).
      const withOffset = [...outcome.reports.values()].filter((r) => r.offset >= 0).length;
      const read = await consumeAll('faults', withOffset, 60000, mock.bootstrapServers);
      // librdkafka 2.0.2's mock checks producer sequences only for transactional producers
      // (rd_kafka_mock_validate_records returns early without a TransactionalId), so two of the idempotent
      // producer's guarantees are the mock's to break, not ours: a request it appended whose response was lost
      // with the connection is appended again on retry (Kafka answers DUPLICATE_SEQUENCE_NUMBER), and a request
      // it accepts after one that failed or timed out (Kafka answers OUT_OF_ORDER_SEQUENCE_NUMBER) makes
      // librdkafka, rightly for Kafka, report the earlier messages delivered without an offset
      // (rd_kafka_dr_implicit_ack) though the mock never stored them. What is ours holds whatever the faults:
      // every report with an offset names the message at that offset, every message missing was reported
      // without one, each producer's messages are in order, and copies are only in broker 2's partitions.
      // The real-broker fault tests assert no copy and nothing missing at all.
      const check = checkReadback(read, 5, 20000);
      const offsets = checkOffsets(read, outcome.reports);
      process.stdout.write(`faults.mock readback: ${JSON.stringify({ ...check, ...offsets })}\n`); // before the assertions: on failure too
      expect({ misplaced: offsets.misplaced, missingWithOffset: offsets.missingWithOffset, outOfOrder: check.outOfOrder })
        .toEqual({ misplaced: 0, missingWithOffset: 0, outOfOrder: 0 });
      expect(check.missing).toBeLessThanOrEqual(offsets.withoutOffset);
      const ledByBroker2 = [0, 1, 2, 3, 4, 5].filter((partition) => leaderAfterMove(partition) === 2);
      expect(Object.keys(check.duplicatesIn).map(Number).filter((partition) => !ledByBroker2.includes(partition))).toEqual([]);
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
