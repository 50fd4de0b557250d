import { describeError } from '../native/binding';
import { KafkaFdError } from './kafka-fd.error';

/** A message that failed: librdkafka's name and description of `err`, or `why`, and the topic. */
export function deliveryError(err: number, topic: string, why?: string): KafkaFdError {
  const [name, description] = describeError(err);
  return new KafkaFdError(`${name}: ${why ?? description} (topic '${topic}')`, { code: name });
}

/**
 * A delivery failure reported by the poller. Its stack would only show the poller's dispatch, and capturing
 * it is most of the cost of an Error: a storm of failures (a purge at close, a broker gone past
 * message.timeout.ms) would stall the event loop for seconds. So these are built without one.
 */
export function reportedError(err: number, topic: string, why?: string): KafkaFdError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return deliveryError(err, topic, why);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The error of a client that takes no new work because it is closing or closed. */
export function closedError(kind: string, name: string, closed: boolean): KafkaFdError {
  return new KafkaFdError(
    `${kind} ${name} is ${closed ? 'closed' : 'closing'}: it accepts no more messages; create a new ${kind === 'producer' ? 'Producer' : kind}`,
    { code: 'ERR__STATE' },
  );
}
