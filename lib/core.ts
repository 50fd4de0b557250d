// The core without NestJS: `import { Producer } from 'nestjs-kafka-fd/core'` needs no Nest packages.
export { KafkaFdError } from './errors/kafka-fd.error';
export type { KafkaFdErrorProps } from './errors/kafka-fd.error';
export { redactConfig, isSecretKey } from './config/kafka-config';
export type { KafkaConfig } from './config/kafka-config';
export { Poller } from './poller/poller';
export type { PollerOptions, PollerMetrics } from './poller/poller';
export { Producer } from './producer/producer';
export type {
  BatchReport, CloseOptions, DeliveryReport, KafkaBytes, KafkaLog, KafkaStats, Message, MessageHeaders,
  PollingOptions, ProducerHealth, ProducerOptions,
} from './producer/types';
export type { Transaction, TransactionOptions } from './producer/transactions';
export { Consumer } from './consumer/consumer';
export { runPipeline } from './consumer/pipeline';
export type { PipelineOptions } from './consumer/pipeline';
export type {
  CommitOptions, ConsumedBatch, ConsumedMessage, ConsumerCloseOptions, ConsumerLag, ConsumerOptions, Rebalance, RunOptions, TopicPartition,
  TopicPartitionOffset,
} from './consumer/types';
export { MockCluster } from './mock/mock-cluster';
export type { MockClusterOptions } from './mock/mock-cluster';
export { librdkafkaVersion } from './native/binding';
export { TRACING_CHANNELS, withHeader } from './diagnostics/channels';
export type { CommitTraceContext, ProcessTraceContext, ProduceTraceContext } from './diagnostics/channels';
