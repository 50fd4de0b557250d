// `npm run sample:core`: the smallest useful program without Nest: a producer served by the event loop's fd poller, on the embedded broker
// (librdkafka's mock cluster) unless KAFKA_BROKERS names a real one. Prints each ack, one stats line, the
// poller's metrics, and closes cleanly. (The NestJS sample app lives beside it once the module lands.)
import { MockCluster, Poller, Producer, librdkafkaVersion } from '../lib/core';

async function main(): Promise<void> {
  const mock = process.env.KAFKA_BROKERS ? undefined : MockCluster.start({ brokers: 1, topics: { orders: 3 } });
  const brokers = process.env.KAFKA_BROKERS ?? mock!.bootstrapServers;
  console.log(`librdkafka ${librdkafkaVersion()}, ${mock ? 'embedded mock cluster' : 'broker'} at ${brokers}`);

  const producer = new Producer({ kafka: { 'bootstrap.servers': brokers, 'statistics.interval.ms': 500 } });
  let acked = 0;
  let failed = 0;
  producer.acks$.subscribe((r) => (r.error ? failed++ : acked++));
  producer.errors$.subscribe((e) => console.error(`error ${e.code}: ${e.message}`));
  const stats = new Promise<void>((resolve) => producer.stats$.subscribe((s) => {
    console.log(`stats: ${s.txmsgs} messages sent, ${s.msg_cnt} in queue`);
    resolve();
  }));

  for (let i = 1; i <= 5; i++) {
    const r = await producer.produce({ topic: 'orders', key: `order-${i}`, value: JSON.stringify({ id: i, total: 10 * i }) });
    console.log(`order-${i} acked: ${r.topic}[${r.partition}] offset ${r.offset}`);
  }
  await producer.produceMany(Array.from({ length: 1000 }, (_, i) => ({ topic: 'orders', value: `bulk-${i}` })));
  console.log(`acks$ saw ${acked} delivered, ${failed} failed`);
  // An idle producer never keeps the process alive, so give the statistics timer a real timer to wait on.
  await Promise.race([stats, new Promise((resolve) => setTimeout(resolve, 3000))]);
  console.log('poller metrics:', Poller.global().metrics());
  await producer.close();
  await mock?.close();
  console.log('closed');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
