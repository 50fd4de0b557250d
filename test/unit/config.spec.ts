import { flattenConfig, isSecretKey, redactConfig, secretRedactor } from '../../lib/config/kafka-config';
import { KafkaFdError } from '../../lib';

describe('configuration', () => {
  it('flattens values to strings', () => {
    expect(flattenConfig({ 'linger.ms': 5, 'enable.idempotence': true, acks: 'all' })).toEqual([
      'linger.ms', '5', 'enable.idempotence', 'true', 'acks', 'all',
    ]);
  });

  it('knows which keys hold secrets', () => {
    for (const k of ['sasl.password', 'ssl.key.password', 'ssl.keystore.password', 'ssl.key.pem', 'sasl.oauthbearer.client.secret']) {
      expect(isSecretKey(k)).toBe(true);
    }
    for (const k of ['bootstrap.servers', 'sasl.username', 'acks']) expect(isSecretKey(k)).toBe(false);
  });

  it('redacts secret values from any text and from a config copy', () => {
    const config = { 'sasl.password': 'hunter2', 'ssl.key.password': 'k3y', 'bootstrap.servers': 'b:9092' };
    const redact = secretRedactor(config);
    expect(redact('auth failed for hunter2 with k3y at b:9092')).toBe('auth failed for [redacted] with [redacted] at b:9092');
    expect(redactConfig(config)).toEqual({ 'sasl.password': '[redacted]', 'ssl.key.password': '[redacted]', 'bootstrap.servers': 'b:9092' });
  });
});

describe('KafkaFdError', () => {
  it('derives retriable from the code and keeps fatal', () => {
    expect(new KafkaFdError('x', { code: 'ERR__QUEUE_FULL' }).retriable).toBe(true);
    expect(new KafkaFdError('x', { code: 'ERR__INVALID_ARG' }).retriable).toBe(false);
    const fatal = new KafkaFdError('x', { code: 'ERR__FATAL', fatal: true });
    expect(fatal.fatal).toBe(true);
    expect(fatal).toBeInstanceOf(Error);
    expect(fatal.name).toBe('KafkaFdError');
  });
});
