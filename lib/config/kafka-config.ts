import { KafkaFdError } from '../errors/kafka-fd.error';

/** librdkafka configuration properties (see librdkafka's CONFIGURATION.md); values are passed as strings. */
export type KafkaConfig = Record<string, string | number | boolean>;

// Properties whose values must never appear in an error, a log line or a stream.
const SECRET = /(password|secret|\.pem$|\.key$|sasl\.oauthbearer\.config|_token$|\.token$)/i;

/** Whether a configuration property holds a secret (its value is redacted wherever text leaves us). */
export function isSecretKey(key: string): boolean {
  return SECRET.test(key);
}

/**
 * Flattens a configuration into librdkafka's key/value pairs. A key whose value is `undefined` is left out
 * (so that `{ 'sasl.password': process.env.PASSWORD }` works when unset); any other value that is not a
 * string, a finite number or a boolean is refused rather than turned into text like "[object Object]".
 */
export function flattenConfig(config: KafkaConfig): string[] {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new KafkaFdError(`kafka must be an object of librdkafka properties, got ${config === null ? 'null' : typeof config}`, {
      code: 'ERR__INVALID_ARG',
    });
  }
  const out: string[] = [];
  for (const [key, value] of Object.entries(config) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    const ok = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) {
      throw new KafkaFdError(`configuration '${key}' must be a string, a finite number or a boolean, got ` +
        `${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'number' ? String(value) : typeof value}`, {
        code: 'ERR__INVALID_ARG',
      });
    }
    out.push(key, String(value));
  }
  return out;
}

/** Returns a function that replaces every secret value of `config` found in a text by `[redacted]`. */
export function secretRedactor(config: KafkaConfig): (text: string) => string {
  const secrets = Object.entries(config)
    .filter(([key, value]) => isSecretKey(key) && String(value).length > 0)
    .map(([, value]) => String(value))
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/** A copy of `config` with secret values replaced, for logs and diagnostics. */
export function redactConfig(config: KafkaConfig): KafkaConfig {
  const out: KafkaConfig = {};
  for (const [key, value] of Object.entries(config)) out[key] = isSecretKey(key) ? '[redacted]' : value;
  return out;
}
