/** A log line of librdkafka's. */
export interface KafkaLog {
  /** syslog level: 0 emergency ... 3 error, 4 warning, 6 info, 7 debug. */
  level: number;
  facility: string;
  message: string;
  /** The client's name. */
  producer: string;
}

/** librdkafka's statistics (`statistics.interval.ms`), parsed. See librdkafka's STATISTICS.md. */
export interface KafkaStats {
  name: string;
  client_id: string;
  type: string;
  ts: number;
  time: number;
  msg_cnt: number;
  msg_size: number;
  txmsgs: number;
  tx: number;
  rx: number;
  brokers: Record<string, Record<string, unknown>>;
  topics: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** What a client knows of its state (`Producer.health`). */
export interface ClientHealth {
  closed: boolean;
  /** The fatal error's message, once librdkafka raised one. */
  fatal?: string;
  /** librdkafka said all brokers are down, and no delivery or statistics showed one up since. */
  brokersDown: boolean;
}
