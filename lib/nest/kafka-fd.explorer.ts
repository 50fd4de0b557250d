import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { runPipeline } from '../consumer/pipeline';
import type { ConsumedBatch, ConsumedMessage } from '../consumer/types';
import type { Transaction } from '../producer/transactions';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { KAFKA_FD_HANDLER, KafkaFdHandlerOptions } from './decorators';
import { KafkaFdRegistry } from './kafka-fd.registry';

interface FoundHandler extends KafkaFdHandlerOptions {
  consumer: string;
  /** `Class.method`, for messages. */
  where: string;
  call: (arg: ConsumedMessage | ConsumedBatch, tx?: Transaction) => unknown;
}

/**
 * Finds the provider methods decorated `@KafkaFdHandler(consumer)` once the application has bootstrapped
 * (every provider exists and `onModuleInit` has run), and starts each named consumer with its handler:
 * subscribe to the definition's topics, then run. A handler naming an undeclared consumer, two handlers for one
 * consumer, or a consumer with a handler and no topics fail the bootstrap with a KafkaFdError.
 */
@Injectable()
export class KafkaFdExplorer implements OnApplicationBootstrap {
  private readonly logger = new Logger('KafkaFd');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: KafkaFdRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const found = this.handlers();
    for (const h of found.values()) {
      const def = this.registry.consumerDefinition(h.consumer);
      if (!def.topics || def.topics.length === 0) {
        throw new KafkaFdError(`consumer '${h.consumer}' has a handler (${h.where}) but no topics: set \`topics\` in its definition`, {
          code: 'ERR__INVALID_ARG',
        });
      }
    }
    for (const h of found.values()) {
      const def = this.registry.consumerDefinition(h.consumer);
      const consumer = this.registry.consumer(h.consumer);
      await consumer.subscribe(def.topics!);
      if (h.transactional) {
        const { producer: name, ...retry } = typeof h.transactional === 'string' ? { producer: h.transactional } : h.transactional;
        const producer = this.registry.producer(name);
        // A restarted instance fences its predecessor before it takes any partition (see initTransactions).
        await producer.initTransactions();
        await runPipeline(consumer, producer, (b, tx) => h.call(b, tx), { partitionsConcurrently: def.partitionsConcurrently, ...retry });
      } else {
        await consumer.run({
          partitionsConcurrently: def.partitionsConcurrently,
          ...(h.batch ? { eachBatch: (b: ConsumedBatch) => h.call(b) } : { eachMessage: (m: ConsumedMessage) => h.call(m) }),
        });
      }
      this.logger.log(`consumer '${h.consumer}' runs ${h.where} on ${def.topics!.join(', ')}`);
    }
  }

  /** Every decorated method, by consumer name. */
  private handlers(): Map<string, FoundHandler> {
    const found = new Map<string, FoundHandler>();
    for (const wrapper of this.discovery.getProviders()) {
      // Request-scoped and transient providers have no single instance to bind a consumer to.
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const meta = this.reflector.get<(KafkaFdHandlerOptions & { consumer: string }) | undefined>(KAFKA_FD_HANDLER, fn);
        if (!meta) continue;
        const where = `${instance.constructor?.name ?? 'provider'}.${method}`;
        this.registry.consumerDefinition(meta.consumer); // refuses an undeclared consumer by name
        const taken = found.get(meta.consumer);
        if (taken) {
          throw new KafkaFdError(`consumer '${meta.consumer}' has two handlers (${taken.where} and ${where}): one per consumer`, {
            code: 'ERR__INVALID_ARG',
          });
        }
        found.set(meta.consumer, { ...meta, where, call: (arg, tx) => (fn as (a: unknown, t?: Transaction) => unknown).call(instance, arg, tx) });
      }
    }
    return found;
  }
}
