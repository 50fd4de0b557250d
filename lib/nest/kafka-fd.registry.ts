import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subscription } from 'rxjs';
import type { KafkaLog } from '../client/types';
import { redactConfig } from '../config/kafka-config';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { checkTimeout } from '../util/timeout';
import { Poller } from '../poller/poller';
import { Consumer } from '../consumer/consumer';
import { Producer } from '../producer/producer';
import { KafkaFdConsumerDefinition, KafkaFdModuleOptions, KafkaFdProducerDefinition } from './kafka-fd.interfaces';
import { KAFKA_FD_MODULE_OPTIONS } from './kafka-fd.module-definition';
import { DEFAULT_NAME } from './tokens';

/** Nest log level for a syslog level of librdkafka's. */
function logMethod(level: number): 'error' | 'warn' | 'log' | 'debug' {
  if (level <= 3) return 'error';
  if (level === 4) return 'warn';
  if (level <= 6) return 'log';
  return 'debug';
}

/** The kinds of client a module owns, in the order they stop: consumers first (they finish and commit
 * what they took, and may still produce while they do), producers after (they flush what was produced). */
const SHUTDOWN_ORDER = ['consumer', 'producer'] as const;
type ClientKind = (typeof SHUTDOWN_ORDER)[number];

/** What the registry needs of any client it owns. */
interface OwnedClient {
  readonly logs$: Observable<KafkaLog>;
  readonly errors$: Observable<KafkaFdError>;
  /** Before any client closes: producers wait for their acks; consumers stop taking messages, finish their
   * handlers, commit and leave the group (their whole close). */
  flush?(timeoutMs: number): Promise<void>;
  close(options: { timeoutMs: number }): Promise<void>;
}

/**
 * Owns the producers and dedicated pollers of one KafkaFdModule (one per Nest application or testing module:
 * nothing is shared through module-level state). Creates producers on first request, routes their logs to
 * Nest's Logger, and shuts them down with the application: `beforeApplicationShutdown` flushes,
 * `onApplicationShutdown` closes (leaving the pollers, which release their handles, and destroying the
 * handles off the event loop) and completes their streams.
 */
@Injectable()
export class KafkaFdRegistry implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('KafkaFd');
  private readonly pollers = new Map<string, Poller>();
  private readonly producers = new Map<string, Producer>();
  /** Every client by kind; `producers` is the producers' map. */
  private readonly clients = new Map<ClientKind, Map<string, OwnedClient>>([
    ['consumer', new Map()],
    ['producer', this.producers],
  ]);
  private readonly subscriptions: Subscription[] = [];
  private readonly definitions = new Map<string, KafkaFdProducerDefinition>();
  private readonly consumerDefinitions = new Map<string, KafkaFdConsumerDefinition>();
  private readonly consumers = new Map<string, Consumer>();
  private readonly shutdownTimeoutMs: number;

  constructor(@Inject(KAFKA_FD_MODULE_OPTIONS) private readonly options: KafkaFdModuleOptions) {
    if (!options || typeof options.kafka !== 'object') {
      throw new KafkaFdError('KafkaFdModule options need a `kafka` object (librdkafka settings, e.g. bootstrap.servers)', {
        code: 'ERR__INVALID_ARG',
      });
    }
    // Checked now, not at shutdown: Infinity waits without limit, NaN or a negative number is refused.
    this.shutdownTimeoutMs = checkTimeout('KafkaFdModule shutdownTimeoutMs', options.shutdownTimeoutMs === undefined ? 30000 : options.shutdownTimeoutMs);
    for (const [name, pollerOptions] of Object.entries(options.pollers ?? {})) {
      this.pollers.set(name, new Poller({ ...pollerOptions, name }));
    }
    for (const def of options.producers ?? []) this.declare(def);
    for (const def of options.consumers ?? []) this.declareConsumer(def);
    if (options.defaultProducer) {
      this.declare({ ...(options.defaultProducer === true ? {} : options.defaultProducer), name: DEFAULT_NAME });
    }
  }

  /** Records a producer definition (root or feature); a name may be declared once. */
  declare(def: KafkaFdProducerDefinition): void {
    if (!def || typeof def.name !== 'string' || def.name.length === 0) {
      throw new KafkaFdError('a KafkaFdModule producer needs a non-empty `name`', { code: 'ERR__INVALID_ARG' });
    }
    if (this.definitions.has(def.name)) {
      throw new KafkaFdError(`producer '${def.name}' is declared twice in KafkaFdModule`, { code: 'ERR__INVALID_ARG' });
    }
    this.checkPoller('producer', def.name, def.poller);
    this.definitions.set(def.name, def);
  }

  /** Records a consumer definition (root or feature); a name may be declared once. */
  declareConsumer(def: KafkaFdConsumerDefinition): void {
    if (!def || typeof def.name !== 'string' || def.name.length === 0) {
      throw new KafkaFdError('a KafkaFdModule consumer needs a non-empty `name`', { code: 'ERR__INVALID_ARG' });
    }
    if (this.consumerDefinitions.has(def.name)) {
      throw new KafkaFdError(`consumer '${def.name}' is declared twice in KafkaFdModule`, { code: 'ERR__INVALID_ARG' });
    }
    if (def.topics !== undefined && (!Array.isArray(def.topics) || def.topics.some((t) => typeof t !== 'string' || t.length === 0))) {
      throw new KafkaFdError(`consumer '${def.name}': topics must be an array of topic names`, { code: 'ERR__INVALID_ARG' });
    }
    const groupId = def.kafka?.['group.id'] ?? this.options.kafka['group.id'];
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new KafkaFdError(`consumer '${def.name}' needs a 'group.id' in its kafka settings (or the root's)`, { code: 'ERR__INVALID_ARG' });
    }
    this.checkPoller('consumer', def.name, def.poller);
    this.consumerDefinitions.set(def.name, def);
  }

  private checkPoller(kind: ClientKind, name: string, poller: string | undefined): void {
    if (poller === undefined || this.pollers.has(poller)) return;
    const declared = [...this.pollers.keys()];
    throw new KafkaFdError(
      `${kind} '${name}' is bound to poller '${poller}', which is not declared in the root options' pollers ` +
        `(declared: ${declared.length ? declared.map((n) => `'${n}'`).join(', ') : 'none'})`,
      { code: 'ERR__INVALID_ARG' },
    );
  }

  /** The consumer named `name`, created (not subscribed) on first request. */
  consumer(name: string): Consumer {
    const existing = this.consumers.get(name);
    if (existing) return existing;
    const def = this.consumerDefinition(name);
    const consumer = new Consumer({
      kafka: { ...this.options.kafka, ...def.kafka },
      polling: { poller: def.poller ? this.pollers.get(def.poller) : undefined },
      maxInFlight: def.maxInFlight,
      rebalanceTimeoutMs: def.rebalanceTimeoutMs,
      name,
    });
    this.watch('consumer', name, consumer);
    this.consumers.set(name, consumer);
    // Its whole close comes before producers flush: handlers may still produce while they finish.
    this.clients.get('consumer')!.set(name, {
      logs$: consumer.logs$,
      errors$: consumer.errors$,
      flush: (timeoutMs) => consumer.close({ timeoutMs }),
      close: (options) => consumer.close(options),
    });
    return consumer;
  }

  /** The definition of the consumer named `name`. */
  consumerDefinition(name: string): KafkaFdConsumerDefinition {
    const def = this.consumerDefinitions.get(name);
    if (!def) {
      throw new KafkaFdError(`no consumer named '${name}': declare it in KafkaFdModule.forRoot({ consumers }) or KafkaFdModule.forFeature({ consumers })`, {
        code: 'ERR__INVALID_ARG',
      });
    }
    return def;
  }

  /** Every consumer created so far, by name. */
  allConsumers(): ReadonlyMap<string, Consumer> {
    return this.consumers;
  }

  /** The producer named `name`, created and registered with its poller on first request. */
  producer(name: string): Producer {
    const existing = this.producers.get(name);
    if (existing) return existing;
    const def = this.definitions.get(name);
    if (!def) {
      throw new KafkaFdError(
        name === DEFAULT_NAME
          ? 'no default producer: set `defaultProducer: true` in KafkaFdModule.forRoot (or `provides: { defaultProducer: true }` with forRootAsync)'
          : `no producer named '${name}': declare it in KafkaFdModule.forRoot({ producers }) or KafkaFdModule.forFeature()`,
        { code: 'ERR__INVALID_ARG' },
      );
    }
    const producer = new Producer({
      kafka: { ...this.options.kafka, ...def.kafka },
      polling: def.mode === 'thread' ? { mode: 'thread' } : { mode: 'fd', poller: def.poller ? this.pollers.get(def.poller) : undefined },
      queueFull: def.queueFull,
      queueFullTimeoutMs: def.queueFullTimeoutMs,
      name,
    });
    this.watch('producer', name, producer);
    this.producers.set(name, producer);
    return producer;
  }

  /** The dedicated poller named `name`, or the environment's global poller for the default name. */
  poller(name: string): Poller {
    if (name === DEFAULT_NAME && !this.pollers.has(name)) return Poller.global();
    const poller = this.pollers.get(name);
    if (!poller) {
      throw new KafkaFdError(`no poller named '${name}': declare it in KafkaFdModule.forRoot({ pollers: { ${name}: {} } })`, {
        code: 'ERR__INVALID_ARG',
      });
    }
    return poller;
  }

  /** The pollers this module's clients use: its dedicated ones and the environment's global poller. */
  allPollers(): Poller[] {
    return [...this.pollers.values(), Poller.global()];
  }

  /** Every producer created so far, by name. */
  all(): ReadonlyMap<string, Producer> {
    return this.producers;
  }

  /** The configuration of the module with secrets redacted, for diagnostics. */
  describe(): Record<string, unknown> {
    return {
      kafka: redactConfig(this.options.kafka),
      pollers: [...this.pollers.keys()],
      producers: [...this.definitions.keys()],
      consumers: [...this.consumerDefinitions.keys()],
    };
  }

  /**
   * Consumers, then producers, each within the timeout: consumers stop taking messages, finish their handlers,
   * commit and leave; then producers wait for their acks (what the handlers produced included).
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const kind of SHUTDOWN_ORDER) {
      await Promise.all([...this.clients.get(kind)!].map(async ([name, client]) => {
        if (!client.flush) return;
        try {
          await client.flush(this.shutdownTimeoutMs);
        } catch (e) {
          this.logger.error(`${kind} '${name}': ${kind === 'consumer' ? 'close' : 'flush'} before shutdown failed: ${(e as Error).message}`);
        }
      }));
    }
  }

  /** Consumers, then producers: each closed (its handle destroyed off the event loop), its streams completed. */
  async onApplicationShutdown(): Promise<void> {
    for (const kind of SHUTDOWN_ORDER) {
      const clients = this.clients.get(kind)!;
      if (clients.size === 0) continue;
      this.logger.log(`closing ${clients.size} ${kind}(s): ${[...clients.keys()].join(', ')}`);
      await Promise.all([...clients].map(async ([name, client]) => {
        try {
          await client.close({ timeoutMs: this.shutdownTimeoutMs });
        } catch (e) {
          this.logger.error(`${kind} '${name}': close failed: ${(e as Error).message}`);
        }
      }));
    }
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  /** Routes a client's logs to Nest's Logger and its errors to the module's (a fatal one once). */
  private watch(kind: ClientKind, name: string, client: OwnedClient): void {
    if (this.options.logging !== false) {
      const logger = new Logger(`KafkaFd:${name}`);
      this.subscriptions.push(client.logs$.subscribe((l) => logger[logMethod(l.level)](`${l.facility}: ${l.message}`)));
    }
    let fatalLogged = false;
    this.subscriptions.push(client.errors$.subscribe((e) => {
      if (e.fatal) {
        if (!fatalLogged) this.logger.error(`${kind} '${name}': fatal librdkafka error, it accepts no more work: ${e.message}`);
        fatalLogged = true;
      } else {
        this.logger.warn(`${kind} '${name}': ${e.message}`);
      }
    }));
  }
}
