/**
 * librdkafka error names that a later attempt may get past (a broker coming back, space in the queue).
 * `KafkaFdError.retriable` is derived from this list unless the error says otherwise.
 */
const RETRIABLE = new Set<string>([
  'ERR__QUEUE_FULL',
  'ERR__TRANSPORT',
  'ERR__TIMED_OUT',
  'ERR__MSG_TIMED_OUT',
  'ERR__ALL_BROKERS_DOWN',
  'ERR__TIMED_OUT_QUEUE',
  'ERR_REQUEST_TIMED_OUT',
  'ERR_NOT_LEADER_FOR_PARTITION',
  'ERR_LEADER_NOT_AVAILABLE',
  'ERR_NOT_ENOUGH_REPLICAS',
  'ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'ERR_NETWORK_EXCEPTION',
  'ERR_COORDINATOR_LOAD_IN_PROGRESS',
  'ERR_COORDINATOR_NOT_AVAILABLE',
  'ERR_NOT_COORDINATOR',
]);

/** Properties of a {@link KafkaFdError} beyond its message. */
export interface KafkaFdErrorProps {
  /** librdkafka's error name, e.g. `ERR__STATE`, `ERR_TOPIC_AUTHORIZATION_FAILED`, `ERR__INVALID_ARG`. */
  code: string;
  /** A later attempt may succeed. Derived from `code` when not given. */
  retriable?: boolean;
  /** The producer cannot go on: close it and create a new one. */
  fatal?: boolean;
  /** The transaction must be aborted before the producer can go on. */
  txnRequiresAbort?: boolean;
  /** The failure's cause, where there is one. */
  cause?: unknown;
}

/**
 * The one error type of nestjs-kafka-fd: configuration rejected by librdkafka, bad messages, delivery
 * failures, a closed producer. `code` is librdkafka's error name, so errors can be matched without parsing
 * messages.
 */
export class KafkaFdError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly fatal: boolean;
  readonly txnRequiresAbort: boolean;

  constructor(message: string, props: KafkaFdErrorProps) {
    super(message, props.cause === undefined ? undefined : { cause: props.cause });
    this.name = 'KafkaFdError';
    this.code = props.code;
    this.retriable = props.retriable ?? RETRIABLE.has(props.code);
    this.fatal = props.fatal ?? false;
    this.txnRequiresAbort = props.txnRequiresAbort ?? false;
  }

  /** Whether `code` names an error that a later attempt may get past. */
  static isRetriableCode(code: string): boolean {
    return RETRIABLE.has(code);
  }
}
