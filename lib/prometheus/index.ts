// nestjs-kafka-fd/prometheus: librdkafka's statistics and our pollers' metrics as Prometheus metrics, named and
// labelled as the established librdkafka exporters name them (`rdkafka_*`, labels `handle` and `type`, broker,
// topic and partition labels), in base units (seconds, bytes). `prom-client` is an optional peer dependency:
// only this entry point loads it.
import { Counter, Gauge, type Registry, register as globalRegistry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { KafkaStats } from '../client/types';
import type { Poller } from '../poller/poller';

/** What can be watched: a Producer or a Consumer (their `stats$`), or a Poller (its `metrics()`). */
export type Watchable = { readonly name: string; readonly stats$: { subscribe(next: (s: KafkaStats) => void): Subscription } } | Poller;

/** Options of {@link KafkaFdPrometheus}. */
export interface KafkaFdPrometheusOptions {
  /** Where the metrics are registered (default: prom-client's global registry, the one `/metrics` endpoints
   * such as @willsoto/nestjs-prometheus serve). */
  registry?: Registry;
  /** The clients and pollers to expose, asked again at each scrape (new ones are watched from then on). */
  source?: () => Iterable<Watchable>;
}

type Labels = Record<string, string | number>;

/** A statistics figure, or undefined when librdkafka did not give a number. */
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Exposes librdkafka's statistics of each watched client (set `statistics.interval.ms`: they come from
 * `stats$`, the last one of each client is what a scrape shows) and each watched poller's metrics (read at the
 * scrape). A closed client's metrics disappear.
 *
 * ```ts
 * const metrics = new KafkaFdPrometheus();
 * metrics.watch(producer); metrics.watch(consumer); metrics.watch(Poller.global());
 * // GET /metrics: await register.metrics()
 * ```
 */
export class KafkaFdPrometheus {
  private readonly latest = new Map<string, KafkaStats>();
  private readonly watched = new Map<object, () => void>();
  private readonly pollers = new Map<Poller, string>();
  private readonly registry: Registry;
  private readonly metricNames: string[] = [];

  constructor(private readonly options: KafkaFdPrometheusOptions = {}) {
    this.registry = options.registry ?? globalRegistry;
    this.define();
  }

  /** Starts exposing a client's statistics or a poller's metrics; returns a function that stops it. */
  watch(target: Watchable): () => void {
    const known = this.watched.get(target);
    if (known) return known;
    let stop: () => void;
    if ('stats$' in target) {
      let handle: string | undefined;
      const subscription = target.stats$.subscribe({
        next: (s: KafkaStats) => {
          handle = s.name;
          this.latest.set(s.name, s);
        },
        // Closed: its figures go with it.
        complete: () => stop(),
      } as never);
      stop = () => {
        subscription.unsubscribe();
        if (handle !== undefined) this.latest.delete(handle);
        this.watched.delete(target);
      };
    } else {
      this.pollers.set(target, target.name);
      stop = () => {
        this.pollers.delete(target);
        this.watched.delete(target);
      };
    }
    this.watched.set(target, stop);
    return stop;
  }

  /** Stops watching everything and removes the metrics from the registry. */
  close(): void {
    for (const stop of [...this.watched.values()]) stop();
    for (const name of this.metricNames) this.registry.removeSingleMetric(name);
  }

  /** Before a scrape: watch what the source has now. */
  private refresh(): void {
    for (const target of this.options.source?.() ?? []) this.watch(target);
  }

  private define(): void {
    const registers = [this.registry];
    const client = ['handle', 'type'];
    const stats = (): KafkaStats[] => {
      this.refresh();
      return [...this.latest.values()];
    };
    const base = (s: KafkaStats): Labels => ({ handle: s.name, type: s.type });
    type Fill = (set: (labels: Labels, v: number | undefined) => void) => void;
    // Each metric is computed at scrape time from the last statistics: reset, then set what exists now. A
    // counter holds librdkafka's total as it is (its figures are totals already).
    const metric = (Kind: typeof Gauge | typeof Counter, name: string, help: string, labelNames: string[], fill: Fill): void => {
      this.metricNames.push(name);
      new Kind({
        name, help, labelNames, registers,
        collect(this: Gauge | Counter) {
          this.reset();
          fill((labels, v) => {
            if (v === undefined) return;
            if (this instanceof Gauge) this.set(labels, v);
            else if (v >= 0) this.inc(labels, v);
          });
        },
      });
    };
    const gauge = (name: string, help: string, labelNames: string[], fill: Fill): void => metric(Gauge, name, help, labelNames, fill);
    const counter = (name: string, help: string, labelNames: string[], fill: Fill): void => metric(Counter, name, help, labelNames, fill);
    const each = (fn: (s: KafkaStats) => void): void => stats().forEach(fn);

    gauge('rdkafka_msg_cnt', 'Messages in the producer\'s queues, waiting to be sent or for their delivery report', client,
      (set) => each((s) => set(base(s), num(s.msg_cnt))));
    gauge('rdkafka_msg_size_bytes', 'Bytes of the messages in the producer\'s queues', client, (set) => each((s) => set(base(s), num(s.msg_size))));
    gauge('rdkafka_replyq', 'Events waiting to be served by the application (delivery reports, logs, statistics)', client,
      (set) => each((s) => set(base(s), num(s.replyq))));
    counter('rdkafka_txmsgs_total', 'Messages sent to brokers', client, (set) => each((s) => set(base(s), num(s.txmsgs))));
    counter('rdkafka_txmsg_bytes_total', 'Bytes of messages sent to brokers', client, (set) => each((s) => set(base(s), num(s.txmsg_bytes))));
    counter('rdkafka_rxmsgs_total', 'Messages received from brokers', client, (set) => each((s) => set(base(s), num(s.rxmsgs))));
    counter('rdkafka_rxmsg_bytes_total', 'Bytes of messages received from brokers', client, (set) => each((s) => set(base(s), num(s.rxmsg_bytes))));
    gauge('rdkafka_broker_rtt_seconds', 'Round-trip time of requests to the broker over the last statistics window', [...client, 'broker', 'nodeid', 'quantile'],
      (set) => each((s) => {
        for (const [broker, b] of Object.entries(s.brokers ?? {})) {
          const nodeid = num(b.nodeid);
          // librdkafka's internal brokers (-1) have no round trips.
          if (nodeid === undefined || nodeid < 0) continue;
          const rtt = b.rtt as Record<string, unknown> | undefined;
          for (const [q, key] of [['0.5', 'p50'], ['0.99', 'p99']] as const) {
            const us = num(rtt?.[key]);
            if (us !== undefined && num(rtt?.cnt)) set({ ...base(s), broker, nodeid, quantile: q }, us / 1e6);
          }
        }
      }));
    gauge('rdkafka_topic_partition_consumer_lag', 'Messages between the committed offset and the partition\'s end (consumers)', [...client, 'topic', 'partition'],
      (set) => each((s) => {
        for (const [topic, t] of Object.entries(s.topics ?? {})) {
          for (const [partition, p] of Object.entries((t.partitions ?? {}) as Record<string, Record<string, unknown>>)) {
            const lag = num(p.consumer_lag);
            if (Number(partition) >= 0 && lag !== undefined && lag >= 0) set({ ...base(s), topic, partition }, lag);
          }
        }
      }));
    const cgrp = (s: KafkaStats): Record<string, unknown> | undefined => s.cgrp as Record<string, unknown> | undefined;
    counter('rdkafka_cgrp_rebalances_total', 'Rebalances of the consumer group (assignments and revocations) seen by this member', client,
      (set) => each((s) => set(base(s), num(cgrp(s)?.rebalance_cnt))));
    gauge('rdkafka_cgrp_assignment_size', 'Partitions assigned to this member', client, (set) => each((s) => set(base(s), num(cgrp(s)?.assignment_size))));

    // The pollers: read at the scrape.
    const pollers = (fn: (labels: Labels, m: ReturnType<Poller['metrics']>) => void): void => {
      this.refresh();
      for (const [poller, name] of this.pollers) fn({ poller: name }, poller.metrics());
    };
    const p = ['poller'];
    counter('kafka_fd_poller_wakeups_total', 'Times a client\'s fd woke the poller', p, (set) => pollers((l, m) => set(l, m.wakeups)));
    counter('kafka_fd_poller_serves_total', 'Serves of a client\'s librdkafka queues', p, (set) => pollers((l, m) => set(l, m.serves)));
    counter('kafka_fd_poller_reports_total', 'Delivery reports and messages handed to JS', p, (set) => pollers((l, m) => set(l, m.reports)));
    counter('kafka_fd_poller_serve_seconds_total', 'Time spent in librdkafka\'s serves', p, (set) => pollers((l, m) => set(l, m.serveMs / 1000)));
    counter('kafka_fd_poller_dispatch_seconds_total', 'Time spent handing batches to JS, JS callbacks included', p,
      (set) => pollers((l, m) => set(l, m.dispatchMs / 1000)));
    counter('kafka_fd_poller_passes_total', 'Passes over the ready clients (at most one per event-loop turn)', p, (set) => pollers((l, m) => set(l, m.passes)));
    counter('kafka_fd_poller_over_budget_total', 'Passes that ran past the turn budget', p, (set) => pollers((l, m) => set(l, m.overBudget)));
    gauge('kafka_fd_poller_pass_max_seconds', 'The longest pass so far (wall time)', p, (set) => pollers((l, m) => set(l, m.passMaxMs / 1000)));
    gauge('kafka_fd_poller_clients', 'Clients registered with the poller', p, (set) => pollers((l, m) => set(l, m.producers)));
  }
}
